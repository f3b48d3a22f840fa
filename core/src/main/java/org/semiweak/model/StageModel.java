package org.semiweak.model;

import org.semiweak.run.result.ModelDescription;

import ai.djl.Device;
import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.semiweak.run.RunDir;
import org.semiweak.run.StageId;
import org.semiweak.util.Fingerprint;
import org.semiweak.util.HadoopFiles;
import org.semiweak.util.Json;

/**
 * The model committed by a model stage, as something to ship to executors and open there: a native
 * semiweak ResNet ({@code model.json} + {@code weights.bin}) or a user's TorchScript teacher
 * ({@code torchscript.json} + {@code model.pt}).
 */
public final class StageModel implements Serializable {
  private static final long serialVersionUID = 1L;

  public static final String TORCHSCRIPT_INFO = "torchscript.json";
  public static final String TORCHSCRIPT_FILE = "model.pt";

  /** What semiweak knows of a TorchScript teacher: its input format, classes and checksum. */
  public record TorchScriptInfo(int channels, int inputSize, int numClasses, float[] normMean, float[] normStd,
      String outputs, String sha256, String importedFrom) implements Serializable {

    /**
     * The input format as a spec, for decoding and normalizing images. Its architecture fields mean
     * nothing (the file has its own architecture): {@link StageModel#description()} reports it as external.
     */
    public ModelSpec format() {
      return new ModelSpec(ModelSpec.STEM_SMALL, new int[] {1}, new int[] {1}, channels, inputSize, numClasses,
          normMean, normStd);
    }

    public boolean outputsProbabilities() {
      return "probabilities".equals(outputs);
    }
  }

  private final String stage;
  private final ModelSpec spec;
  private final byte[] payload;
  private final TorchScriptInfo torchScript;
  private final String fingerprint;

  private StageModel(String stage, ModelSpec spec, byte[] payload, TorchScriptInfo torchScript, String fingerprint) {
    this.stage = stage;
    this.spec = spec;
    this.payload = payload;
    this.torchScript = torchScript;
    this.fingerprint = fingerprint;
  }

  /** A native model held in memory (e.g. just trained), named {@code name} in messages. */
  public static StageModel of(String name, ModelSpec spec, ModelWeights weights) {
    return new StageModel(name, spec, weights.toBytes(), null, weights.fingerprint());
  }

  /** Reads the committed model of {@code stage}; a TorchScript file must still have its recorded checksum. */
  public static StageModel read(RunDir run, StageId stage) {
    return read(run.fs(), run.dataPath(stage), stage.path());
  }

  /** Reads a model folder (committed or still temporary); {@code stage} names it in messages. */
  public static StageModel read(org.apache.hadoop.fs.FileSystem fs, org.apache.hadoop.fs.Path dir, String stage) {
    try {
      org.apache.hadoop.fs.Path info = new org.apache.hadoop.fs.Path(dir, TORCHSCRIPT_INFO);
      if (fs.exists(info)) {
        TorchScriptInfo ts = Json.MAPPER.readValue(
            new String(ModelIO.readFully(fs, info), java.nio.charset.StandardCharsets.UTF_8), TorchScriptInfo.class);
        byte[] bytes = ModelIO.readFully(fs, new org.apache.hadoop.fs.Path(dir, TORCHSCRIPT_FILE));
        String sha = Fingerprint.of(bytes);
        if (!sha.equals(ts.sha256())) {
          throw new IllegalStateException("the TorchScript teacher " + dir + "/" + TORCHSCRIPT_FILE + " has SHA-256 " + sha
              + " but was imported with " + ts.sha256() + ": the file changed since import. A TorchScript file runs code"
              + " inside libtorch, so semiweak refuses it; import it again with train-teacher --recipe torchscript.");
        }
        return new StageModel(stage, ts.format(), bytes, ts, sha);
      }
      ModelIO.Loaded loaded = ModelIO.read(fs, dir);
      return new StageModel(stage, loaded.spec(), loaded.weights().toBytes(), null, loaded.weights().fingerprint());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the model of stage " + stage + ": " + e.getMessage(), e);
    }
  }

  public String stage() {
    return stage;
  }

  /** The input format and class count (and, for native models, the architecture). */
  public ModelSpec spec() {
    return spec;
  }

  public boolean isTorchScript() {
    return torchScript != null;
  }

  /** SHA-256 of the weights (native) or of the TorchScript file. */
  public String fingerprint() {
    return fingerprint;
  }

