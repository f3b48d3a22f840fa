package org.semiweak.run;

import org.apache.spark.sql.SparkSession;

/**
 * One stage of the pipeline: a clear input (upstream stages or files), options, and one committed
 * output folder in the run directory.
 *
 * <p>The pipeline runner calls {@link #validate()} and then {@link #plan(Upstream)} for every stage
 * before the first Spark job starts, folding each plan's publication into the {@link Upstream} the
 * next stage is planned against; compares the planned fingerprint with the committed manifest to
 * skip up-to-date stages; and then, for each stage to run, opens a {@link StageWriter}, calls
 * {@link #execute} and commits. Stages never commit themselves.
 *
 * <pre>{@code
 * Stage score = StageCatalog.SCORE.create(run, Map.of("teacher", "semi-weak"));
 * new PipelineRunner(run, () -> spark, System.out).run(List.of(score), null, false);
 * }</pre>
 */
public interface Stage {
  /** Which stage output this is; its folder is {@code id().path()}. */
  StageId id();

  /**
   * Checks what can be checked without any upstream stage: options, external files (inputs, model
   * files), their formats.
   */
  default void validate() {}

  /**
   * Whether a committed output with another fingerprint may be replaced by a rerun. Stages whose
   * outputs are versioned by name (selections) return false: a new configuration needs a new name.
   */
  default boolean replaceable() {
    return true;
  }

  /**
   * Checks this stage against what its upstream stages publish (committed or planned before it) and
   * returns its immutable plan. Runs no Spark job. Throws {@link org.semiweak.config.ConfigException}
   * with a message for the user.
   */
  StagePlan plan(Upstream upstream);

  /**
   * Runs the stage: writes its output under {@code out.tempDir()} and returns its counts and typed
   * result. Upstream stages are committed by then. The caller commits.
   */
  StageOutput execute(SparkSession spark, StagePlan plan, StageWriter out);
}
