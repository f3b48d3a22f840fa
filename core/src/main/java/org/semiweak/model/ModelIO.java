package org.semiweak.model;

import org.semiweak.util.HadoopFiles;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * Stores a model in a folder of any Hadoop file system: {@code model.json} (the {@link ModelSpec})
 * and {@code weights.bin} ({@link ModelWeights#toBytes()}).
 *
 * <p>Each file is written under a temporary name and then renamed, so a reader never sees a
 * half-written file.
 *
 * <pre>{@code
 * ModelIO.write(fs, new Path(runDir, "teacher/model"), spec, weights);
 * ModelIO.Loaded m = ModelIO.read(fs, new Path(runDir, "teacher/model"));
 * }</pre>
 */
public final class ModelIO {
  public static final String SPEC_FILE = "model.json";
  public static final String WEIGHTS_FILE = "weights.bin";

  private ModelIO() {}

  /** A model read back from storage. */
  public record Loaded(ModelSpec spec, ModelWeights weights) {}

  /** Writes spec and weights into {@code dir} (created if needed), replacing earlier files. */
  public static void write(FileSystem fs, Path dir, ModelSpec spec, ModelWeights weights) {
    try {
      fs.mkdirs(dir);
      HadoopFiles.writeAtomically(fs, new Path(dir, SPEC_FILE), spec.toJson().getBytes(StandardCharsets.UTF_8));
      HadoopFiles.writeAtomically(fs, new Path(dir, WEIGHTS_FILE), weights.toBytes());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write model to " + dir + ": " + e.getMessage(), e);
    }
  }

  /**
   * Reads a model written by {@link #write}.
   *
   * @throws IllegalArgumentException if a file is missing or malformed, naming the file
   */
  public static Loaded read(FileSystem fs, Path dir) {
    Path specPath = new Path(dir, SPEC_FILE);
    Path weightsPath = new Path(dir, WEIGHTS_FILE);
    ModelSpec spec;
    try {
      spec = ModelSpec.fromJson(new String(readFully(fs, specPath), StandardCharsets.UTF_8));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("cannot read model spec " + specPath + ": " + e.getMessage(), e);
    }
    ModelWeights weights;
    try {
      weights = ModelWeights.fromBytes(readFully(fs, weightsPath));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("cannot read model weights " + weightsPath + ": " + e.getMessage(), e);
    }
    return new Loaded(spec, weights);
  }

  /**
   * Reads a whole file.
   *
   * @throws IllegalArgumentException if it does not exist
   */
  public static byte[] readFully(FileSystem fs, Path path) {
    try {
      if (!fs.exists(path)) {
        throw new IllegalArgumentException("file not found: " + path);
      }
      try (InputStream in = fs.open(path)) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        in.transferTo(out);
        return out.toByteArray();
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + path + ": " + e.getMessage(), e);
    }
  }
}
