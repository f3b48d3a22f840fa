package org.semiweak.run;

import org.apache.spark.sql.SparkSession;

/**
 * Runs one planned stage and commits it: the one commit path. The pipeline runner calls it for
 * every stage it runs; tests and benchmarks that run a single stage call {@link #planAndRun}.
 */
public final class StageExecution {
  private StageExecution() {}

  /**
   * Checks that every input stage's folder holds what its manifest lists, then executes the stage
   * into a fresh temporary folder, with its Spark jobs grouped under it, and commits it.
   */
  public static StageManifest run(RunDir run, SparkSession spark, Stage stage, StagePlan plan) {
    for (StageManifest.Input in : plan.inputs()) {
      StageWriter.stageOf(in).ifPresent(upstream -> run.requireIntact(upstream, stage.id()));
    }
    try (StageWriter writer = run.begin(stage.id())) {
      StageOutput output = SparkJobs.inStage(spark, stage.id(), () -> stage.execute(spark, plan, writer));
      return writer.commit(plan, output);
    }
  }

  /**
   * Validates and plans one stage against what is committed, then runs and commits it. Takes no
   * lock and skips nothing: for tests, benchmarks and library use on a run directory no other
   * process writes.
   */
  public static StageManifest planAndRun(RunDir run, SparkSession spark, Stage stage) {
    stage.validate();
    return run(run, spark, stage, stage.plan(new Upstream(run)));
  }
}
