package org.semiweak.driver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
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
import org.semiweak.run.result.Publication;

/**
 * How {@link PipelineRunner#parallelStages} behaves when stages fail: no stage starts after a
 * failure, the stages already running finish, and the first failure is what the run throws. (That
 * side-by-side stages train the same models as one after another is PipelineTest's.)
 */
class ParallelStagesTest {
  @TempDir Path tmp;

  static SparkSession spark() {
    return org.semiweak.run.SparkSessions.getOrCreate("parallel-stages-test", "local[2]");
  }

  /** Executes {@code body}; never commits (every body here throws). */
  record FakeStage(StageId id, List<StageId> reads, Runnable body) implements Stage {
    @Override
    public StagePlan plan(Upstream upstream) {
      StagePlan.Builder plan = StagePlan.builder(id, Map.of());
      for (StageId input : reads) {
        plan.input(upstream.require(input, id));
      }
      return plan.publishes(new Publication.Model(28, 1, 10)).build();
    }

    @Override
    public StageOutput execute(SparkSession spark, StagePlan plan, StageWriter out) {
      body.run();
      throw new IllegalStateException("unreachable");
    }
  }

  @Test
  void afterAFailureTheRunningStagesFinishNothingElseStartsAndTheFirstFailureIsThrown() throws Exception {
    RunDir run = RunDir.open(tmp.resolve("run").toUri().toString(), new Configuration());
    Set<String> executed = ConcurrentHashMap.newKeySet();
    CountDownLatch firstFailed = new CountDownLatch(1);
    StageId a = RunLayout.teacher("a");
    StageId b = RunLayout.teacher("b");
    StageId c = RunLayout.teacher("c");
    Stage failsAtOnce = new FakeStage(a, List.of(), () -> {
      executed.add("a");
      firstFailed.countDown();
      throw new IllegalStateException("a failed");
    });
    Stage failsLater = new FakeStage(b, List.of(), () -> {
      executed.add("b");
      try {
        // Still running when a fails: the runner must wait for it rather than return at once.
        assertThat(firstFailed.await(30, TimeUnit.SECONDS)).isTrue();
        Thread.sleep(200);
      } catch (InterruptedException e) {
        throw new IllegalStateException(e);
      }
      throw new IllegalStateException("b failed too");
    });
    Stage independentButLater = new FakeStage(c, List.of(), () -> executed.add("c"));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    PipelineRunner runner = new PipelineRunner(run, ParallelStagesTest::spark, new PrintStream(out, true, StandardCharsets.UTF_8))
        .parallelStages(2);

    assertThatThrownBy(() -> runner.run(List.of(failsAtOnce, failsLater, independentButLater), null, false))
        .hasMessage("a failed")
        .satisfies(e -> assertThat(e.getSuppressed()).extracting(Throwable::getMessage).containsExactly("b failed too"));
    assertThat(executed).as("c had a free slot only after a failure, so it never started").containsExactlyInAnyOrder("a", "b");
    assertThat(out.toString(StandardCharsets.UTF_8)).contains("waiting for the 1 running to finish before stopping");
  }

  @Test
  void aStageWhoseInputFailedNeverStartsOneAtATimeOrSideBySide() {
    RunDir run = RunDir.open(tmp.resolve("run").toUri().toString(), new Configuration());
    List<String> order = java.util.Collections.synchronizedList(new java.util.ArrayList<>());
    StageId a = RunLayout.teacher("a");
    StageId b = RunLayout.teacher("b");
    // a fails: b, which reads a, must never start, even with a free slot.
    Stage first = new FakeStage(a, List.of(), () -> {
      order.add("a");
      throw new IllegalStateException("a failed");
    });
    Stage second = new FakeStage(b, List.of(a), () -> order.add("b"));
    for (int parallel : new int[] {1, 2}) {
      order.clear();
      PipelineRunner runner = new PipelineRunner(run, ParallelStagesTest::spark, new PrintStream(new ByteArrayOutputStream(), true,
          StandardCharsets.UTF_8)).parallelStages(parallel);
      assertThatThrownBy(() -> runner.run(List.of(first, second), null, false)).hasMessage("a failed");
      assertThat(order).as("parallel-stages %d", parallel).containsExactly("a");
    }
  }
}
