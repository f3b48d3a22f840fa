package org.semiweak.run;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.apache.hadoop.fs.Path;
import org.junit.jupiter.api.Test;

class RunLayoutTest {
  private static final List<StageId> EVERY_KIND = List.of(
      RunLayout.prep(),
      RunLayout.teacher("semi-weak"),
      RunLayout.scores("semi-weak"),
      RunLayout.selection("semi-weak", "k4000-p2"),
      RunLayout.pretrain("semi-weak", "k4000-p2"),
      RunLayout.distill("semi-weak", "distill-t2"),
      RunLayout.finetune("semi-weak", "k4000-p2"),
      RunLayout.baseline(),
      RunLayout.evaluate(),
      RunLayout.report());

  @Test
  void everyStagePathParsesBackToItsId() {
    for (StageId id : EVERY_KIND) {
      assertThat(RunLayout.parse(id.path())).as("parse(path(%s))", id).isEqualTo(id);
    }
    assertThat(EVERY_KIND).extracting(StageId::kind).as("one id per kind, in pipeline order")
        .containsExactly(StageKind.values());
  }

  @Test
  void stagePathsAreTheDocumentedFolders() {
    assertThat(EVERY_KIND).extracting(StageId::path).containsExactly("prep", "teacher/semi-weak", "scores/semi-weak",
        "selection/semi-weak/k4000-p2", "student/semi-weak/k4000-p2/pretrain", "student/semi-weak/distill-t2/distill",
        "student/semi-weak/k4000-p2/finetune",
        "baseline", "evaluate", "report");
  }

  @Test
  void pathsThatAreNoStageAreRefusedNamingTheLayout() {
    for (String bad : List.of("", "scores", "teacher/a/b", "student/t/s/other", "selection/t", "nothing", "../x")) {
      assertThatThrownBy(() -> RunLayout.parse(bad)).as(bad).isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("is not a stage of a run directory");
    }
  }

  @Test
  void aDistilledStudentIsFineTunedUnderItsOwnNameWhichNoSelectionMayTake() {
    assertThat(RunLayout.pretrained("semi-weak", "distill-t2")).isEqualTo(RunLayout.distill("semi-weak", "distill-t2"));
    assertThat(RunLayout.pretrained("semi-weak", "k4000-p2")).isEqualTo(RunLayout.pretrain("semi-weak", "k4000-p2"));
    assertThat(RunLayout.finetune("semi-weak", "distill-t2").path()).isEqualTo("student/semi-weak/distill-t2/finetune");
    assertThat(RunLayout.parse("student/semi-weak/distill-t2/finetune"))
        .isEqualTo(RunLayout.finetune("semi-weak", "distill-t2"));
    assertThatThrownBy(() -> RunLayout.selection("t", "distill-x")).hasMessageContaining("starting with distill-");
    assertThatThrownBy(() -> RunLayout.parse("student/t/distill-t2/pretrain"))
        .hasMessageContaining("is not a stage of a run directory");
    assertThatThrownBy(() -> RunLayout.distill("t", "t2")).hasMessageContaining("must start with distill-");
  }

  @Test
  void namesCannotEscapeTheRunDirectory() {
    assertThatThrownBy(() -> RunLayout.scores("../x")).hasMessageContaining("invalid teacher name '../x'");
    assertThatThrownBy(() -> RunLayout.selection("t", "a/b")).hasMessageContaining("invalid selection name 'a/b'");
    assertThatThrownBy(() -> RunLayout.teacher("")).hasMessageContaining("invalid teacher name");
  }

  @Test
  void workAndTemporaryFoldersAreNamedAfterTheStage() {
    RunLayout layout = new RunLayout(new Path("file:/runs/r1"));
    StageId id = RunLayout.pretrain("semi-weak", "k4000-p2");
    assertThat(layout.work(id).toString()).isEqualTo("file:/runs/r1/_work/student+semi-weak+k4000-p2+pretrain");
    assertThat(RunLayout.stageOfWorkFolder(layout.work(id).getName())).isEqualTo(id.path());
    assertThat(layout.temp(id, "u1").toString()).isEqualTo("file:/runs/r1/_tmp/student+semi-weak+k4000-p2+pretrain-u1");
    assertThat(layout.split(Split.UNLABELED).toString()).isEqualTo("file:/runs/r1/prep/unlabeled");
    assertThat(layout.manifest(id).toString()).isEqualTo("file:/runs/r1/student/semi-weak/k4000-p2/pretrain/_MANIFEST.json");
  }
}
