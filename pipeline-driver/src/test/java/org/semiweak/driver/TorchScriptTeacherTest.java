package org.semiweak.driver;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;
import org.semiweak.testing.TorchScriptModels;
import org.semiweak.run.RunLayout;
import org.semiweak.run.result.ModelResult;
import org.semiweak.run.result.ScoreResult;
import org.semiweak.run.RunDir;
import org.semiweak.run.StageManifest;
import org.semiweak.testing.IdxSubset;

/**
 * A user's own TorchScript teacher, made by PyTorch (Debian's python3-torch, which .ci/run
 * installs): imported after a shape check, scored with, and refused once its file changes.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class TorchScriptTeacherTest {
  @TempDir static Path tmp;
  static String runDir;

  static Path torchScript(String name, int channels, int classes) throws Exception {
    return TorchScriptModels.make(tmp, name, channels, classes);
  }

  @BeforeAll
  static void preparedRun() throws Exception {
    Path data = IdxSubset.write(tmp.resolve("fmnist"), 600, 300);
    runDir = tmp.resolve("run").toUri().toString();
    String[] r = PipelineTest.cli("prep", "--run-dir", runDir, "--spark-master", "local[2]", "--source", "idx",
        "--input", data.toString(), "--labeled-per-class", "10");
    assertThat(r[0]).as("prep; stderr: %s", r[2]).isEqualTo("0");
  }

  @Test
  @Order(1)
  void aTorchScriptTeacherIsImportedCheckedAndScoredWith() throws Exception {
    Path model = torchScript("teacher.pt", 1, 10);
    String[] r = PipelineTest.cli("train-teacher", "--run-dir", runDir, "--spark-master", "local[2]",
        "--recipe", "torchscript", "--model-file", model.toString());
    assertThat(r[0]).as("import; stderr: %s", r[2]).isEqualTo("0");
    RunDir run = RunDir.open(runDir, new Configuration());
    StageManifest teacher = run.committed(RunLayout.teacher("torchscript")).orElseThrow();
    assertThat(teacher.inputs()).anySatisfy(in -> assertThat(in.name()).isEqualTo("model-file"));
    ModelResult imported = teacher.result(ModelResult.class);
    assertThat(imported.testImages()).as("evaluated on the test split").isEqualTo(300);
    assertThat(imported.model().architecture()).as("semiweak does not know a TorchScript file's architecture")
        .isEqualTo("external");
    assertThat(imported.training()).as("imported, not trained").isEmpty();

    r = PipelineTest.cli("score", "--run-dir", runDir, "--spark-master", "local[2]", "--teacher", "torchscript", "--pmax", "5");
    assertThat(r[0]).as("score; stderr: %s", r[2]).isEqualTo("0");
    StageManifest scores = run.committed(RunLayout.scores("torchscript")).orElseThrow();
    assertThat(scores.count("scored")).as("every unlabeled image scored")
        .isEqualTo(run.committed(RunLayout.prep()).orElseThrow().count("written.unlabeled"));
    assertThat(scores.result(ScoreResult.class).model().fingerprint()).as("scored with the imported file")
        .isEqualTo(imported.model().fingerprint());
  }

  @Test
  @Order(2)
  void aTeacherFileThatChangedAfterImportIsRefused() throws Exception {
    Path committed = tmp.resolve("run/teacher/torchscript/model.pt");
    Files.copy(torchScript("other.pt", 1, 10), committed, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    // Hadoop's local file system keeps a .crc beside each file and would report a checksum error
    // first; remove it, as a file replaced by other tools (or on another file system) would have none.
    Files.deleteIfExists(committed.resolveSibling(".model.pt.crc"));
    String[] r = PipelineTest.cli("score", "--run-dir", runDir, "--spark-master", "local[2]", "--teacher", "torchscript",
        "--pmax", "5", "--force");
    assertThat(r[0]).isEqualTo("1");
    // Another model has another length: the check of the teacher's folder against its manifest, before
    // the first job, names it. (A change that keeps the length is caught by the model's own checksum.)
    assertThat(r[2]).contains("the committed output of stage 'teacher/torchscript'").contains("is damaged")
        .contains("file model.pt has").contains("Repair it with: semiweak rerun");
  }

  @Test
  @Order(3)
  void aTeacherWithTheWrongClassCountOrInputShapeIsRejectedBeforeImport() throws Exception {
    String[] r = PipelineTest.cli("train-teacher", "--run-dir", runDir, "--recipe", "torchscript", "--force",
        "--model-file", torchScript("seven.pt", 1, 7).toString());
    assertThat(r[0]).isEqualTo("2");
    assertThat(r[2]).contains("returns 7 values per image").contains("expected 10 (one per class of the vocabulary)");

    r = PipelineTest.cli("train-teacher", "--run-dir", runDir, "--recipe", "torchscript", "--force",
        "--model-file", torchScript("rgb.pt", 3, 10).toString());
    assertThat(r[0]).isEqualTo("2");
    assertThat(r[2]).contains("does not accept input of shape (4, 1, 28, 28)");
  }

  @Test
  @Order(4)
  void aFileThatIsNotAModelOrIsMissingIsRejected() throws Exception {
    Path junk = tmp.resolve("junk.pt");
    Files.write(junk, "this is not a TorchScript archive".getBytes());
    String[] r = PipelineTest.cli("train-teacher", "--run-dir", runDir, "--recipe", "torchscript", "--force",
        "--model-file", junk.toString());
    assertThat(r[0]).isEqualTo("2");
    assertThat(r[2]).contains("cannot load").contains("as a TorchScript model");

    r = PipelineTest.cli("train-teacher", "--run-dir", runDir, "--recipe", "torchscript",
        "--model-file", tmp.resolve("missing.pt").toString());
    assertThat(r[0]).isEqualTo("2");
    assertThat(r[2]).contains("missing.pt does not exist or is not a file");
  }

  @Test
  @Order(5)
  void aTeacherWhoseOutputsAreNotFiniteProbabilitiesIsRefusedAtImport() throws Exception {
    Path nan = TorchScriptModels.make(tmp, "nan.pt", 1, 10, TorchScriptModels.Kind.NAN);
    String[] r = PipelineTest.cli("train-teacher", "--run-dir", runDir, "--recipe", "torchscript", "--force",
        "--model-file", nan.toString());
    assertThat(r[0]).as("stderr: %s", r[2]).isEqualTo("2");
    assertThat(r[2]).contains("is not a probability on a probe image (all zeros): class 0 gets NaN")
        .contains("finite class probabilities");

    r = PipelineTest.cli("train-teacher", "--run-dir", runDir, "--recipe", "torchscript", "--force",
        "--model-file", torchScript("logits.pt", 1, 10).toString(), "--outputs", "probabilities");
    assertThat(r[0]).as("logits declared as probabilities; stderr: %s", r[2]).isEqualTo("2");
    assertThat(r[2]).contains("if the model returns logits, import it with outputs: logits");
  }

  @Test
  @Order(6)
  void nonFiniteScoresAreCountedAndFailTheStageAboveItsThreshold() throws Exception {
    Path someNan = TorchScriptModels.make(tmp, "nan-dark.pt", 1, 10, TorchScriptModels.Kind.NAN_FOR_DARK_IMAGES);
    String[] r = PipelineTest.cli("train-teacher", "--run-dir", runDir, "--recipe", "torchscript", "--force",
        "--model-file", someNan.toString());
    assertThat(r[0]).as("its probe images are finite, so it is imported; stderr: %s", r[2]).isEqualTo("0");

    r = PipelineTest.cli("score", "--run-dir", runDir, "--spark-master", "local[2]", "--teacher", "torchscript",
        "--pmax", "5", "--force");
    assertThat(r[0]).as("stderr: %s", r[2]).isEqualTo("1");
    assertThat(r[2]).contains("gave NaN or infinite scores for").contains("more than score.max-non-finite = 0.001")
        .as("names example images").contains("fmnist-train-");

    r = PipelineTest.cli("score", "--run-dir", runDir, "--spark-master", "local[2]", "--teacher", "torchscript",
        "--pmax", "5", "--force", "--max-non-finite", "1");
    assertThat(r[0]).as("stderr: %s", r[2]).isEqualTo("0");
    StageManifest scores = RunDir.open(runDir, new Configuration()).committed(RunLayout.scores("torchscript"))
        .orElseThrow();
    long nonFinite = scores.count("rejected.non-finite");
    assertThat(nonFinite).as("some images, not all").isPositive().isLessThan(scores.count("in"));
    assertThat(scores.count("in")).as("every image accounted for")
        .isEqualTo(scores.count("scored") + scores.count("rejected"));
    assertThat(scores.count("rejected")).isEqualTo(nonFinite);
  }
}