  /** The native weights; an error for a TorchScript model. */
  public ModelWeights weights() {
    if (isTorchScript()) {
      throw new IllegalStateException(stage + " is a TorchScript model: it has no semiweak weights");
    }
    return ModelWeights.fromBytes(payload);
  }

  /**
   * The batch to run this model with on {@code device} when the user gives none: on a GPU {@link
   * Inference#MAX_DEFAULT_BATCH_SIZE}; on the CPU {@link Inference#defaultBatchSize} of its spec (256
   * for the demo's 28 px models, 10 for ResNet-18 at 224 px), since larger activations make glibc
   * map fresh pages for every batch. A TorchScript file's architecture is unknown, so it is assumed
   * to start as ImageNet's ResNets do: 64 channels at half the resolution from 112 px up, at full
   * resolution below.
   */
  public int defaultBatchSize(Device device) {
    if (device.isGpu()) {
      return Inference.MAX_DEFAULT_BATCH_SIZE;
    }
    if (!isTorchScript()) {
      return Inference.defaultBatchSize(spec);
    }
    ModelSpec assumed = new ModelSpec(spec.inputSize() >= 112 ? ModelSpec.STEM_LARGE : ModelSpec.STEM_SMALL,
        new int[] {1}, new int[] {64}, spec.inputChannels(), spec.inputSize(), spec.numClasses(), spec.normMean(),
        spec.normStd());
    return Inference.defaultBatchSize(assumed);
  }

  /** Opens the model for inference on {@code device}. */
  public Classifier open(Device device, int batchSize) {
    if (!isTorchScript()) {
      Inference inference = Inference.open(spec, weights(), device, batchSize);
      return new Classifier() {
        @Override
        public float[][] probabilities(float[] images, int count) {
          return inference.probabilities(images, count);
        }

        @Override
        public Classifier.Outputs outputs(float[] images, int count) {
          return inference.outputs(images, count);
        }

        @Override
        public void close() {
          inference.close();
        }
      };
    }
    return TorchScriptClassifier.load(localTorchScriptFile(), spec, torchScript.outputsProbabilities(), device);
  }

  private static final Map<String, Path> LOCAL_FILES = new ConcurrentHashMap<>();

  /** The TorchScript bytes as a local file (libtorch loads from disk), written once per JVM. */
  Path localTorchScriptFile() {
    return LOCAL_FILES.computeIfAbsent(fingerprint, f -> {
      try {
        Path dir = Files.createTempDirectory("semiweak-torchscript-");
        // deleteOnExit runs in reverse order of registration: the folder first would fail (not yet
        // empty) and leave an empty folder per JVM behind, so the folder is registered before the file.
        dir.toFile().deleteOnExit();
        Path file = dir.resolve(TORCHSCRIPT_FILE);
        file.toFile().deleteOnExit();
        Files.write(file, payload);
        return file;
      } catch (IOException e) {
        throw new UncheckedIOException("cannot write the TorchScript teacher to a local temp file: " + e.getMessage(), e);
      }
    });
  }

  /** A user's TorchScript teacher held in memory (e.g. being imported), named {@code name} in messages. */
  public static StageModel torchScript(String name, byte[] file, TorchScriptInfo info) {
    return new StageModel(name, info.format(), file.clone(), info, info.sha256());
  }

  /**
   * Writes the model into a stage folder: {@code model.json} + {@code weights.bin} for a native model,
   * {@code model.pt} + {@code torchscript.json} for a TorchScript one. {@link #read} reads either back.
   */
  public void write(org.apache.hadoop.fs.FileSystem fs, org.apache.hadoop.fs.Path dir) {
    if (!isTorchScript()) {
      ModelIO.write(fs, dir, spec, weights());
      return;
    }
    HadoopFiles.writeAtomically(fs, new org.apache.hadoop.fs.Path(dir, TORCHSCRIPT_FILE), payload);
    HadoopFiles.writeAtomically(fs, new org.apache.hadoop.fs.Path(dir, TORCHSCRIPT_INFO), Json.write(torchScript));
  }

  /** For manifests and messages: a TorchScript file's architecture is {@code external}, not known to semiweak. */
  public ModelDescription description() {
    return isTorchScript()
        ? new ModelDescription("torchscript", ModelDescription.EXTERNAL, fingerprint, spec.inputSize(),
            spec.inputChannels(), spec.numClasses(), torchScript.importedFrom())
        : new ModelDescription("semiweak-resnet", spec.toString(), fingerprint, spec.inputSize(),
            spec.inputChannels(), spec.numClasses(), null);
  }
}
