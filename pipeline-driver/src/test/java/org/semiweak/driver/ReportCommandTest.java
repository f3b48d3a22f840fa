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
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.semiweak.run.RunDir;
import org.semiweak.run.RunLayout;
import org.semiweak.run.Stage;
import org.semiweak.run.StageId;
import org.semiweak.run.StageOutput;
import org.semiweak.run.StagePlan;
import org.semiweak.run.StageStatus;
import org.semiweak.run.StageWriter;
import org.semiweak.run.Upstream;
import org.semiweak.run.result.ModelDescription;
import org.semiweak.run.result.ModelResult;
import org.semiweak.run.result.Publication;
import org.semiweak.run.result.TrainingPhase;

/**
 * The report command's edges (the report of a real run is DistillPipelineTest's). The report closes a run ({@link PipelineRunner#finishWith}) but never fails it: when it cannot be
 * written, the stages that succeeded stay committed, the run returns their outcomes and writes its
 * summary, and the output says so with the command that writes the report again.
 */
class ReportCommandTest {
  @TempDir Path tmp;

  /**
   * A model stage that commits at once, without Spark: its training phases, test top-1 and, for a
   * self-supervised teacher, the linear evaluation (null for others).
   */
  record CommittedModel(StageId id, List<TrainingPhase> training, double testTop1,
      ModelResult.LinearEvaluation linear) implements Stage {
    static CommittedModel quick(StageId id) {
      return new CommittedModel(id, List.of(), 0.5, null);
    }

    static CommittedModel trained(StageId id, TrainingPhase phase) {
      return new CommittedModel(id, List.of(phase), 0.5, null);
    }

    @Override
    public StagePlan plan(Upstream upstream) {
      return StagePlan.builder(id, Map.of()).publishes(new Publication.Model(28, 1, 10)).build();
    }

    @Override
    public StageOutput execute(SparkSession spark, StagePlan plan, StageWriter out) {
      return new StageOutput(Map.of("in", 1L), new ModelResult(
          new ModelDescription("semiweak-resnet", "test", "f", 28, 1, 10, null), training, testTop1, 0.9, 10_000,
          linear));
    }
  }

  @Test
  void aReportThatFailsIsAWarningNamingTheRerunAndTheRunKeepsItsCommittedStages() throws Exception {
    RunDir run = RunDir.open(tmp.resolve("run").toUri().toString(), new Configuration());
    Stage teacher = CommittedModel.quick(RunLayout.teacher("a"));
    Stage failingReport = new ParallelStagesTest.FakeStage(RunLayout.report(), List.of(), () -> {
      throw new IllegalStateException("cannot read scores/a: a damaged file");
    });
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    PipelineRunner runner = new PipelineRunner(run, ParallelStagesTest::spark,
        new PrintStream(bytes, true, StandardCharsets.UTF_8)).finishWith(() -> failingReport);

    List<StageOutcome> outcomes = runner.run(List.of(teacher), null, false);

    String out = bytes.toString(StandardCharsets.UTF_8);
    assertThat(outcomes).as("the teacher's outcome, and none for the report").extracting(StageOutcome::id)
        .containsExactly(RunLayout.teacher("a"));
    assertThat(run.committed(RunLayout.teacher("a"))).as("the stage that succeeded stays committed").isPresent();
    assertThat(run.committed(RunLayout.report())).as("no report committed").isEmpty();
    assertThat(out).contains("WARNING: the report could not be written: cannot read scores/a: a damaged file")
        .contains("write it again with: semiweak report --run-dir " + run.root());
    assertThat(Files.readString(tmp.resolve("run").resolve(RunLayout.SUMMARY_FILE)))
        .as("the summary is written all the same").contains("teacher/a");
  }

  private static TrainingPhase labeled(TrainingPhase.CurvePoint... curve) {
    return new TrainingPhase("labeled", 64, 128, 4, 2, 1, 2, 0, 1.0, curve[curve.length - 1].loss(), List.of("driver"),
        List.of(curve));
  }

  @Test
  void theTrainingSectionChartsEachModelsTrainingBatchAccuracyAndSaysWhichPhasesHaveNone() throws Exception {
    RunDir run = RunDir.open(tmp.resolve("run").toUri().toString(), new Configuration());
    Stage measured = CommittedModel.trained(RunLayout.teacher("a"), labeled(new TrainingPhase.CurvePoint(1, 2, 1.5, 100, 0.5),
        new TrainingPhase.CurvePoint(2, 4, 0.9, 100, 0.75)));
    // As a manifest written before the training-batch accuracy was recorded reads.
    Stage old = CommittedModel.trained(RunLayout.teacher("b"), labeled(new TrainingPhase.CurvePoint(1, 2, 1.4, 100),
        new TrainingPhase.CurvePoint(2, 4, 0.8, 100)));
    PipelineRunner runner = new PipelineRunner(run, ParallelStagesTest::spark,
        new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8))
        .finishWith(() -> StageCatalog.REPORT.create(run, Map.of()));

    runner.run(List.of(measured, old), null, false);

