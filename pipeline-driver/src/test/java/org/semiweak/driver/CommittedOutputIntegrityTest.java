package org.semiweak.driver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.semiweak.run.RunDir;
import org.semiweak.run.RunLayout;
import org.semiweak.run.RunLock;
import org.semiweak.run.RunLockedException;
import org.semiweak.run.StageId;
import org.semiweak.run.StageStatus;
import org.semiweak.run.result.ModelResult;
import org.semiweak.testing.IdxSubset;
import org.semiweak.util.Json;

/**
 * Committed outputs verify themselves, and a failed rerun never loses good data: the cases an
 * operator met on copies of a finished run, each on its own copy of one real run (prep, a small
 * teacher, score, select) made once through the command line.
 */
class CommittedOutputIntegrityTest {
  @TempDir static Path tmp;
  static Path config;
  static Path finished;

  static final String TEACHER = "semi-supervised";
  static final StageId SCORES = RunLayout.scores(TEACHER);
  static final StageId SELECTION = RunLayout.selection(TEACHER, "k30-p2");

  @BeforeAll
  static void finishedRun() throws Exception {
    Path data = IdxSubset.write(tmp.resolve("fmnist"), 600, 100);
    config = tmp.resolve("run.yaml");
    Files.writeString(config, String.join("\n",
        "spark-master: local[2]",
        "teachers: [" + TEACHER + "]",
        "prep: {source: idx, input: " + data + ", labeled-per-class: 10, image-size: 28, channels: 1}",
        "train-teacher: {recipe: " + TEACHER + ", widths: [8, 16], epochs: 2}",
        "score: {teacher: " + TEACHER + ", pmax: 3, partitions: 3}",
        "select: {teacher: " + TEACHER + ", k: 30, p: 2}",
        "pretrain: {teacher: " + TEACHER + ", selection: k30-p2, widths: [8, 16], epochs: 1}",
        ""));
    finished = tmp.resolve("finished");
    String[] r = cli("run", config.toString(), "--run-dir", finished.toUri().toString(), "--until", "select");
    assertThat(r[0]).as("the run to copy; stderr: %s", r[2]).isEqualTo("0");
  }

  @Test
  void aSelectionMissingAPartFileIsDamagedInStatusRefusedByItsReaderAndRepairedByTheCommandStatusGives()
      throws Exception {
    Path run = RunFiles.copyOf(finished, tmp.resolve("missing-part"));
    Path victim = RunFiles.largestPart(run.resolve(SELECTION.path()));
    Files.delete(victim);
    Files.deleteIfExists(RunFiles.crc(victim));

    String[] status = cli("status", run.toString());
    assertThat(status[0]).as("status works; stderr: %s", status[2]).isEqualTo("0");
    assertThat(line(status[1], SELECTION.path())).contains("damaged");
    assertThat(status[1]).contains("file " + victim.getFileName() + " (").contains("bytes) is missing");
    String repair = repairLine(status[1]);
    assertThat(repair).startsWith("semiweak rerun ").endsWith(run + " " + SELECTION.path());
    JsonNode json = Json.MAPPER.readTree(cli("status", run.toString(), "--json")[1]);
    assertThat(stateInJson(json, SELECTION.path())).as("status --json reports the same state").isEqualTo("damaged");
    assertThat(stateInJson(json, SCORES.path())).isEqualTo("committed");

    String[] pretrain = cli("pretrain", "--config", config.toString(), "--run-dir", run.toString());
    assertThat(pretrain[0]).as("pretrain does not train on part of the selection; stderr: %s", pretrain[2])
        .isEqualTo("1");
    assertThat(pretrain[2]).contains("cannot read its input").contains("stage '" + SELECTION.path() + "'")
        .contains(victim.getFileName().toString()).contains("Repair it with: " + repair);
    assertThat(Files.exists(run.resolve(RunLayout.pretrain(TEACHER, "k30-p2").path()))).isFalse();

    String[] repaired = cli(Arrays.copyOfRange(repair.split(" "), 1, repair.split(" ").length));
    assertThat(repaired[0]).as("the repair command works; stderr: %s", repaired[2]).isEqualTo("0");
    assertThat(states(run)).containsEntry(SELECTION.path(), "committed");

    pretrain = cli("pretrain", "--config", config.toString(), "--run-dir", run.toString());
    assertThat(pretrain[0]).as("stderr: %s", pretrain[2]).isEqualTo("0");
    RunDir r = open(run);
    long selected = r.committed(SELECTION).orElseThrow().count("selected");
    assertThat(r.committed(RunLayout.pretrain(TEACHER, "k30-p2")).orElseThrow().result(ModelResult.class)
        .phase("pseudo-labels").examples()).as("trained on every selected image").isEqualTo(selected);
  }

