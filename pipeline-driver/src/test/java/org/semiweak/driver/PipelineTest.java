package org.semiweak.driver;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;
import org.semiweak.run.RunDir;
import org.semiweak.run.StageManifest;
import org.semiweak.testing.IdxSubset;

/**
 * The whole pipeline through the CLI on a small slice of the real Fashion-MNIST (tiny schedules:
 * this checks the wiring, the skipping and the reruns; accuracy is the demo's job).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PipelineTest {
  @TempDir static Path tmp;
  static Path config;
  static String runDir;

  @BeforeAll
  static void smallRealDataset() throws Exception {
    Path data = IdxSubset.write(tmp.resolve("fmnist"), 3000, 1000);
    runDir = tmp.resolve("run").toUri().toString();
    config = tmp.resolve("run.yaml");
    Files.writeString(config, String.join("\n",
        "run-dir: " + runDir,
        "spark-master: local[2]",
        "teachers: [semi-supervised, semi-weak]",
        "prep: {source: idx, input: " + data + ", labeled-per-class: 20, image-size: 28, channels: 1}",
        "train-teacher: {widths: [8, 16], epochs: 2, weak-epochs: 1, finetune-epochs: 1, local-steps: 5, weak-local-steps: 10}",
        "score: {pmax: 3}",
        "select: {k: 50, p: 3}",
        "pretrain: {widths: [8, 16], epochs: 1, local-steps: 5}",
        "finetune: {epochs: 1, local-steps: 5}",
        "baseline: {epochs: 2, local-steps: 5}",
        ""));
  }

  static String[] cli(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code = new SemiweakCli(new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8)).execute(args);
    return new String[] {String.valueOf(code), out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8)};
  }

  /** The sum over classes of min(K, candidates), from the selection's per-class statistics. */
  static long expectedSelected(String stage, int k) {
    List<?> classes = (List<?>) run().committed(stage).orElseThrow().metrics().get("classes");
    assertThat(classes).as("one statistics row per class").hasSize(10);
    long sum = 0;
    for (Object c : classes) {
      sum += Math.min(k, ((Number) ((Map<?, ?>) c).get("candidates")).longValue());
    }
    return sum;
  }

  static RunDir run() {
    return RunDir.open(runDir, new Configuration());
  }

  @Test
  @Order(1)
  void runsEveryStageAndCommitsItWithAManifest() {
    String[] r = cli("run", config.toString());
    assertThat(r[0]).as("exit code; stderr: %s", r[2]).isEqualTo("0");
    assertThat(run().listCommitted()).extracting(StageManifest::stage).containsExactlyInAnyOrder(
        "prep", "teacher/semi-supervised", "teacher/semi-weak", "scores/semi-supervised", "scores/semi-weak",
        "selection/semi-supervised/k50-p3", "selection/semi-weak/k50-p3",
        "student/semi-supervised/k50-p3/pretrain", "student/semi-weak/k50-p3/pretrain",
        "student/semi-supervised/k50-p3/finetune", "student/semi-weak/k50-p3/finetune", "baseline", "evaluate");
    StageManifest prep = run().committed("prep").orElseThrow();
    assertThat(prep.count("in")).as("prep accounts for every record")
        .isEqualTo(prep.count("written") + prep.count("quarantined") + prep.count("duplicates"));
    StageManifest scores = run().committed("scores/semi-weak").orElseThrow();
    assertThat(scores.count("in")).as("every unlabeled image scored once")
        .isEqualTo(scores.count("scored") + scores.count("rejected"))
        .isEqualTo(prep.count("written.unlabeled"));
    StageManifest selection = run().committed("selection/semi-weak/k50-p3").orElseThrow();
    assertThat(selection.count("selected")).as("min(K, candidates) per class")
        .isEqualTo(expectedSelected("selection/semi-weak/k50-p3", 50))
        .isGreaterThan(0);
    long labeled = prep.count("written.labeled");
    for (String stage : List.of("teacher/semi-supervised", "student/semi-weak/k50-p3/finetune", "baseline")) {
      assertThat(run().committed(stage).orElseThrow().count("training-examples.labeled"))
          .as("%s trained on the whole labeled split", stage).isEqualTo(labeled);
    }
    assertThat(run().committed("student/semi-weak/k50-p3/pretrain").orElseThrow().count("training-examples.pseudo-labels"))
        .as("pretrained on the whole selection").isEqualTo(selection.count("selected"));
    assertThat(r[1]).as("the final table").contains("baseline").contains("top-1 %").contains("precision %");
    List<?> models = (List<?>) run().committed("evaluate").orElseThrow().metrics().get("models");
    assertThat(models).as("teachers, students and baseline evaluated").hasSize(5);
    for (Object o : models) {
      Map<?, ?> m = (Map<?, ?>) o;
      long counted = ((List<?>) m.get("confusion")).stream()
          .flatMap(row -> ((List<?>) row).stream()).mapToLong(v -> ((Number) v).longValue()).sum();
      assertThat(counted).as("%s: every test image lands in the confusion matrix once", m.get("model")).isEqualTo(1000);
      assertThat(((Number) m.get("top5")).doubleValue()).as("top-5 >= top-1")
          .isGreaterThanOrEqualTo(((Number) m.get("top1")).doubleValue());
    }
  }

  @Test
  @Order(2)
  void aSecondRunSkipsEveryCommittedStage() {
    String[] r = cli("run", config.toString());
    assertThat(r[0]).as("stderr: %s", r[2]).isEqualTo("0");
    assertThat(r[1]).as("nothing ran again").doesNotContain(" running").contains("up to date");
  }

  @Test
  @Order(3)
  void aNewKReusesTheScoresAndKeepsTheEarlierSelection() {
    String[] r = cli("run", config.toString(), "--from", "select", "--select.k", "30", "--teachers", "semi-weak");
    assertThat(r[0]).as("stderr: %s", r[2]).isEqualTo("0");
    assertThat(r[1]).contains("[1/8 prep] up to date").contains("scores/semi-weak] up to date")
        .contains("selection/semi-weak/k30-p3] running");
    assertThat(run().committed("selection/semi-weak/k30-p3")).isPresent();
    assertThat(run().committed("selection/semi-weak/k50-p3")).as("earlier selection kept").isPresent();
    assertThat(run().committed("selection/semi-weak/k30-p3").orElseThrow().count("selected"))
        .as("min(K, candidates) per class").isEqualTo(expectedSelected("selection/semi-weak/k30-p3", 30));
  }

  @Test
  @Order(4)
  void statusListsTheCommittedStages() {
    String[] r = cli("status", runDir);
    assertThat(r[0]).isEqualTo("0");
    assertThat(r[1]).contains("selection/semi-weak/k30-p3").contains("teacher/semi-weak").contains("prep");
  }

  @Test
  @Order(5)
  void aSingleStageCommandSelectsAgainFromTheCommittedScores() {
    String[] r = cli("select", "--run-dir", runDir, "--teacher", "semi-supervised", "--k", "10", "--p", "2");
    assertThat(r[0]).as("stderr: %s", r[2]).isEqualTo("0");
    assertThat(run().committed("selection/semi-supervised/k10-p2").orElseThrow().count("selected"))
        .as("min(K, candidates) per class").isEqualTo(expectedSelected("selection/semi-supervised/k10-p2", 10));
  }

  @Test
  @Order(6)
  void badOptionsAreRejectedBeforeAnythingRuns() {
    String[] r = cli("select", "--run-dir", runDir, "--teacher", "semi-weak", "--kk", "10");
    assertThat(r[0]).isEqualTo("2");
    assertThat(r[2]).contains("select: unknown option 'kk' (did you mean 'k'?)");
    r = cli("select", "--run-dir", runDir, "--teacher", "semi-weak", "--p", "4");
    assertThat(r[0]).isEqualTo("2");
    assertThat(r[2]).contains("kept only the top 3 classes per image (pmax)");
  }

  @Test
  @Order(7)
  void untilStopsAfterTheNamedStageKind() {
    String[] r = cli("run", config.toString(), "--until", "select");
    assertThat(r[0]).as("stderr: %s", r[2]).isEqualTo("0");
    assertThat(r[1]).as("prep, 2 teachers, 2 scores, 2 selections").contains("pipeline of 7 stages")
        .contains("selection/semi-weak/k50-p3] up to date").doesNotContain("pretrain]").doesNotContain("evaluate]");
    r = cli("run", config.toString(), "--until", "selekt");
    assertThat(r[0]).isEqualTo("2");
    assertThat(r[2]).contains("unknown stage 'selekt'");
  }
}
