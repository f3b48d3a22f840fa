package org.semiweak.run;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RunDirTest {
  @TempDir java.nio.file.Path tmp;

  private RunDir open() {
    return RunDir.open(tmp.resolve("run").toUri().toString(), new Configuration());
  }

  private static StageManifest manifest(String stage) {
    return new ManifestBuilder(stage, "test", Map.of("k", 1)).count("in", 3).count("written", 3).build();
  }

  @Test
  void aStageIsInvisibleUntilCommittedAndItsManifestIsWrittenLast() throws Exception {
    RunDir run = open();
    StageWriter w = run.begin("scores/semi-weak");
    try (OutputStream out = run.fs().create(w.temp("part-0"))) {
      out.write("data".getBytes(StandardCharsets.UTF_8));
    }
    assertThat(run.committed("scores/semi-weak")).as("not visible before commit").isEmpty();
    w.commit(manifest("scores/semi-weak"));
    assertThat(run.committed("scores/semi-weak")).as("visible after commit").isPresent();
    assertThat(run.fs().exists(new Path(run.stagePath("scores/semi-weak"), "part-0"))).isTrue();
    assertThat(run.listCommitted()).extracting(StageManifest::stage).containsExactly("scores/semi-weak");
  }

  @Test
  void aCrashedStageLeavesNoCommittedOutputAndTheRerunReplacesTheLeftover() throws Exception {
    RunDir run = open();
    // A crash between rename and manifest leaves a folder without a manifest.
    run.fs().mkdirs(new Path(run.stagePath("prep"), "labeled"));
    assertThat(run.committed("prep")).as("leftover without manifest is not committed").isEmpty();
    try (StageWriter w = run.begin("prep")) {
      run.fs().create(w.temp("new")).close();
      w.commit(manifest("prep"));
    }
    assertThat(run.fs().exists(new Path(run.stagePath("prep"), "labeled"))).as("leftover removed").isFalse();
    assertThat(run.fs().exists(new Path(run.stagePath("prep"), "new"))).isTrue();
  }

  @Test
  void anAbortedWriterDeletesItsTemporaryOutput() throws Exception {
    RunDir run = open();
    Path temp;
    try (StageWriter w = run.begin("prep")) {
      temp = w.tempDir();
      run.fs().create(w.temp("x")).close();
    }
    assertThat(run.fs().exists(temp)).isFalse();
    assertThat(run.committed("prep")).isEmpty();
  }

  @Test
  void aCommittedStageIsNeverOverwritten() {
    RunDir run = open();
    run.begin("select").commit(manifest("select"));
    StageWriter again = run.begin("select");
    assertThatThrownBy(() -> again.commit(manifest("select")))
        .hasMessageContaining("stage select is already committed");
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
    Files.writeString(dir.resolve(RunDir.RUN_FILE), "{\"formatVersion\": 99, \"semiweakVersion\": \"9.0\"}");
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
  void stageNamesCannotEscapeTheRunDirectory() {
    RunDir run = open();
    assertThatThrownBy(() -> run.begin("../x")).hasMessageContaining("invalid stage name");
    assertThatThrownBy(() -> run.begin("/abs")).hasMessageContaining("invalid stage name");
  }

  @Test
  void theFingerprintDependsOnOptionsAndInputsOnly() {
    String a = new ManifestBuilder("s", "k", Map.of("x", 1)).input("prep", "/p", "f1").count("in", 5).fingerprint();
    String b = new ManifestBuilder("s", "k", Map.of("x", 1)).input("prep", "/q", "f1").count("in", 9).fingerprint();
    String c = new ManifestBuilder("s", "k", Map.of("x", 2)).input("prep", "/p", "f1").fingerprint();
    String d = new ManifestBuilder("s", "k", Map.of("x", 1)).input("prep", "/p", "f2").fingerprint();
    assertThat(a).as("counts and paths do not matter").isEqualTo(b);
    assertThat(a).as("options matter").isNotEqualTo(c);
    assertThat(a).as("input fingerprints matter").isNotEqualTo(d);
  }
}
