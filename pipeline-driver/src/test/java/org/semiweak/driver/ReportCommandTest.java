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
import org.semiweak.run.StageWriter;
import org.semiweak.run.Upstream;
import org.semiweak.run.result.ModelDescription;
import org.semiweak.run.result.ModelResult;
import org.semiweak.run.result.Publication;

/**
 * The report command's edges (the report of a real run is DistillPipelineTest's). The report closes a run ({@link PipelineRunner#finishWith}) but never fails it: when it cannot be
 * written, the stages that succeeded stay committed, the run returns their outcomes and writes its
 * summary, and the output says so with the command that writes the report again.
 */
class ReportCommandTest {
  @TempDir Path tmp;

  /** A model stage that commits at once, without Spark. */
  record QuickModel(StageId id) implements Stage {
    @Override
    public StagePlan plan(Upstream upstream) {
      return StagePlan.builder(id, Map.of()).publishes(new Publication.Model(28, 1, 10)).build();
    }

    @Override
    public StageOutput execute(SparkSession spark, StagePlan plan, StageWriter out) {
      return new StageOutput(Map.of("in", 1L), new ModelResult(
          new ModelDescription("semiweak-resnet", "test", "f", 28, 1, 10, null), List.of(), 0.5, 0.9, 1));
    }
  }

  @Test
  void aReportThatFailsIsAWarningNamingTheRerunAndTheRunKeepsItsCommittedStages() throws Exception {
    RunDir run = RunDir.open(tmp.resolve("run").toUri().toString(), new Configuration());
    Stage teacher = new QuickModel(RunLayout.teacher("a"));
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
