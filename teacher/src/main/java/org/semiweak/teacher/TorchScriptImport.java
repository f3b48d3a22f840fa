package org.semiweak.teacher;

import ai.djl.Device;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.List;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.semiweak.config.ConfigException;
import org.semiweak.config.Options;
import org.semiweak.model.ModelIO;
import org.semiweak.model.StageModel;
import org.semiweak.model.TorchScriptClassifier;
import org.semiweak.run.SparkSessions;
import org.semiweak.run.StageId;
import org.semiweak.run.StagePlan;
import org.semiweak.run.result.Publication;
import org.semiweak.stage.TrainingOptionSpecs;
import org.semiweak.util.Fingerprint;

/**
 * The {@code torchscript} recipe of train-teacher: imports a user's TorchScript teacher into the
 * run after checking, on one dummy image, that it takes the prepared images and returns one value
 * per class; records its SHA-256 (scoring refuses the file if it changes). Its architecture is
 * reported as external: semiweak does not know it.
 */
final class TorchScriptImport {
  private TorchScriptImport() {}

  static void validate(Options o) {
    String file = o.get(TrainTeacher.MODEL_FILE);
    if (file.isBlank()) {
      throw new ConfigException("train-teacher: the torchscript recipe needs --model-file PATH (a torch.jit.save file)");
    }
    // The count of values is checked against the prepared images' channels at plan time.
    TrainingOptionSpecs.numbers(o, TrainTeacher.LABELED.normMean);
    TrainingOptionSpecs.numbers(o, TrainTeacher.LABELED.normStd);
    Path p = new Path(file);
    try {
      FileSystem fs = p.getFileSystem(SparkSessions.hadoopConfiguration());
      if (!fs.exists(p) || fs.getFileStatus(p).isDirectory()) {
        throw new ConfigException("train-teacher.model-file: " + file + " does not exist or is not a file");
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot check " + file + ": " + e.getMessage(), e);
    }
  }

  private static byte[] read(String file) {
    Path p = new Path(file);
    try {
      return ModelIO.readFully(p.getFileSystem(SparkSessions.hadoopConfiguration()), p);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
    }
  }

  /** Checks the file against the prepared images and classes; the plan's input is the file's content. */
  static StagePlan plan(Options o, Publication.Images images, StagePlan.Builder plan) {
    String file = o.get(TrainTeacher.MODEL_FILE);
    byte[] bytes = read(file);
    StageModel.TorchScriptInfo info = info(o, images, Fingerprint.of(bytes));
    plan.input("model-file", file, info.sha256());
    checkOnDummyImage(bytes, info);
    String classesFile = o.get(TrainTeacher.CLASSES_FILE);
    if (!classesFile.isBlank()) {
      List<String> names = new String(read(classesFile), StandardCharsets.UTF_8).lines().map(String::strip)
          .filter(l -> !l.isEmpty()).toList();
      if (!names.equals(images.classes())) {
        throw new ConfigException("train-teacher.classes-file: the teacher's classes " + names
            + " differ from the run's vocabulary " + images.classes() + " (same names, same order needed)");
      }
    }
    return plan.publishes(new Publication.Model(info.inputSize(), info.channels(), info.numClasses())).build();
  }

  /** The file as the stage's model, read again: the checksum in its info is of what is committed. */
  static StageModel load(Options o, Publication.Images images, StageId stage) {
    byte[] bytes = read(o.get(TrainTeacher.MODEL_FILE));
    return StageModel.torchScript(stage.path(), bytes, info(o, images, Fingerprint.of(bytes)));
  }

  private static StageModel.TorchScriptInfo info(Options o, Publication.Images images, String sha) {
    return new StageModel.TorchScriptInfo(images.channels(), images.imageSize(), images.numClasses(),
        TrainingOptionSpecs.perChannel(o, TrainTeacher.LABELED.normMean, images.channels()),
        TrainingOptionSpecs.perChannel(o, TrainTeacher.LABELED.normStd, images.channels()),
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
        c.checkOnProbeImages();
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
