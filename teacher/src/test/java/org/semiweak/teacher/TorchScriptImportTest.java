package org.semiweak.teacher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.semiweak.teacher.TeacherFixtures.teacherOptions;

import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.semiweak.config.ConfigException;
import org.semiweak.model.StageModel;
import org.semiweak.run.RunLayout;
import org.semiweak.run.Split;
import org.semiweak.run.StageExecution;
import org.semiweak.run.StageManifest;
import org.semiweak.run.Upstream;
import org.semiweak.run.result.ModelDescription;
import org.semiweak.run.result.ModelResult;
import org.semiweak.run.result.Publication;
import org.semiweak.testing.FashionMnist;
import org.semiweak.testing.PreparedRuns;
import org.semiweak.testing.TorchScriptModels;
import org.semiweak.util.Fingerprint;

/**
 * train-teacher's torchscript recipe: a user's TorchScript file, made here by PyTorch (Debian's
 * python3-torch, which CI installs), is checked when the stage is planned and imported as the
 * teacher; a file that does not fit the prepared images is refused before anything runs.
 */
class TorchScriptImportTest {
  @TempDir static Path tmp;
  static SparkSession spark;
  static PreparedRuns.Prepared prepared;

  /** 1 x 28 x 28 images, 10 classes: fits the prepared run. */
  static Path fitting;
  /** 7 classes. */
  static Path sevenClasses;
  /** 3 x 28 x 28 images. */
  static Path rgb;

  @BeforeAll
  static void prepare() throws Exception {
    Assumptions.assumeTrue(TorchScriptModels.torchAvailable(), "Debian's python3-torch is not installed (" + TorchScriptModels.PYTHON
        + " -c 'import torch' fails): apt-get install python3-torch to run the TorchScript import tests;"
        + " CI installs it");
    fitting = tmp.resolve("teacher.pt");
    sevenClasses = tmp.resolve("seven.pt");
    rgb = tmp.resolve("rgb.pt");
    TorchScriptModels.make(tmp, fitting + ":1:10", sevenClasses + ":1:7", rgb + ":3:10");
    spark = TeacherFixtures.spark();
    prepared = PreparedRuns.commit(spark, tmp.resolve("run"), PreparedRuns.Spec.small());
  }

  @Test
  void aTorchScriptFileThatFitsTheImagesIsImportedAsAnExternalTeacher() throws Exception {
    Path file = fitting;
    String sha = Fingerprint.of(Files.readAllBytes(file));
    TrainTeacher stage = new TrainTeacher(prepared.run(), teacherOptions("recipe", "torchscript",
        "model-file", file.toString(), "norm-mean", String.valueOf(FashionMnist.MEAN),
        "norm-std", String.valueOf(FashionMnist.STD)));
    StageManifest m = StageExecution.planAndRun(prepared.run(), spark, stage);

    assertThat(m.stage()).isEqualTo("teacher/torchscript");
    ModelResult r = m.result(ModelResult.class);
    ModelDescription model = r.model();
    assertThat(model.architecture()).as("semiweak does not know a TorchScript file's architecture")
        .isEqualTo(ModelDescription.EXTERNAL).isEqualTo("external");
    assertThat(model.type()).isEqualTo("torchscript");
    assertThat(model.fingerprint()).as("the SHA-256 of the file").isEqualTo(sha);
    assertThat(model.importedFrom()).as("where it was imported from").isEqualTo(file.toString());
    assertThat(model.classes()).isEqualTo(10);
    assertThat(model.inputSize()).isEqualTo(28);
    assertThat(model.channels()).isEqualTo(1);
    assertThat(r.training()).as("imported, not trained").isEmpty();
    assertThat(r.testImages()).as("evaluated on every test image").isEqualTo(prepared.count(Split.TEST));
    assertThat(r.testTop1()).as("top-1 accuracy").isBetween(0.0, 1.0);
    assertThat(r.testTop5()).as("top-5 accuracy").isBetween(r.testTop1(), 1.0);
    assertThat(m.inputs()).as("the file's content is an input of the stage")
        .anySatisfy(in -> {
          assertThat(in.name()).isEqualTo("model-file");
          assertThat(in.fingerprint()).isEqualTo(sha);
        });

    StageModel committed = StageModel.read(prepared.run(), RunLayout.teacher("torchscript"));
    assertThat(committed.isTorchScript()).as("the committed model is the TorchScript file").isTrue();
    assertThat(committed.fingerprint()).isEqualTo(sha);
    assertThat(committed.spec().normMean()).as("normalization as given").containsExactly(FashionMnist.MEAN);
    assertThat(committed.spec().normStd()).containsExactly(FashionMnist.STD);
  }

