package org.semiweak.teacher;

import ai.djl.Device;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.Arrays;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.SparkSession;
import org.semiweak.config.ConfigException;
import org.semiweak.config.Options;
import org.semiweak.model.ModelIO;
import org.semiweak.model.StageModel;
import org.semiweak.model.TorchScriptClassifier;
import org.semiweak.run.ManifestBuilder;
import org.semiweak.run.RunDir;
import org.semiweak.run.StageManifest;
import org.semiweak.run.StageWriter;
import org.semiweak.stage.PrepInfo;
import org.semiweak.train.Evaluator;
import org.semiweak.util.Fingerprint;
import org.semiweak.util.Json;

/**
 * The {@code torchscript} recipe of train-teacher: imports a user's TorchScript teacher into the
 * run after checking, on one dummy image, that it takes the prepared images and returns one value
 * per class; records its SHA-256 (scoring refuses the file if it changes) and its test accuracy.
 */
final class TorchScriptImport {
  private TorchScriptImport() {}

  static void validate(Options o) {
    String file = o.get(TrainTeacher.MODEL_FILE);
    if (file.isBlank()) {
      throw new ConfigException("train-teacher: the torchscript recipe needs --model-file PATH (a torch.jit.save file)");
    }
    floats(o, TrainTeacher.NORM_MEAN);
    floats(o, TrainTeacher.NORM_STD);
    Path p = new Path(file);
    try {
      FileSystem fs = p.getFileSystem(new Configuration());
      if (!fs.exists(p) || fs.getFileStatus(p).isDirectory()) {
        throw new ConfigException("train-teacher.model-file: " + file + " does not exist or is not a file");
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot check " + file + ": " + e.getMessage(), e);
    }
  }

  static float[] floats(Options o, org.semiweak.config.OptionSpec<String> spec) {
    try {
      String[] parts = o.get(spec).split(",");
      float[] out = new float[parts.length];
      for (int i = 0; i < parts.length; i++) {
        out[i] = Float.parseFloat(parts[i].strip());
      }
      return out;
    } catch (NumberFormatException e) {
      throw new ConfigException("train-teacher." + spec.key() + ": expected comma-separated numbers, found '" + o.get(spec) + "'");
    }
  }

  private static float[] perChannel(Options o, org.semiweak.config.OptionSpec<String> spec, int channels) {
    float[] v = floats(o, spec);
    if (v.length == 1 && channels > 1) {
      float[] out = new float[channels];
      Arrays.fill(out, v[0]);
      return out;
    }
    if (v.length != channels) {
      throw new ConfigException("train-teacher." + spec.key() + ": " + v.length + " values for " + channels
          + "-channel images; give one per channel or one for all");
    }
    return v;
  }

  private static byte[] read(String file) {
    Path p = new Path(file);
    try {
      return ModelIO.readFully(p.getFileSystem(new Configuration()), p);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
    }
  }

  static void plan(Options o, PrepInfo prep, ManifestBuilder m) {
    String file = o.get(TrainTeacher.MODEL_FILE);
    perChannel(o, TrainTeacher.NORM_MEAN, prep.channels());
    perChannel(o, TrainTeacher.NORM_STD, prep.channels());
    byte[] bytes = read(file);
    m.input("model-file", file, Fingerprint.of(bytes));
    checkOnDummyImage(bytes, info(o, prep, Fingerprint.of(bytes)));
    String classesFile = o.get(TrainTeacher.CLASSES_FILE);
    if (!classesFile.isBlank()) {
      List<String> names = new String(read(classesFile), StandardCharsets.UTF_8).lines().map(String::strip)
          .filter(l -> !l.isEmpty()).toList();
      if (!names.equals(prep.vocabulary().classes())) {
        throw new ConfigException("train-teacher.classes-file: the teacher's classes " + names
            + " differ from the run's vocabulary " + prep.vocabulary().classes() + " (same names, same order needed)");
      }
    }
  }

  static StageManifest execute(SparkSession spark, RunDir run, String stage, Options o, PrepInfo prep, ManifestBuilder m) {
    String file = o.get(TrainTeacher.MODEL_FILE);
    byte[] bytes = read(file);
    String sha = Fingerprint.of(bytes);
    StageModel.TorchScriptInfo info = info(o, prep, sha);
    try (StageWriter w = run.begin(stage)) {
      ModelIO.writeAtomically(run.fs(), w.temp(StageModel.TORCHSCRIPT_FILE), bytes);
      ModelIO.writeAtomically(run.fs(), w.temp(StageModel.TORCHSCRIPT_INFO),
          Json.write(info).getBytes(StandardCharsets.UTF_8));
      StageModel model = StageModel.read(run.fs(), w.tempDir(), stage);
      Evaluator.Evaluation e = Evaluator.evaluate(prep.read(spark, PrepInfo.TEST), model, 64);
      m.metric("test.top1", e.top1());
      m.metric("test.top5", e.top5());
      m.count("test-images", e.count());
      m.metric("model-fingerprint", sha);
      m.metric("model", model.describe());
      StageManifest done = m.build();
      w.commit(done);
      return done;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot import " + file + ": " + e.getMessage(), e);
    }
  }

  private static StageModel.TorchScriptInfo info(Options o, PrepInfo prep, String sha) {
    return new StageModel.TorchScriptInfo(prep.channels(), prep.imageSize(), prep.numClasses(),
        perChannel(o, TrainTeacher.NORM_MEAN, prep.channels()), perChannel(o, TrainTeacher.NORM_STD, prep.channels()),
        o.get(TrainTeacher.OUTPUTS), sha, o.get(TrainTeacher.MODEL_FILE));
  }

  /** Loads the file with libtorch on the CPU and runs one image through it. */
  private static void checkOnDummyImage(byte[] bytes, StageModel.TorchScriptInfo info) {
    java.nio.file.Path dir = null;
    try {
      dir = Files.createTempDirectory("semiweak-torchscript-check-");
      java.nio.file.Path local = dir.resolve(StageModel.TORCHSCRIPT_FILE);
      Files.write(local, bytes);
      try (TorchScriptClassifier c = TorchScriptClassifier.load(local, info.format(), info.outputsProbabilities(),
          Device.cpu())) {
        c.checkShapes();
      }
    } catch (IllegalArgumentException e) {
      throw new ConfigException("train-teacher: " + info.importedFrom() + ": " + e.getMessage());
    } catch (FileNotFoundException e) {
      throw new ConfigException("train-teacher: " + e.getMessage());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } finally {
      if (dir != null) {
        dir.resolve(StageModel.TORCHSCRIPT_FILE).toFile().delete();
        dir.toFile().delete();
      }
    }
  }
}
