package org.semiweak.run;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.semiweak.run.result.PrepResult;
import org.semiweak.run.result.Publication;
import org.semiweak.run.result.ScoreResult;
import org.semiweak.run.result.SelectionResult;
import org.semiweak.run.result.StageResult;

class RunDirTest {
  @TempDir java.nio.file.Path tmp;

  private RunDir open() {
    return RunDir.open(tmp.resolve("run").toUri().toString(), new Configuration());
  }

  private static final StageId SCORES = RunLayout.scores("semi-weak");
  private static final StageId PREP = RunLayout.prep();
  private static final StageId SELECTION = RunLayout.selection("semi-weak", "k10-p1");

  private static StagePlan plan(StageId stage) {
    return StagePlan.builder(stage, Map.of("k", 1)).publishes(new Publication.Scores(1, 2)).build();
  }

  /** A result of the stage's kind, with counts in = written = 3. */
  private static StageOutput output(StageId stage) {
    StageResult result = switch (stage.kind()) {
      case PREP -> new PrepResult(28, 1, List.of("a", "b"), Map.of(), Map.of(), 1.0, Map.of(), null, null, null);
      case SCORE -> new ScoreResult("unlabeled", 1, 2, null, 1.0, 1, 1, List.of(), List.of());
      case SELECT -> new SelectionResult(10, 1, null, 0, List.of(), 0, 0);
      default -> throw new IllegalArgumentException(stage.toString());
    };
    return new StageOutput(Map.of("in", 3L, "written", 3L), result);
  }

  @Test
  void aStageIsInvisibleUntilCommittedAndItsManifestIsWrittenLast() throws Exception {
    RunDir run = open();
    StageWriter w = run.begin(SCORES);
    try (OutputStream out = run.fs().create(w.temp("part-0"))) {
      out.write("data".getBytes(StandardCharsets.UTF_8));
    }
    assertThat(run.committed(SCORES)).as("not visible before commit").isEmpty();
    w.commit(plan(SCORES), output(SCORES));
    assertThat(run.committed(SCORES)).as("visible after commit").isPresent();
    assertThat(run.committed(SCORES).get().result(ScoreResult.class).pmax()).as("typed result read back").isEqualTo(1);
    assertThat(run.fs().exists(new Path(run.stagePath(SCORES), "part-0"))).isTrue();
    assertThat(run.listCommitted()).extracting(StageManifest::stage).containsExactly("scores/semi-weak");
  }

  @Test
  void aCrashedStageLeavesNoCommittedOutputAndTheRerunReplacesTheLeftover() throws Exception {
    RunDir run = open();
    // A crash between rename and manifest leaves a folder without a manifest.
    run.fs().mkdirs(run.layout().split(Split.LABELED));
    assertThat(run.committed(PREP)).as("leftover without manifest is not committed").isEmpty();
    try (StageWriter w = run.begin(PREP)) {
      run.fs().create(w.temp("new")).close();
      w.commit(plan(PREP), output(PREP));
    }
    assertThat(run.fs().exists(run.layout().split(Split.LABELED))).as("leftover removed").isFalse();
    assertThat(run.fs().exists(new Path(run.stagePath(PREP), "new"))).isTrue();
  }

  @Test
  void anAbortedWriterDeletesItsTemporaryOutput() throws Exception {
    RunDir run = open();
    Path temp;
    try (StageWriter w = run.begin(PREP)) {
      temp = w.tempDir();
      run.fs().create(w.temp("x")).close();
    }
    assertThat(run.fs().exists(temp)).isFalse();
    assertThat(run.committed(PREP)).isEmpty();
  }

  @Test
  void aCommittedStageIsNeverOverwritten() {
    RunDir run = open();
    run.begin(SELECTION).commit(plan(SELECTION), output(SELECTION));
    StageWriter again = run.begin(SELECTION);
    assertThatThrownBy(() -> again.commit(plan(SELECTION), output(SELECTION)))
        .hasMessageContaining("stage selection/semi-weak/k10-p1 is already committed");
  }

