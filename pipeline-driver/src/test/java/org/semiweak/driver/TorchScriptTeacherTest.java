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
    assertThat(r[2]).contains("the file changed since import").contains("refuses it");
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
    assertThat(r[2]).contains("does not accept input of shape (1, 1, 28, 28)");
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
}