  @Test
  void aRerunThatFailsLeavesTheRunExactlyAsItWasWhicheverWayItWasStarted() throws Exception {
    Path run = RunFiles.copyOf(finished, tmp.resolve("failed-rerun"));
    // Damage that only a task meets: the file keeps its length, so the stage starts and then fails.
    RunFiles.corruptFirstPage(RunFiles.largestPart(run.resolve("prep/unlabeled")));
    Map<String, String> before = commits(run);
    assertThat(before).containsKeys("prep", "teacher/" + TEACHER, SCORES.path(), SELECTION.path());

    List<String[]> ways = List.of(
        new String[] {"score", "--config", config.toString(), "--run-dir", run.toString(), "--force"},
        new String[] {"score", "--config", config.toString(), "--run-dir", run.toString(), "--pmax", "2"},
        new String[] {"run", config.toString(), "--run-dir", run.toString(), "--from", "score", "--until", "select"});
    for (String[] way : ways) {
      String[] r = cli(way);
      assertThat(r[0]).as("%s fails; stderr: %s", String.join(" ", way), r[2]).isEqualTo("1");
      assertThat(commits(run)).as("after the failed '%s', every stage is the commit it was", String.join(" ", way))
          .isEqualTo(before);
      assertThat(states(run)).as("and every stage is still committed").containsOnlyKeys(before.keySet())
          .allSatisfy((stage, state) -> assertThat(state).isEqualTo("committed"));
      assertThat(children(run.resolve(RunLayout.TMP))).as("no temporary output left").isEmpty();
      assertThat(children(run.resolve(RunLayout.REPLACED))).as("nothing moved aside").isEmpty();
    }
  }

  @Test
  void anEditedManifestIsHarmlessAndABrokenOneIsRepairedAndItsDependentsRebuilt() throws Exception {
    Path run = RunFiles.copyOf(finished, tmp.resolve("damaged-manifest"));
    Path manifest = run.resolve(SCORES.path()).resolve(RunLayout.MANIFEST);
    Files.writeString(manifest, "\n", java.nio.file.StandardOpenOption.APPEND);
    assertThat(states(run)).as("an added newline changes nothing").containsEntry(SCORES.path(), "committed");
    String[] select = cli("select", "--config", config.toString(), "--run-dir", run.toString());
    assertThat(select[0]).as("stderr: %s", select[2]).isEqualTo("0");
    assertThat(select[1]).contains("up to date");

    String json = Files.readString(manifest);
    Files.writeString(manifest, json.substring(0, json.length() / 2));
    String[] status = cli("status", run.toString());
    assertThat(status[0]).as("one bad manifest does not make status fail; stderr: %s", status[2]).isEqualTo("0");
    assertThat(line(status[1], SCORES.path())).contains("damaged");
    assertThat(line(status[1], SELECTION.path())).as("the stage built on it").contains("stale");
    assertThat(line(status[1], "prep")).contains("committed");
    String repair = repairLine(status[1]);
    assertThat(repair).endsWith(" " + SCORES.path());

    select = cli("select", "--config", config.toString(), "--run-dir", run.toString());
    assertThat(select[0]).as("a reader of the damaged stage is refused; stderr: %s", select[2]).isNotEqualTo("0");
    assertThat(select[2]).contains("is damaged").contains(repair);

    String[] repaired = cli(Arrays.copyOfRange(repair.split(" "), 1, repair.split(" ").length));
    assertThat(repaired[0]).as("the repair command works from the plan beside the manifest; stderr: %s", repaired[2])
        .isEqualTo("0");
    assertThat(states(run)).containsEntry(SCORES.path(), "committed").containsEntry(SELECTION.path(), "stale");

    String[] rerun = cli("run", config.toString(), "--run-dir", run.toString(), "--until", "select");
    assertThat(rerun[0]).as("stderr: %s", rerun[2]).isEqualTo("0");
    assertThat(rerun[1]).contains("[4/4 " + SELECTION.path() + "] stale (its input '" + SCORES.path() + "' was replaced");
    assertThat(states(run)).as("everything committed again")
        .allSatisfy((stage, state) -> assertThat(state).isEqualTo("committed"));
  }

