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
  void aRecommitReplacesTheCommittedOutputAndRemovesTheOldFolderOnlyAfterwards() throws Exception {
    RunDir run = open();
    StageManifest first = commitWithFile(run, SELECTION, "part-0", "old rows");
    StageManifest second = commitWithFile(run, SELECTION, "part-1", "new rows");
    assertThat(second.commit()).as("each commit has its own id").isNotEqualTo(first.commit());
    assertThat(run.committed(SELECTION).orElseThrow().commit()).isEqualTo(second.commit());
    assertThat(run.fs().exists(new Path(run.stagePath(SELECTION), "part-1"))).isTrue();
    assertThat(run.fs().exists(new Path(run.stagePath(SELECTION), "part-0"))).as("the old output is gone").isFalse();
    assertThat(run.fs().exists(run.layout().replacedRoot()) && run.fs().listStatus(run.layout().replacedRoot()).length > 0)
        .as("nothing left aside").isFalse();
  }

  @Test
  void aCommitInterruptedAfterMovingTheOldOutputAsideIsUndoneByTheNextProcess() throws Exception {
    RunDir run = open();
    commitWithFile(run, SCORES, "part-0", "committed scores");
    // What a process killed inside commit() leaves: the old output aside, the new one not yet committed.
    Path aside = run.layout().replaced(SCORES, "killed");
    run.fs().mkdirs(run.layout().replacedRoot());
    assertThat(run.fs().rename(run.stagePath(SCORES), aside)).isTrue();
    run.fs().mkdirs(run.stagePath(SCORES));
    run.fs().create(new Path(run.stagePath(SCORES), "half-written")).close();
    assertThat(run.committed(SCORES)).isEmpty();

    List<String> done = open().recoverInterruptedCommits();

    assertThat(done).singleElement().asString().contains("restored the committed output of scores/semi-weak");
    assertThat(run.committed(SCORES)).as("committed again").isPresent();
    assertThat(run.status(SCORES, true).orElseThrow().state()).isEqualTo(StageStatus.State.COMMITTED);
    assertThat(run.fs().exists(new Path(run.stagePath(SCORES), "half-written"))).isFalse();
  }

  @Test
  void theManifestListsEveryFileWithItsSizeAndChecksum() throws Exception {
    RunDir run = open();
    StageManifest m = commitWithFile(run, SCORES, "sub/part-0", "12345");
    assertThat(m.files()).extracting(StageFile::path).contains("sub/part-0", RunLayout.PLAN_FILE)
        .doesNotContain(RunLayout.MANIFEST);
    StageFile part = m.files().stream().filter(f -> f.path().equals("sub/part-0")).findFirst().orElseThrow();
    assertThat(part.bytes()).isEqualTo(5);
    assertThat(part.checksum()).startsWith("crc32:");
    assertThat(run.status(SCORES, true).orElseThrow().state()).isEqualTo(StageStatus.State.COMMITTED);
  }

  @Test
  void aMissingExtraOrResizedFileMakesTheStageDamagedAndReadersRefuseIt() throws Exception {
    RunDir run = open();
    commitWithFile(run, SCORES, "part-0", "12345");
    Path part = new Path(run.stagePath(SCORES), "part-0");

    run.fs().delete(part, false);
    StageStatus missing = run.status(SCORES, false).orElseThrow();
    assertThat(missing.state()).isEqualTo(StageStatus.State.DAMAGED);
    assertThat(missing.problems()).containsExactly("file part-0 (5 bytes) is missing");
    assertThat(missing.repair()).isEqualTo("semiweak rerun " + run.root() + " scores/semi-weak");
    assertThatThrownBy(() -> run.requireIntact(SCORES, SELECTION))
        .isInstanceOf(DamagedStageException.class)
        .hasMessageContaining("selection/semi-weak/k10-p1 cannot read its input")
        .hasMessageContaining("stage 'scores/semi-weak'")
        .hasMessageContaining("file part-0 (5 bytes) is missing")
        .hasMessageContaining("Repair it with: semiweak rerun " + run.root() + " scores/semi-weak");
    assertThat(run.listCommitted()).as("a damaged stage is not offered to readers").isEmpty();

    writeRaw(run, part, "1234567");
    assertThat(run.status(SCORES, false).orElseThrow().problems()).containsExactly("file part-0 has 7 bytes, committed with 5");

    writeRaw(run, part, "12345");
    writeRaw(run, new Path(run.stagePath(SCORES), "part-9"), "x");
    assertThat(run.status(SCORES, false).orElseThrow().problems()).containsExactly("file part-9 was not part of the commit");
  }

  @Test
  void aFileRewrittenWithTheSameSizeIsFoundByItsChecksum() throws Exception {
    RunDir run = open();
    commitWithFile(run, SCORES, "part-0", "12345");
    writeRaw(run, new Path(run.stagePath(SCORES), "part-0"), "54321");
    assertThat(run.status(SCORES, false).orElseThrow().state()).as("sizes alone: looks intact")
        .isEqualTo(StageStatus.State.COMMITTED);
    assertThat(run.status(SCORES, true).orElseThrow().problems()).singleElement().asString()
        .startsWith("file part-0 changed since its commit");
  }

  @Test
  void anEditedManifestIsReadAndAnUnreadableOneIsReportedNotThrown() throws Exception {
    RunDir run = open();
    commitWithFile(run, SCORES, "part-0", "12345");
    commitWithFile(run, PREP, "labeled/part-0", "x");
    java.nio.file.Path manifest = tmp.resolve("run").resolve("scores/semi-weak").resolve(RunLayout.MANIFEST);
    // Hadoop's checksum side file would make this harmless edit a ChecksumException.
    Files.writeString(manifest, "\n", java.nio.file.StandardOpenOption.APPEND);
    assertThat(run.status(SCORES, false).orElseThrow().state()).isEqualTo(StageStatus.State.COMMITTED);

    Files.writeString(manifest, "{ not json");
    List<StageStatus> all = run.statuses(false);
    assertThat(all).extracting(StageStatus::stage).containsExactly("prep", "scores/semi-weak");
    StageStatus damaged = all.get(1);
    assertThat(damaged.state()).isEqualTo(StageStatus.State.DAMAGED);
    assertThat(damaged.problems()).singleElement().asString().contains("not a semiweak stage manifest");
    assertThat(damaged.repair()).isEqualTo("semiweak rerun " + run.root() + " scores/semi-weak");
    assertThat(all.get(0).state()).as("the other stages are unaffected").isEqualTo(StageStatus.State.COMMITTED);
    assertThatThrownBy(() -> run.committed(SCORES)).isInstanceOf(DamagedStageException.class)
        .hasMessageContaining("Repair it with: semiweak rerun");
  }

  @Test
  void aStageBuiltOnAReplacedInputIsStale() throws Exception {
    RunDir run = open();
    StageManifest scores = commitWithFile(run, SCORES, "part-0", "12345");
    StagePlan selectionPlan = StagePlan.builder(SELECTION, Map.of("k", 10))
        .input(new Upstream(run).require(SCORES, SELECTION)).publishes(new Publication.Selection(10, 1)).build();
    StageWriter w = run.begin(SELECTION);
    StageManifest selection = w.commit(selectionPlan, output(SELECTION));
    assertThat(selection.inputs()).singleElement().extracting(StageManifest.Input::commit).isEqualTo(scores.commit());
    assertThat(run.status(SELECTION, false).orElseThrow().state()).isEqualTo(StageStatus.State.COMMITTED);

    commitWithFile(run, SCORES, "part-0", "67890");

    StageStatus stale = run.status(SELECTION, false).orElseThrow();
    assertThat(stale.state()).isEqualTo(StageStatus.State.STALE);
    assertThat(stale.problems()).singleElement().asString().contains("its input 'scores/semi-weak' was replaced");
  }

  @Test
  void aFolderWithoutManifestIsALeftover() throws Exception {
    RunDir run = open();
    run.fs().mkdirs(run.stagePath(SCORES));
    assertThat(run.statuses(false)).singleElement().extracting(StageStatus::state).isEqualTo(StageStatus.State.LEFTOVER);
  }

  @Test
  void openingAPathWithoutARunForReadingCreatesNothing() {
    java.nio.file.Path nothing = tmp.resolve("no-run-here");
    assertThatThrownBy(() -> RunDir.openExisting(nothing.toUri().toString(), new Configuration()))
        .hasMessageContaining("is not a semiweak run directory").hasMessageContaining("does not exist");
    assertThat(Files.exists(nothing)).isFalse();
  }

  private static StageManifest commitWithFile(RunDir run, StageId stage, String file, String content) throws Exception {
    StageWriter w = run.begin(stage);
    try (OutputStream out = run.fs().create(w.temp(file))) {
      out.write(content.getBytes(StandardCharsets.UTF_8));
    }
    return w.commit(plan(stage), output(stage));
  }

  /** Overwrites a file as a person or another tool would: no Hadoop checksum side file kept in step. */
  private void writeRaw(RunDir run, Path p, String content) throws Exception {
    java.nio.file.Path local = java.nio.file.Path.of(p.toUri());
    Files.writeString(local, content);
    Files.deleteIfExists(local.resolveSibling("." + local.getFileName() + ".crc"));
  }

  @Test
  void aSecondProcessIsRefusedWhileTheLockIsHeld() {
    RunDir run = open();
    try (RunLock lock = run.lock("run")) {
      assertThatThrownBy(() -> open().lock("run"))
          .isInstanceOf(RunLockedException.class)
          .hasMessageContaining("is in use by another semiweak process")
          .hasMessageContaining("pid " + ProcessHandle.current().pid() + " (run)");
    }
    try (RunLock again = open().lock("run")) {
      assertThat(again).as("lock can be taken after release").isNotNull();
    }
  }

  @Test
  void openingCreatesNothingUntilTheLeaseOrTheFirstStage() throws Exception {
    RunDir run = open();
    assertThat(Files.exists(tmp.resolve("run"))).as("open creates no folder").isFalse();
    assertThat(run.exists()).isFalse();
    assertThat(run.committed(SCORES)).as("an absent run has nothing committed").isEmpty();
    assertThat(run.listCommitted()).isEmpty();
    assertThat(run.statuses(false)).isEmpty();
    try (RunLock lock = run.lock("run")) {
      assertThat(Files.exists(tmp.resolve("run").resolve(RunLayout.RUN_FILE))).as("the lease creates the run").isTrue();
    }
    RunDir other = RunDir.open(tmp.resolve("other").toUri().toString(), new Configuration());
    other.begin(SCORES).close();
    assertThat(other.exists()).as("so does the first stage written without a lease").isTrue();
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