    assertThat(run.committed(RunLayout.report())).as("the report committed").isPresent();
    String html = Files.readString(tmp.resolve("run").resolve("report").resolve("index.html"));
    assertThat(html).as("a loss chart for both models")
        .contains("training loss: teacher/a").contains("training loss: teacher/b");
    assertThat(html).as("an accuracy chart for the model whose manifest has the accuracy, in percent")
        .contains("training-batch accuracy: teacher/a (top-1, augmented, train mode)")
        .contains("labeled: round 2, train acc % 75")
        .doesNotContain("training-batch accuracy: teacher/b");
    assertThat(html).as("a note instead for the model whose manifest predates it")
        .contains("No training-batch accuracy for teacher/b (labeled): recorded before semiweak measured it.");
    assertThat(html).as("the table's final train acc %: the last round's, or n/a")
        .contains("<th>final train acc %</th>")
        .containsPattern("<td>teacher/a</td><td>labeled</td>(<td[^>]*>[^<]*</td>){5}<td class=\"n\">75.00</td>")
        .containsPattern("<td>teacher/b</td><td>labeled</td>(<td[^>]*>[^<]*</td>){5}<td class=\"n\">n/a</td>");
  }

  @Test
  void theTrainingSectionTablesEachSelfSupervisedEncodersLinearEvaluationBesideItsFineTunedAccuracy() throws Exception {
    RunDir run = RunDir.open(tmp.resolve("run").toUri().toString(), new Configuration());
    Stage pretrained = new CommittedModel(RunLayout.teacher("ssl"), List.of(), 0.8533,
        new ModelResult.LinearEvaluation(1_000, 0.8390, 10_000));
    Stage supervised = CommittedModel.quick(RunLayout.teacher("semi-supervised"));
    PipelineRunner runner = new PipelineRunner(run, ParallelStagesTest::spark,
        new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8))
        .finishWith(() -> StageCatalog.REPORT.create(run, Map.of()));

    runner.run(List.of(pretrained, supervised), null, false);

    String html = Files.readString(tmp.resolve("run").resolve("report").resolve("index.html"));
    assertThat(html).as("a row for the model with a linear evaluation: labeled images, linear top-1, fine-tuned top-1")
        .contains("<th>linear evaluation top-1 %</th><th>fine-tuned top-1 %</th>")
        .containsPattern("<td>teacher/ssl</td><td class=\"n\">1,000</td><td class=\"n\">83.90</td>"
            + "<td class=\"n\">85.33</td><td class=\"n\">10,000</td>");
    int header = html.indexOf("<th>linear evaluation top-1 %</th>");
    String linearTable = html.substring(header, html.indexOf("</table>", header));
    assertThat(linearTable).as("no row for the model without one").contains("teacher/ssl")
        .doesNotContain("teacher/semi-supervised");
  }

  /** A model stage that reads another one's output. */
  record ModelFrom(StageId id, StageId input) implements Stage {
    @Override
    public StagePlan plan(Upstream upstream) {
      return StagePlan.builder(id, Map.of()).input(upstream.require(input, id))
          .publishes(new Publication.Model(28, 1, 10)).build();
    }

    @Override
    public StageOutput execute(SparkSession spark, StagePlan plan, StageWriter out) {
      return CommittedModel.quick(id).execute(spark, plan, out);
    }
  }

  @Test
  void aStageWhoseInputRanAgainIsStillReportedButTheReportSaysItIsStale() throws Exception {
    RunDir run = RunDir.open(tmp.resolve("run").toUri().toString(), new Configuration());
    StageId teacher = RunLayout.teacher("a");
    StageId student = RunLayout.finetune("a", "k4-p1");
    PrintStream quiet = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
    new PipelineRunner(run, ParallelStagesTest::spark, quiet)
        .run(List.of(CommittedModel.quick(teacher), new ModelFrom(student, teacher)), null, false);

    // The teacher alone runs again: the student was built from the teacher's previous commit.
    new PipelineRunner(run, ParallelStagesTest::spark, quiet).finishWith(() -> StageCatalog.REPORT.create(run, Map.of()))
        .run(List.of(CommittedModel.quick(teacher)), null, true);

    assertThat(run.status(student, false).orElseThrow().state()).isEqualTo(StageStatus.State.STALE);
    String html = Files.readString(tmp.resolve("run").resolve("report").resolve("index.html"));
    assertThat(html).as("the page's summary names the stale stage and what rebuilds it")
        .contains("1 of them is stale: an input stage ran again after it was built")
        .contains("rebuilds it): " + student.path() + ".");
    assertThat(html).as("the run facts give each stage's state")
        .contains("<th>state</th>")
        .containsPattern("<td>" + student.path() + "</td><td>finetune</td><td>stale</td>")
        .containsPattern("<td>" + teacher.path() + "</td><td>train-teacher</td><td>committed</td>");
  }

  @Test
  void aReportOfAFolderWithoutAnyCommittedStageIsAUsageErrorThatCreatesNothing() {
    Path nothing = tmp.resolve("no-run");
    String[] r = PipelineTest.cli("report", "--run-dir", nothing.toString());
    assertThat(r[0]).as("exit code; stdout: %s", r[1]).isEqualTo("2");
    assertThat(r[2]).contains("report: no stage is committed in").contains("nothing to report")
        .contains("semiweak status ");
    assertThat(Files.exists(nothing)).as("no run directory created").isFalse();
  }

  @Test
  void helpReportSaysWhatThePageShowsAndHowToWriteItAgain() {
    String[] r = PipelineTest.cli("help", "report");
    assertThat(r[0]).isEqualTo("0");
    assertThat(r[1]).contains("report/index.html").contains("--thumbnails").contains("no script")
        .contains("semiweak report --run-dir RUN_DIR");
    assertThat(PipelineTest.cli("help")[1]).as("the command list").contains("  report ");
  }
}