  @Test
  void statusOfAFolderWithoutARunFailsAndCreatesNothing() {
    Path nothing = tmp.resolve("not-a-run");
    String[] r = cli("status", nothing.toString());
    assertThat(r[0]).isEqualTo("2");
    assertThat(r[2]).contains("is not a semiweak run directory");
    assertThat(Files.exists(nothing)).isFalse();
  }

  @Test
  void aDryRunSaysWhichStagesWouldRunOrBeSkippedAndWhyAndChangesNothing() throws Exception {
    Path run = RunFiles.copyOf(finished, tmp.resolve("dry-run"));
    String dir = run.toString();
    Map<String, String> before = snapshot(run);

    String[] r = cli("run", config.toString(), "--run-dir", dir, "--until", "select", "--dry-run");
    assertThat(r[0]).as("stderr: %s", r[2]).isEqualTo("0");
    assertThat(r[1]).contains("[1/4 prep] skip: up to date (fingerprint ")
        .contains("[4/4 " + SELECTION.path() + "] skip: up to date").contains("0 of 4 stages would run");

    r = cli("run", config.toString(), "--run-dir", dir, "--until", "select", "--from", "score", "--select.k", "20",
        "--dry-run");
    assertThat(r[0]).as("stderr: %s", r[2]).isEqualTo("0");
    assertThat(r[1]).contains("[2/4 teacher/" + TEACHER + "] skip: up to date")
        .contains("[3/4 " + SCORES.path() + "] run: rerun asked for (--force or --from)")
        .contains("[4/4 selection/" + TEACHER + "/k20-p2] run: not committed yet");

    Path victim = RunFiles.largestPart(run.resolve("prep/labeled"));
    Files.delete(victim);
    Files.deleteIfExists(RunFiles.crc(victim));
    before = snapshot(run);
    r = cli("run", config.toString(), "--run-dir", dir, "--until", "select", "--dry-run");
    assertThat(r[0]).as("stderr: %s", r[2]).isEqualTo("0");
    assertThat(r[1]).contains("[1/4 prep] run: damaged (file labeled/" + victim.getFileName() + " (")
        .contains("[2/4 teacher/" + TEACHER + "] run: its input 'prep' runs before it: it will be stale then")
        .contains("[3/4 " + SCORES.path() + "] run: its input 'prep' runs before it")
        .contains("[4/4 " + SELECTION.path() + "] run: its input '" + SCORES.path() + "' runs before it")
        .contains("4 of 4 stages would run");
    assertThat(snapshot(run)).as("a dry run changes no file of the run").isEqualTo(before);

    Path fresh = tmp.resolve("dry-run-fresh");
    r = cli("run", config.toString(), "--run-dir", fresh.toString(), "--until", "select", "--dry-run");
    assertThat(r[0]).as("stderr: %s", r[2]).isEqualTo("0");
    assertThat(r[1]).contains("the run directory does not exist yet").contains("[1/4 prep] run: not committed yet")
        .contains("4 of 4 stages would run");
    assertThat(Files.exists(fresh)).as("a dry run creates nothing").isFalse();

    r = cli("run", config.toString(), "--run-dir", fresh.toString(), "--until", "select", "--select.p", "9",
        "--dry-run");
    assertThat(r[0]).as("the checks of a real run apply").isEqualTo("2");
    assertThat(r[2]).contains("the pipeline is not valid");
    assertThat(Files.exists(fresh)).isFalse();
  }

