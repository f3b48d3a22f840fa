package org.semiweak.driver;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;
import org.semiweak.run.RunDir;
import org.semiweak.run.RunLayout;
import org.semiweak.run.StageManifest;
import org.semiweak.run.result.EvaluationResult;
import org.semiweak.run.result.ModelResult;
import org.semiweak.run.result.ReportResult;
import org.semiweak.run.result.ScoreResult;
import org.semiweak.run.result.SelectionResult;
import org.semiweak.run.result.TrainingPhase;
import org.semiweak.report.Chromium;
import org.semiweak.run.StageStatus;
import java.util.Arrays;
import org.semiweak.testing.IdxSubset;

/**
 * Distillation through the CLI on a small slice of the real Fashion-MNIST (tiny schedules: wiring
 * and accounting, not accuracy): scores written without logits, as every score before the option
 * existed, are refused by distill before any Spark job with the rerun to make; with a {@code
 * distill} section, {@code run} scores again with logits, distills the teacher into a student on
 * every scored image, fine-tunes it, and evaluates it beside the other models. Each run ends with its
 * report, which the next tests read and open in a headless chromium (the screenshot stays in
 * {@code target/report-screenshot/report.png}). With {@code generations: 2} (Noisy Student), that
 * student then teaches a second generation.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class DistillPipelineTest {
  static final String TEACHER = "semi-supervised";

  @TempDir static Path tmp;
  static String runDir;
  /** What the distill run printed. */
  static String runOutput;

  @BeforeAll
  static void smallRealDataset() throws Exception {
    Path data = IdxSubset.write(tmp.resolve("fmnist"), 1200, 300);
    runDir = tmp.resolve("run").toUri().toString();
    String common = String.join("\n",
        "run-dir: " + runDir,
        "spark-master: local[2]",
        "teachers: [" + TEACHER + "]",
        "prep: {source: idx, input: " + data + ", labeled-per-class: 10, image-size: 28, channels: 1}",
        "train-teacher: {widths: [16, 32], epochs: 2, local-steps: 5}",
        "select: {k: 20, p: 2}",
        "pretrain: {widths: [16, 32], epochs: 1, local-steps: 5}",
        "finetune: {epochs: 1, local-steps: 5}",
        "baseline: {epochs: 1, local-steps: 5}",
        "");
    Files.writeString(tmp.resolve("old-scores.yaml"), common + "score: {pmax: 3, logits: none}\n");
    Files.writeString(tmp.resolve("distill.yaml"), common + "score: {pmax: 3}\n"
        + "distill: {temperature: 2, epochs: 1, local-steps: 5}\n");
  }

  static RunDir run() {
    return RunDir.open(runDir, new Configuration());
  }

  @Test
  @Order(1)
  void scoresWithoutLogitsAreRefusedByDistillBeforeAnySparkJobNamingTheOptionAndTheRerun() throws Exception {
    String[] r = PipelineTest.cli("run", tmp.resolve("old-scores.yaml").toString(), "--until", "score");
    assertThat(r[0]).as("stderr: %s", r[2]).isEqualTo("0");
    ReportResult early = run().committed(RunLayout.report()).orElseThrow().result(ReportResult.class);
    assertThat(early.omitted()).as("a run that stops after score reports what it has, and says what it lacks")
        .anySatisfy(o -> assertThat(o).startsWith("Evaluation: No evaluation committed yet"))
        .anySatisfy(o -> assertThat(o).startsWith("Selection: No selection committed yet"));
    assertThat(early.sections()).contains("Training", "Scores", "Prepared images", "Run facts");
    // Make the committed scores exactly what semiweak wrote before logits could be kept: no logits
    // column (logits: none) and no "logits" in the manifest's result.
    org.apache.hadoop.fs.Path manifest = run().layout().manifest(RunLayout.scores(TEACHER));
    java.nio.file.Path file = java.nio.file.Path.of(manifest.toUri());
    String json = Files.readString(file);
    assertThat(json).contains("\"logits\" : false");
    Files.writeString(file, json.replaceAll(",\\s*\"logits\" : false", ""));
    assertThat(run().committed(RunLayout.scores(TEACHER)).orElseThrow().result(ScoreResult.class).logits())
        .as("an old score manifest").isNull();

    String[] d = PipelineTest.cli("distill", "--run-dir", runDir, "--teacher", TEACHER, "--spark-master", "local[2]",
        "--widths", "16,32", "--epochs", "1");
    assertThat(d[0]).as("a configuration error; stdout: %s", d[1]).isEqualTo("2");
    assertThat(d[2]).contains("student/" + TEACHER + "/distill-t2/distill trains on the teacher's logits")
        .contains("scores/" + TEACHER + " kept only the top 3 probabilities")
        .contains("logits: none, or before that option existed")
        .contains("semiweak run CONFIG --from score").contains("logits: all")
        .contains("semiweak rerun " + run().root() + " scores/" + TEACHER);
    assertThat(run().statuses(false)).as("nothing was written for distill")
        .noneMatch(s -> s.stage().contains("distill"));
    assertThat(Files.exists(java.nio.file.Path.of(run().layout().work(RunLayout.distill(TEACHER, "distill-t2")).toUri())))
        .as("no work folder either").isFalse();
  }

  @Test
  @Order(2)
  void aRunWithADistillSectionDistillsOnEveryScoredImageFineTunesAndEvaluatesTheDistilledStudent() {
    String[] r = PipelineTest.cli("run", tmp.resolve("distill.yaml").toString());
    assertThat(r[0]).as("stderr: %s", r[2]).isEqualTo("0");
    String distill = "student/" + TEACHER + "/distill-t2/distill";
    String distilled = "student/" + TEACHER + "/distill-t2/finetune";
    assertThat(run().listCommitted()).extracting(StageManifest::stage).contains(
        "scores/" + TEACHER, "selection/" + TEACHER + "/k20-p2", "student/" + TEACHER + "/k20-p2/pretrain",
        "student/" + TEACHER + "/k20-p2/finetune", distill, distilled, "baseline", "evaluate");

    StageManifest prep = run().committed(RunLayout.prep()).orElseThrow();
    StageManifest scores = run().committed(RunLayout.scores(TEACHER)).orElseThrow();
    assertThat(scores.result(ScoreResult.class).hasLogits()).as("scored again, keeping the logits (auto)").isTrue();
    assertThat(scores.count("scored")).as("every unlabeled image scored")
        .isEqualTo(prep.count("written.unlabeled")).isGreaterThan(0);
    StageManifest distillManifest = run().committed(RunLayout.distill(TEACHER, "distill-t2")).orElseThrow();
    assertThat(distillManifest.count("training-examples.distill")).as("every scored image is a distillation example")
        .isEqualTo(scores.count("scored"));
    assertThat(distillManifest.kind()).isEqualTo("distill");
    assertThat(distillManifest.options()).containsEntry("temperature", 2.0);
    assertThat(distillManifest.result(ModelResult.class).training()).flatExtracting(TrainingPhase::learningCurve)
        .as("every distill round's training-batch accuracy, against the argmax of the teacher's soft targets")
        .isNotEmpty().allSatisfy(p -> assertThat(p.trainAccuracy()).isNotNull().isBetween(0.0, 1.0));
    StageManifest finetuned = run().committed(RunLayout.finetune(TEACHER, "distill-t2")).orElseThrow();
    assertThat(finetuned.count("training-examples.labeled")).as("fine-tuned on the whole labeled split")
        .isEqualTo(prep.count("written.labeled"));
    assertThat(finetuned.inputs()).extracting(StageManifest.Input::name).as("continues the distilled student")
        .contains(distill);

    List<EvaluationResult.ModelEvaluation> models =
        run().committed(RunLayout.evaluate()).orElseThrow().result(EvaluationResult.class).models();
    assertThat(models).extracting(EvaluationResult.ModelEvaluation::model).containsExactlyInAnyOrder(
        "teacher/" + TEACHER, "student/" + TEACHER + "/k20-p2/finetune", distill, distilled, "baseline");
    assertThat(models).filteredOn(m -> m.model().equals(distilled)).singleElement().satisfies(m -> {
      assertThat(m.role()).isEqualTo("student");
      long counted = m.confusion().stream().flatMap(List::stream).mapToLong(Long::longValue).sum();
      assertThat(counted).as("every test image evaluated once").isEqualTo(300);
    });
    runOutput = r[1];
    assertThat(r[1]).as("the results table shows the distilled student and its stages")
        .containsPattern(java.util.regex.Pattern.quote(distilled) + "\\s+student")
        .contains(distill + " ");
  }

  @Test
  @Order(3)
  void theRunEndsWithItsReportCommittedLikeAStageWithEverySectionAndChartFromWhatItCommitted() throws Exception {
    Path page = Path.of(run().layout().reportPage().toUri());
    assertThat(runOutput).as("the run's last line says where the report is")
        .endsWith("semiweak: report: " + page + "\n");
    StageManifest manifest = run().committed(RunLayout.report()).orElseThrow();
    ReportResult report = manifest.result(ReportResult.class);
    assertThat(run().status(RunLayout.report(), false).orElseThrow().state()).isEqualTo(StageStatus.State.COMMITTED);
    assertThat(report.page()).isEqualTo("report/index.html");
    assertThat(report.sections()).as("every section, in page order")
        .containsExactly("Evaluation", "Training", "Scores", "Selection", "Prepared images", "Run facts");
    assertThat(report.omitted()).as("this run has something for every section").isEmpty();
    assertThat(report.stages()).as("it reports on every other committed stage")
        .containsExactlyElementsOf(run().listCommitted().stream().map(StageManifest::stage)
            .filter(st -> !st.equals("report")).toList());
    assertThat(manifest.inputs()).extracting(StageManifest.Input::name).as("and records them as its inputs")
        .containsExactlyElementsOf(report.stages());

    String html = Files.readString(page);
    assertThat(Files.size(page)).isEqualTo(report.bytes());
    assertThat(html).as("self-contained: no script, no style sheet, font or image from elsewhere")
        .doesNotContain("<script").doesNotContain("<link").doesNotContain("@import").doesNotContain("url(");
    assertThat(html.replace("xmlns=\"http://www.w3.org/2000/svg\"", "")).doesNotContain("http://")
        .doesNotContain("https://");
    List<String> models = run().committed(RunLayout.evaluate()).orElseThrow().result(EvaluationResult.class).models()
        .stream().map(EvaluationResult.ModelEvaluation::model).toList();
    assertThat(count(html, "<svg ")).as("every chart is an inline svg").isEqualTo(report.charts());
    assertThat(count(html, "class=\"chart heatmap\"")).as("a confusion heatmap per evaluated model")
        .isEqualTo(models.size());
    for (String model : models) {
      assertThat(html).contains("confusion on the test split: " + model).contains("accuracy per class: " + model);
    }
    assertThat(html).as("training curves").contains("class=\"chart line-chart\"")
        .contains("training loss: teacher/" + TEACHER).contains("training loss: student/" + TEACHER + "/distill-t2/distill");
    assertThat(html).as("training-batch accuracy curves, said to be measured on augmented batches in train mode")
        .contains("training-batch accuracy: teacher/" + TEACHER + " (top-1, augmented, train mode)")
        .contains("training-batch accuracy: student/" + TEACHER + "/distill-t2/distill (top-1, augmented, train mode)")
        .contains("<th>final train acc %</th>").doesNotContain("No training-batch accuracy for");
    assertThat(count(html, "training-batch accuracy: ")).as("an accuracy chart beside every loss chart")
        .isEqualTo(count(html, "training loss: ")).isPositive();
    assertThat(html).as("score histograms, overall and per class").contains("top-1 probability: scores/" + TEACHER)
        .contains("class=\"chart histogram\"");
    assertThat(count(html, "class=\"chart histogram\"")).as("1 overall + 10 classes").isEqualTo(11);
    String selection = "selection/" + TEACHER + "/k20-p2";
    assertThat(html).as("selection per class against K, with the precision the simulated labels allow")
        .contains("selected per class: " + selection).contains(">K = 20</text>")
        .contains("score at rank K: " + selection).contains("precision per class: " + selection);
    // Per class: ranks 1-8 and the 8 ranks up to its last one (rank K when the class filled K), each image once.
    long thumbnails = run().committed(RunLayout.selection(TEACHER, "k20-p2")).orElseThrow()
        .result(SelectionResult.class).classes().stream().mapToLong(c -> Math.min(16, c.selected())).sum();
    assertThat(count(html, "<img src=\"data:image/png;base64,")).as("the top and the borderline images of every class")
        .isEqualTo(thumbnails);
    assertThat(html).as("prep and run facts").contains("images per class and split")
        .contains(run().committed(RunLayout.prep()).orElseThrow().fingerprint().substring(0, 12));
  }

  @Test
  @Order(4)
  void theReportLoadsInAHeadlessBrowserWithEveryChartInItsDomAndLeavesAScreenshot() throws Exception {
    Chromium chromium = Chromium.require();
    Path page = Path.of(run().layout().reportPage().toUri());
    ReportResult report = run().committed(RunLayout.report()).orElseThrow().result(ReportResult.class);

    String dom = chromium.dumpDom(page);
    assertThat(dom).as("the page loaded").contains("<h1>semiweak run ");
    for (String section : report.sections()) {
      assertThat(dom).contains("<h2>" + section + "</h2>");
    }
    assertThat(count(dom, "<svg ")).as("every chart rendered into the DOM").isEqualTo(report.charts());
    assertThat(count(dom, "<img ")).as("every thumbnail").isEqualTo(count(Files.readString(page), "<img "));

    Path png = Path.of("target", "report-screenshot", "report.png");
    chromium.screenshot(page, png, 1200, 3000);
    byte[] head = Arrays.copyOf(Files.readAllBytes(png), 8);
    assertThat(head).as("a PNG file").startsWith((byte) 0x89, (byte) 'P', (byte) 'N', (byte) 'G');
    assertThat(Files.size(png)).as("a page with charts, not a blank one").isGreaterThan(50_000);
  }

  static int count(String text, String part) {
    int n = 0;
    for (int i = text.indexOf(part); i >= 0; i = text.indexOf(part, i + part.length())) {
      n++;
    }
    return n;
  }

  @Test
  @Order(5)
  void aSecondGenerationIsTaughtByTheFirstGenerationsFinalStudentAndRunsOnlyItsOwnStages() {
    String gen1 = "student/" + TEACHER + "/distill-t2/finetune";
    String gen2 = TEACHER + "-gen2";
    java.util.Map<String, String> before = commits();

    String[] dry = PipelineTest.cli("run", tmp.resolve("distill.yaml").toString(), "--generations", "2", "--until",
        "select", "--dry-run");
    assertThat(dry[0]).as("stderr: %s", dry[2]).isEqualTo("0");
    assertThat(dry[1]).as("--until before finetune stops in the first generation, whose finetune teaches the second")
        .doesNotContain(gen2);

    String[] r = PipelineTest.cli("run", tmp.resolve("distill.yaml").toString(), "--generations", "2");
    assertThat(r[0]).as("stderr: %s", r[2]).isEqualTo("0");
    java.util.Map<String, String> after = commits();
    before.forEach((stage, commit) -> {
      if (!stage.equals("evaluate") && !stage.equals("report")) {
        assertThat(after).as("the first generation is up to date: %s kept", stage).containsEntry(stage, commit);
      }
    });
    assertThat(after.keySet()).contains("scores/" + gen2, "selection/" + gen2 + "/k20-p2",
        "student/" + gen2 + "/k20-p2/pretrain", "student/" + gen2 + "/k20-p2/finetune",
        "student/" + gen2 + "/distill-t2/distill", "student/" + gen2 + "/distill-t2/finetune");

    StageManifest scores = run().committed(RunLayout.scores(gen2)).orElseThrow();
    assertThat(scores.inputs()).extracting(StageManifest.Input::name).as("scored by the first generation's student")
        .containsExactlyInAnyOrder("prep", gen1);
    assertThat(scores.options()).containsEntry("model", gen1).containsEntry("teacher", gen2);
    assertThat(scores.result(ScoreResult.class).hasLogits()).as("what the second distillation trains on").isTrue();
    assertThat(scores.count("scored")).isEqualTo(run().committed(RunLayout.prep()).orElseThrow()
        .count("written.unlabeled"));

    List<String> evaluated = run().committed(RunLayout.evaluate()).orElseThrow().result(EvaluationResult.class)
        .models().stream().map(EvaluationResult.ModelEvaluation::model).toList();
    assertThat(evaluated).as("every generation's students are evaluated, the first generation's as before").containsExactly(
        "teacher/" + TEACHER, "student/" + TEACHER + "/k20-p2/finetune", "student/" + TEACHER + "/distill-t2/distill",
        gen1, "baseline", "student/" + gen2 + "/k20-p2/finetune", "student/" + gen2 + "/distill-t2/distill",
        "student/" + gen2 + "/distill-t2/finetune");
    assertThat(r[1]).as("the results table shows the second generation")
        .containsPattern(java.util.regex.Pattern.quote("student/" + gen2 + "/distill-t2/finetune") + "\\s+student");
    assertThat(run().committed(RunLayout.report()).orElseThrow().result(ReportResult.class).stages())
        .as("the report is written again and covers the second generation")
        .contains("scores/" + gen2, "student/" + gen2 + "/distill-t2/finetune");
  }

  @Test
  @Order(6)
  void aModelCannotScoreIntoTheScoresItLearnedFromAndScoreModelMustNameAModelStage() {
    String model = "student/" + TEACHER + "/k20-p2/finetune";
    String[] cycle = PipelineTest.cli("score", "--run-dir", runDir, "--teacher", TEACHER, "--model", model,
        "--spark-master", "local[2]");
    assertThat(cycle[0]).as("a configuration error; stdout: %s", cycle[1]).isEqualTo("2");
    assertThat(cycle[2]).contains(model + " was trained from scores/" + TEACHER).contains("--teacher " + TEACHER + "-gen2");

    String[] notAModel = PipelineTest.cli("score", "--run-dir", runDir, "--teacher", "other", "--model",
        "selection/" + TEACHER + "/k20-p2", "--spark-master", "local[2]");
    assertThat(notAModel[0]).isEqualTo("2");
    assertThat(notAModel[2]).contains("is a select stage, which commits no model");

    String[] zero = PipelineTest.cli("run", tmp.resolve("distill.yaml").toString(), "--generations", "0", "--dry-run");
    assertThat(zero[0]).isEqualTo("2");
    assertThat(zero[2]).contains("generations: expected a whole number of at least 1, found '0'");
  }

  @Test
  @Order(7)
  void jointDistillationTrainsOnEveryScoredImageAndTheLabeledImagesInEveryBatch() {
    String[] tooMany = PipelineTest.cli("distill", "--run-dir", runDir, "--teacher", TEACHER, "--batch-size", "8",
        "--labeled-per-batch", "8", "--spark-master", "local[2]");
    assertThat(tooMany[0]).as("refused before any job; stdout: %s", tooMany[1]).isEqualTo("2");
    assertThat(tooMany[2]).contains("labeled-per-batch 8 must be below batch-size 8");

    String[] r = PipelineTest.cli("distill", "--run-dir", runDir, "--teacher", TEACHER, "--epochs", "1",
        "--local-steps", "5", "--labeled-per-batch", "16", "--force", "--spark-master", "local[2]");
    assertThat(r[0]).as("stderr: %s", r[2]).isEqualTo("0");
    StageManifest prep = run().committed(RunLayout.prep()).orElseThrow();
    StageManifest scores = run().committed(RunLayout.scores(TEACHER)).orElseThrow();
    StageManifest joint = run().committed(RunLayout.distill(TEACHER, "distill-t2")).orElseThrow();
    assertThat(joint.options()).containsEntry("labeled-per-batch", 16);
    assertThat(joint.count("training-examples.distill")).as("every scored image and every labeled image")
        .isEqualTo(scores.count("scored") + prep.count("written.labeled"));
    TrainingPhase phase = joint.result(ModelResult.class).training().get(0);
    long scored = scores.count("scored");
    assertThat(phase.totalSteps()).as("one epoch is a pass over the scored images, 64 - 16 of them a step")
        .isEqualTo((scored + 47) / 48);
  }

  /** The commit id of every committed stage. */
  private static java.util.Map<String, String> commits() {
    java.util.Map<String, String> out = new java.util.TreeMap<>();
    run().listCommitted().forEach(m -> out.put(m.stage(), m.commit()));
    return out;
  }
}