  @Test
  void aSecondProcessIsRefusedWhileTheLockIsHeld() {
    RunDir run = open();
    try (RunLock lock = run.lock("run")) {
      assertThatThrownBy(() -> open().lock("run"))
          .isInstanceOf(RunLockedException.class)
          .hasMessageContaining("is in use by another semiweak process")
          .hasMessageContaining("\"purpose\" : \"run\"");
    }
    try (RunLock again = open().lock("run")) {
      assertThat(again).as("lock can be taken after release").isNotNull();
    }
  }

  @Test
  void aRunWrittenByANewerFormatIsRefused() throws Exception {
    java.nio.file.Path dir = Files.createDirectories(tmp.resolve("newer"));
    Files.writeString(dir.resolve(RunLayout.RUN_FILE), "{\"formatVersion\": 99, \"semiweakVersion\": \"9.0\"}");
    assertThatThrownBy(() -> RunDir.open(dir.toUri().toString(), new Configuration()))
        .hasMessageContaining("written by semiweak 9.0 (run format 99)")
        .hasMessageContaining("Use a newer semiweak");
  }

  @Test
  void aNonEmptyForeignFolderIsNotTakenAsARunDirectory() throws Exception {
    java.nio.file.Path dir = Files.createDirectories(tmp.resolve("foreign"));
    Files.writeString(dir.resolve("important.txt"), "x");
    assertThatThrownBy(() -> RunDir.open(dir.toUri().toString(), new Configuration()))
        .hasMessageContaining("is not empty and has no _RUN.json");
  }

  @Test
  void aRunOfTheFormerFormatIsRefusedWithWhatToDo() throws Exception {
    java.nio.file.Path dir = Files.createDirectories(tmp.resolve("older"));
    Files.writeString(dir.resolve(RunLayout.RUN_FILE), "{\"formatVersion\": 1, \"semiweakVersion\": \"0.1\"}");
    assertThatThrownBy(() -> RunDir.open(dir.toUri().toString(), new Configuration()))
        .hasMessageContaining("(run format 1), whose manifests have no typed results")
        .hasMessageContaining("Start a new run directory");
  }

  @Test
  void aManifestAnswersWithTheResultTypeOfItsKindOnly() {
    RunDir run = open();
    StageManifest m = run.begin(SCORES).commit(plan(SCORES), output(SCORES));
    assertThat(m.typedResult()).as("the kind decides the type").isInstanceOf(ScoreResult.class);
    assertThatThrownBy(() -> m.result(SelectionResult.class))
        .hasMessageContaining("is a score stage: its result is a ScoreResult, not a SelectionResult");
    StageWriter w = run.begin(PREP);
    assertThatThrownBy(() -> w.commit(plan(PREP), output(SCORES)))
        .as("a stage cannot commit another kind's result").hasMessageContaining("records a PrepResult");
  }

  @Test
  void theFingerprintDependsOnOptionsAndInputsOnly() {
    Publication p = new Publication.Scores(1, 2);
    String a = StagePlan.builder(SCORES, Map.of("x", 1)).input("prep", "/p", "f1").publishes(p).build().fingerprint();
    String b = StagePlan.builder(SCORES, Map.of("x", 1)).input("prep", "/q", "f1").publishes(p).build().fingerprint();
    String c = StagePlan.builder(SCORES, Map.of("x", 2)).input("prep", "/p", "f1").publishes(p).build().fingerprint();
    String d = StagePlan.builder(SCORES, Map.of("x", 1)).input("prep", "/p", "f2").publishes(p).build().fingerprint();
    assertThat(a).as("paths do not matter").isEqualTo(b);
    assertThat(a).as("options matter").isNotEqualTo(c);
    assertThat(a).as("input fingerprints matter").isNotEqualTo(d);
  }
}