  @Test
  void aLiveLeaseRefusesAStageUntilBreakLockAndTheResultsTableIsWrittenToSummaryMd() throws Exception {
    Path run = RunFiles.copyOf(finished, tmp.resolve("break-lock"));
    RunLock held = open(run).lock("semiweak score", new RunLock.Options(Duration.ofMinutes(10), false));
    try {
      String[] r = cli("select", "--config", config.toString(), "--run-dir", run.toString());
      assertThat(r[0]).as("a live lease refuses the stage; stderr: %s", r[2]).isEqualTo("3");
      assertThat(r[2]).contains("is in use by another semiweak process").contains("(semiweak score)")
          .contains("last heartbeat").contains("--break-lock");

      r = cli("select", "--config", config.toString(), "--run-dir", run.toString(), "--lock-timeout", "0s");
      assertThat(r[0]).isEqualTo("2");
      assertThat(r[2]).contains("--lock-timeout: at least 1s, found '0s'");

      r = cli("select", "--config", config.toString(), "--run-dir", run.toString(), "--break-lock");
      assertThat(r[0]).as("--break-lock takes it; stderr: %s", r[2]).isEqualTo("0");
      assertThat(r[1]).contains("semiweak: broke the lock of ").contains("(semiweak score)")
          .contains("[1/1 " + SELECTION.path() + "] up to date");
      assertThatThrownBy(held::verifyHeld).as("the former holder would not commit")
          .isInstanceOf(RunLockedException.class);
    } finally {
      held.close();
    }
    assertThat(Files.exists(run.resolve(RunLayout.LOCK_FILE))).as("released after the command").isFalse();

    String summary = Files.readString(run.resolve(RunLayout.SUMMARY_FILE));
    assertThat(summary).as("SUMMARY.md: this command's stage, and the run's other committed stages")
        .contains("# semiweak run ").contains("ran 0 and reused 1 of its 1 stages")
        .containsPattern(SELECTION.path() + " +\\d[\\d,]* +\\S+")
        .containsPattern(SELECTION.path() + " +reused +\\d")
        .containsPattern("\\nprep +earlier +\\d")
        .containsPattern(SCORES.path() + " +earlier +\\d");
    assertThat(cli("status", run.toString())[0]).as("status ignores SUMMARY.md").isEqualTo("0");
  }

  /** Every file of a run with its size and modification time. */
  private static Map<String, String> snapshot(Path run) throws IOException {
    try (Stream<Path> files = Files.walk(run)) {
      Map<String, String> out = new TreeMap<>();
      for (Path f : files.filter(Files::isRegularFile).toList()) {
        out.put(run.relativize(f).toString(), Files.size(f) + " " + Files.getLastModifiedTime(f));
      }
      return out;
    }
  }

  static String[] cli(String... args) {
    return PipelineTest.cli(args);
  }

  private static RunDir open(Path run) {
    return RunDir.openExisting(run.toUri().toString(), new Configuration());
  }

  /** Stage path to commit id, for every stage with a readable manifest. */
  private static Map<String, String> commits(Path run) {
    return open(run).statuses(false).stream().filter(s -> s.manifest() != null)
        .collect(Collectors.toMap(StageStatus::stage, s -> s.manifest().commit(), (a, b) -> a, TreeMap::new));
  }

  /** Stage path to state, as status reports it. */
  private static Map<String, String> states(Path run) {
    return open(run).statuses(false).stream()
        .collect(Collectors.toMap(StageStatus::stage, s -> s.state().label(), (a, b) -> a, TreeMap::new));
  }

  private static String stateInJson(JsonNode status, String stage) {
    for (JsonNode s : status.get("stages")) {
      if (s.get("stage").asText().equals(stage)) {
        return s.get("state").asText();
      }
    }
    throw new AssertionError("no stage " + stage + " in " + status);
  }

  private static String line(String text, String stage) {
    return text.lines().filter(l -> l.startsWith(stage + " ")).findFirst()
        .orElseThrow(() -> new AssertionError("no line for " + stage + " in:\n" + text));
  }

  /** The repair of the first damaged stage (stale stages, such as the report, have repair lines too). */
  private static String repairLine(String status) {
    List<String> lines = status.lines().toList();
    int damaged = 0;
    while (damaged < lines.size() && !lines.get(damaged).matches("\\S+\\s+damaged\\s.*")) {
      damaged++;
    }
    return lines.stream().skip(damaged).map(String::strip).filter(l -> l.startsWith("repair: ")).findFirst()
        .orElseThrow(() -> new AssertionError("no repair line of a damaged stage in:\n" + status))
        .substring("repair: ".length());
  }

  private static List<Path> children(Path dir) throws IOException {
    if (!Files.isDirectory(dir)) {
      return List.of();
    }
    try (Stream<Path> s = Files.list(dir)) {
      return s.toList();
    }
  }

}
