package org.semiweak.testing.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.semiweak.run.DamagedStageException;
import org.semiweak.run.RunDir;
import org.semiweak.run.RunLayout;
import org.semiweak.run.StageId;
import org.semiweak.run.StageManifest;
import org.semiweak.run.StageOutput;
import org.semiweak.run.StagePlan;
import org.semiweak.run.StageStatus;
import org.semiweak.run.StageWriter;
import org.semiweak.run.result.Publication;
import org.semiweak.run.result.ScoreResult;

/**
 * The commit protocol on a real HDFS (MiniDFSCluster on loopback): a replaced stage keeps its old
 * output until the new one commits, an interrupted replacement is undone by the next process, and
 * a missing file or a broken manifest makes the stage damaged (with its repair) without hiding the
 * other stages.
 */
class RunDirOnHdfsTest {
  @TempDir static Path tmp;
  static MiniHdfs hdfs;

  static final StageId SCORES = RunLayout.scores("semi-weak");
  static final StageId OTHER = RunLayout.scores("semi-supervised");

  @BeforeAll
  static void startHdfs() {
    hdfs = MiniHdfs.start(tmp.resolve("hdfs"));
  }

  @AfterAll
  static void stopHdfs() {
    if (hdfs != null) {
      hdfs.close();
    }
  }

  private static RunDir open(String name) {
    return RunDir.open(hdfs.uri() + "/runs/" + name, new Configuration());
  }

  private static StageManifest commit(RunDir run, StageId stage, String file, String content) throws Exception {
    StageWriter w = run.begin(stage);
    try (OutputStream out = run.fs().create(w.temp(file))) {
      out.write(content.getBytes(StandardCharsets.UTF_8));
    }
    StagePlan plan = StagePlan.builder(stage, Map.of("pmax", 1)).publishes(new Publication.Scores(1, 2)).build();
    return w.commit(plan, new StageOutput(Map.of("in", 1L, "scored", 1L),
        new ScoreResult("unlabeled", 1, 2, null, 1.0, 1, 1, List.of(), List.of())));
  }

  @Test
  void aFailedReplacementLeavesTheCommittedOutputAndAnInterruptedOneIsUndone() throws Exception {
    RunDir run = open("replace");
    StageManifest first = commit(run, SCORES, "part-0", "first");

    // A rerun that fails before its commit: its writer is closed without committing.
    try (StageWriter w = run.begin(SCORES)) {
      run.fs().create(w.temp("part-0")).close();
    }
    assertThat(run.committed(SCORES).orElseThrow().commit()).isEqualTo(first.commit());
    assertThat(run.status(SCORES, true).orElseThrow().state()).isEqualTo(StageStatus.State.COMMITTED);

    // A process killed after moving the old output aside, before the new manifest.
    FileSystem fs = run.fs();
    fs.mkdirs(run.layout().replacedRoot());
    assertThat(fs.rename(run.stagePath(SCORES), run.layout().replaced(SCORES, "killed"))).isTrue();
    fs.mkdirs(run.stagePath(SCORES));
    assertThat(run.committed(SCORES)).isEmpty();

    assertThat(open("replace").recoverInterruptedCommits()).hasSize(1);
    assertThat(run.committed(SCORES).orElseThrow().commit()).isEqualTo(first.commit());
    assertThat(run.status(SCORES, true).orElseThrow().state()).isEqualTo(StageStatus.State.COMMITTED);

    StageManifest second = commit(run, SCORES, "part-1", "second");
    assertThat(run.committed(SCORES).orElseThrow().commit()).isEqualTo(second.commit());
    assertThat(fs.listStatus(run.layout().replacedRoot())).as("the old output removed after the commit").isEmpty();
  }

  @Test
  void aMissingFileOrABrokenManifestIsDamagedAndTheOtherStagesStayReadable() throws Exception {
    RunDir run = open("damage");
    commit(run, SCORES, "part-0", "12345");
    commit(run, OTHER, "part-0", "67890");
    run.fs().delete(new org.apache.hadoop.fs.Path(run.stagePath(SCORES), "part-0"), false);

    assertThatThrownBy(() -> run.requireIntact(SCORES, RunLayout.selection("semi-weak", "k1-p1")))
        .isInstanceOf(DamagedStageException.class).hasMessageContaining("file part-0 (5 bytes) is missing")
        .hasMessageContaining("semiweak rerun " + run.root() + " scores/semi-weak");

    try (OutputStream out = run.fs().create(run.layout().manifest(OTHER), true)) {
      out.write("{\"stage\": ".getBytes(StandardCharsets.UTF_8));
    }
    List<StageStatus> all = run.statuses(false);
    assertThat(all).extracting(StageStatus::stage).containsExactly("scores/semi-supervised", "scores/semi-weak");
    assertThat(all).extracting(StageStatus::state).containsOnly(StageStatus.State.DAMAGED);
    assertThat(all.get(0).problems()).singleElement().asString().contains("not a semiweak stage manifest");
  }
}