  @Test
  void aFileWithTheWrongNumberOfOutputsIsRefusedAtPlanTime() throws Exception {
    TrainTeacher seven = new TrainTeacher(prepared.run(), teacherOptions("recipe", "torchscript",
        "model-file", sevenClasses.toString()));
    seven.validate();
    assertThatThrownBy(() -> seven.plan(new Upstream(prepared.run())))
        .as("a model of 7 outputs for a vocabulary of 10 classes")
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("seven.pt")
        .hasMessageContaining("returns 7 values per image")
        .hasMessageContaining("expected 10");
  }

  @Test
  void aFileForOtherImagesOrOtherClassNamesIsRefusedAtPlanTime() throws Exception {
    TrainTeacher forRgb = new TrainTeacher(prepared.run(), teacherOptions("recipe", "torchscript",
        "model-file", rgb.toString()));
    assertThatThrownBy(() -> forRgb.plan(new Upstream(prepared.run())))
        .as("a model of RGB images for gray images")
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("does not accept input of shape (4, 1, 28, 28)");

    Path classes = tmp.resolve("classes.txt");
    java.util.List<String> reversed = new java.util.ArrayList<>(FashionMnist.CLASS_NAMES);
    java.util.Collections.reverse(reversed);
    Files.writeString(classes, String.join("\n", reversed) + "\n");
    TrainTeacher reordered = new TrainTeacher(prepared.run(), teacherOptions("recipe", "torchscript",
        "model-file", fitting.toString(), "classes-file", classes.toString()));
    assertThatThrownBy(() -> reordered.plan(new Upstream(prepared.run())))
        .as("class names in another order than the vocabulary's")
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("train-teacher.classes-file")
        .hasMessageContaining("same names, same order needed");

    Files.writeString(classes, String.join("\n", FashionMnist.CLASS_NAMES) + "\n");
    assertThat(reordered.plan(new Upstream(prepared.run())).publication())
        .as("the vocabulary's names in its order are accepted")
        .isEqualTo(new Publication.Model(28, 1, 10));
  }

  @Test
  void aMissingFileIsRefusedBeforePlanning() {
    TrainTeacher missing = new TrainTeacher(prepared.run(), teacherOptions("recipe", "torchscript",
        "model-file", tmp.resolve("missing.pt").toString()));
    assertThatThrownBy(missing::validate).isInstanceOf(ConfigException.class)
        .hasMessageContaining("missing.pt does not exist or is not a file");
    TrainTeacher none = new TrainTeacher(prepared.run(), teacherOptions("recipe", "torchscript"));
    assertThatThrownBy(none::validate).isInstanceOf(ConfigException.class)
        .hasMessageContaining("needs --model-file");
  }

  @Test
  void perChannelNormalizationIsCheckedAgainstThePreparedChannelsAtPlanTime() throws Exception {
    TrainTeacher imagenetStyle = new TrainTeacher(prepared.run(), teacherOptions("recipe", "torchscript",
        "model-file", fitting.toString(), "norm-mean", "0.485,0.456,0.406", "norm-std", "0.229,0.224,0.225"));
    imagenetStyle.validate(); // three values are fine before the images are known (an RGB run needs them)
    assertThatThrownBy(() -> imagenetStyle.plan(new Upstream(prepared.run())))
        .as("three values for the gray images of this run")
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("norm-mean: 3 values for 1-channel images");
    TrainTeacher notNumbers = new TrainTeacher(prepared.run(), teacherOptions("recipe", "torchscript",
        "model-file", fitting.toString(), "norm-std", "0.2,x"));
    assertThatThrownBy(notNumbers::validate).isInstanceOf(ConfigException.class)
        .hasMessageContaining("norm-std: expected comma-separated numbers, found '0.2,x'");
  }
}
