package org.semiweak.driver;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;
import org.semiweak.run.RunLayout;
import org.semiweak.run.StageId;
import org.semiweak.run.result.EvaluationResult;
import org.semiweak.run.result.SelectionResult;
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
  static long expectedSelected(StageId stage, int k) {
    List<SelectionResult.ClassSelection> classes =
        run().committed(stage).orElseThrow().result(SelectionResult.class).classes();
    assertThat(classes).as("one statistics row per class").hasSize(10);
    return classes.stream().mapToLong(c -> Math.min(k, c.candidates())).sum();
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
        "student/semi-supervised/k50-p3/finetune", "student/semi-weak/k50-p3/finetune", "baseline", "evaluate",
        "report");
    StageManifest prep = run().committed(RunLayout.prep()).orElseThrow();
    assertThat(prep.count("in")).as("prep accounts for every record")
        .isEqualTo(prep.count("written") + prep.count("quarantined") + prep.count("duplicates"));
    StageManifest scores = run().committed(RunLayout.scores("semi-weak")).orElseThrow();
    assertThat(scores.count("in")).as("every unlabeled image scored once")
        .isEqualTo(scores.count("scored") + scores.count("rejected"))
        .isEqualTo(prep.count("written.unlabeled"));
    StageManifest selection = run().committed(RunLayout.selection("semi-weak", "k50-p3")).orElseThrow();
    assertThat(selection.count("selected")).as("min(K, candidates) per class")
        .isEqualTo(expectedSelected(RunLayout.selection("semi-weak", "k50-p3"), 50))
        .isGreaterThan(0);
    long labeled = prep.count("written.labeled");
    for (StageId stage : List.of(RunLayout.teacher("semi-supervised"), RunLayout.finetune("semi-weak", "k50-p3"),
        RunLayout.baseline())) {
      assertThat(run().committed(stage).orElseThrow().count("training-examples.labeled"))
          .as("%s trained on the whole labeled split", stage).isEqualTo(labeled);
    }
    assertThat(run().committed(RunLayout.pretrain("semi-weak", "k50-p3")).orElseThrow().count("training-examples.pseudo-labels"))
        .as("pretrained on the whole selection").isEqualTo(selection.count("selected"));
    assertThat(r[1]).as("the final table").contains("baseline").contains("top-1 %").contains("precision %");
    List<EvaluationResult.ModelEvaluation> models =
        run().committed(RunLayout.evaluate()).orElseThrow().result(EvaluationResult.class).models();
    assertThat(models).as("teachers, students and baseline evaluated").hasSize(5);
    for (EvaluationResult.ModelEvaluation m : models) {
      long counted = m.confusion().stream().flatMap(List::stream).mapToLong(Long::longValue).sum();
      assertThat(counted).as("%s: every test image lands in the confusion matrix once", m.model()).isEqualTo(1000);
      assertThat(m.top5()).as("top-5 >= top-1").isGreaterThanOrEqualTo(m.top1());
    }
  }

  @Test
  @Order(2)
  void independentStagesRunSideBySideAndTrainTheSameModels() {
    String parallelDir = tmp.resolve("run-parallel").toUri().toString();
    String[] r = cli("run", config.toString(), "--run-dir", parallelDir, "--parallel-stages", "2");
    assertThat(r[0]).as("stderr: %s", r[2]).isEqualTo("0");
    RunDir parallel = RunDir.open(parallelDir, new Configuration());
    // Both teachers read only prep, so both start as soon as it has committed.
    StageManifest semiSupervised = parallel.committed(RunLayout.teacher("semi-supervised")).orElseThrow();
    StageManifest semiWeak = parallel.committed(RunLayout.teacher("semi-weak")).orElseThrow();
    assertThat(java.time.Instant.parse(semiWeak.startedAt()))
        .as("the second teacher started before the first one finished")
        .isBefore(java.time.Instant.parse(semiSupervised.finishedAt()));
    for (StageManifest m : parallel.listCommitted()) {
      for (StageManifest.Input in : m.inputs()) {
        org.semiweak.run.StageWriter.stageOf(in).ifPresent(upstream -> assertThat(
            java.time.Instant.parse(parallel.committed(upstream).orElseThrow().finishedAt()))
            .as("%s started after its input %s had finished", m.stage(), upstream)
            .isBeforeOrEqualTo(java.time.Instant.parse(m.startedAt())));
      }
    }
    // Training is deterministic on the CPU: the order in which stages ran changes no model.
    List<EvaluationResult.ModelEvaluation> sideBySide =
        parallel.committed(RunLayout.evaluate()).orElseThrow().result(EvaluationResult.class).models();
    List<EvaluationResult.ModelEvaluation> oneAfterAnother =
        run().committed(RunLayout.evaluate()).orElseThrow().result(EvaluationResult.class).models();
    assertThat(sideBySide).extracting(EvaluationResult.ModelEvaluation::model)
        .containsExactlyElementsOf(oneAfterAnother.stream().map(EvaluationResult.ModelEvaluation::model).toList());
    for (int i = 0; i < sideBySide.size(); i++) {
      assertThat(sideBySide.get(i).confusion()).as("confusion matrix of %s", sideBySide.get(i).model())
          .isEqualTo(oneAfterAnother.get(i).confusion());
    }
  }

  @Test
  @Order(3)
  void theEvaluationIsAlsoTwoLongFormatParquetTablesThatSparkSqlReads() {
    StageManifest evaluate = run().committed(RunLayout.evaluate()).orElseThrow();
    List<EvaluationResult.ModelEvaluation> models = evaluate.result(EvaluationResult.class).models();
    String folder = run().stagePath(RunLayout.evaluate()).toString();
    SparkSession spark = org.semiweak.run.SparkSessions.getOrCreate("pipeline-test", "local[2]");
    spark.read().parquet(folder + "/per_class").createOrReplaceTempView("per_class");
    spark.read().parquet(folder + "/confusion").createOrReplaceTempView("confusion");

    assertThat(spark.sql("SELECT count(*) FROM per_class").first().getLong(0))
        .as("one row per model and class (no validation split here)").isEqualTo(5 * 10)
        .isEqualTo(evaluate.count("per-class-rows"));
    assertThat(spark.sql("SELECT count(*) FROM confusion").first().getLong(0)).isEqualTo(5 * 10 * 10)
        .isEqualTo(evaluate.count("confusion-rows"));
    for (EvaluationResult.ModelEvaluation m : models) {
      List<Row> perClass = spark.sql("SELECT class_index, class_name, correct, support, accuracy FROM per_class"
          + " WHERE split = 'test' AND model = '" + m.model() + "' ORDER BY class_index").collectAsList();
      assertThat(perClass).hasSize(10);
      for (Row r : perClass) {
        int c = r.getInt(0);
        assertThat(r.getLong(2)).as("%s class %d: correct is the confusion diagonal", m.model(), c)
            .isEqualTo(m.confusion().get(c).get(c));
        assertThat(r.getLong(3)).as("support is the row sum").isEqualTo(
            m.confusion().get(c).stream().mapToLong(Long::longValue).sum());
        assertThat(r.getDouble(4)).as("accuracy as in the manifest")
            .isCloseTo(m.perClassAccuracy().get(c), org.assertj.core.api.Assertions.within(1e-12));
      }
      assertThat(perClass.get(9).getString(1)).isEqualTo("Ankle boot");
      Row totals = spark.sql("SELECT sum(count), sum(CASE WHEN true_class = predicted_class THEN count END)"
          + " FROM confusion WHERE model = '" + m.model() + "'").first();
      assertThat(totals.getLong(0)).as("%s: every test image once", m.model()).isEqualTo(1000);
      assertThat(totals.getLong(1) / 1000.0).as("%s: the diagonal is top-1", m.model())
          .isCloseTo(m.top1(), org.assertj.core.api.Assertions.within(1e-12));
    }
  }

  @Test
  @Order(4)
  void aSecondRunSkipsEveryCommittedStage() {
    String[] r = cli("run", config.toString());
    assertThat(r[0]).as("stderr: %s", r[2]).isEqualTo("0");
    assertThat(r[1]).as("nothing ran again").doesNotContain(" running").contains("up to date");
  }

  @Test
  @Order(5)
  void aNewKReusesTheScoresAndKeepsTheEarlierSelection() {
    String[] r = cli("run", config.toString(), "--from", "select", "--select.k", "30", "--teachers", "semi-weak");
    assertThat(r[0]).as("stderr: %s", r[2]).isEqualTo("0");
    assertThat(r[1]).contains("[1/8 prep] up to date").contains("scores/semi-weak] up to date")
        .contains("selection/semi-weak/k30-p3] running");
    assertThat(run().committed(RunLayout.selection("semi-weak", "k30-p3"))).isPresent();
    assertThat(run().committed(RunLayout.selection("semi-weak", "k50-p3"))).as("earlier selection kept").isPresent();
    assertThat(run().committed(RunLayout.selection("semi-weak", "k30-p3")).orElseThrow().count("selected"))
        .as("min(K, candidates) per class").isEqualTo(expectedSelected(RunLayout.selection("semi-weak", "k30-p3"), 30));
  }

  @Test
  @Order(6)
  void statusListsTheCommittedStages() {
    String[] r = cli("status", runDir);
    assertThat(r[0]).isEqualTo("0");
    assertThat(r[1]).contains("selection/semi-weak/k30-p3").contains("teacher/semi-weak").contains("prep");
    assertThat(r[1]).as("the prep summary: splits, classes, tags, quarantine, the input's accounting")
        .contains("splits: labeled 200, unlabeled ").contains("Ankle boot").contains("tags: ").contains("quarantine: ")
        .contains("input (idx ");
  }

  @Test
  @Order(7)
  void aSingleStageCommandSelectsAgainFromTheCommittedScores() {
    String[] r = cli("select", "--run-dir", runDir, "--teacher", "semi-supervised", "--k", "10", "--p", "2");
    assertThat(r[0]).as("stderr: %s", r[2]).isEqualTo("0");
    assertThat(run().committed(RunLayout.selection("semi-supervised", "k10-p2")).orElseThrow().count("selected"))
        .as("min(K, candidates) per class").isEqualTo(expectedSelected(RunLayout.selection("semi-supervised", "k10-p2"), 10));
  }

  @Test
  @Order(8)
  void badOptionsAreRejectedBeforeAnythingRuns() {
    String[] r = cli("select", "--run-dir", runDir, "--teacher", "semi-weak", "--kk", "10");
    assertThat(r[0]).isEqualTo("2");
    assertThat(r[2]).contains("select: unknown option 'kk' (did you mean 'k'?)");
    r = cli("select", "--run-dir", runDir, "--teacher", "semi-weak", "--p", "4");
    assertThat(r[0]).isEqualTo("2");
    assertThat(r[2]).contains("keeps only the top 3 classes per image (score.pmax)");
  }

  @Test
  @Order(9)
  void untilStopsAfterTheNamedStageKind() {
    String[] r = cli("run", config.toString(), "--until", "select");
    assertThat(r[0]).as("stderr: %s", r[2]).isEqualTo("0");
    assertThat(r[1]).as("prep, 2 teachers, 2 scores, 2 selections").contains("pipeline of 7 stages")
        .contains("selection/semi-weak/k50-p3] up to date").doesNotContain("pretrain]").doesNotContain("evaluate]");
    r = cli("run", config.toString(), "--until", "selekt");
    assertThat(r[0]).isEqualTo("2");
    assertThat(r[2]).contains("unknown stage 'selekt'");
  }

  @Test
  @Order(10)
  void parallelStagesMustBeAPositiveWholeNumber() {
    String[] r = cli("run", config.toString(), "--parallel-stages", "0");
    assertThat(r[0]).isEqualTo("2");
    assertThat(r[2]).contains("--parallel-stages: expected a whole number of at least 1, found '0'");
  }
}
