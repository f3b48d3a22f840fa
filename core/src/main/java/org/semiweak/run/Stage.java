package org.semiweak.run;

import org.apache.spark.sql.SparkSession;

/**
 * One stage of the pipeline: a clear input (committed stages or files), options, and one committed
 * output folder in the run directory.
 *
 * <p>The driver calls {@link #plan()} for every stage before the first Spark job starts (fail fast
 * on bad options, paths or schemas), compares the planned fingerprint with the committed manifest
 * to skip up-to-date stages, and then calls {@link #execute}.
 *
 * <pre>{@code
 * Stage prep = new PrepareImages(run, options);
 * ManifestBuilder plan = prep.plan();               // validates, fingerprints inputs+options
 * StageManifest done = prep.execute(spark, plan);   // writes under a temp dir, commits, returns manifest
 * }</pre>
 */
public interface Stage {
  /** The stage's folder inside the run directory, e.g. {@code prep} or {@code scores/semi-weak}. */
  String path();

  /** The kind of stage, e.g. {@code prep}, {@code score}, {@code select}. */
  String kind();

  /**
   * Checks what can be checked before any upstream stage has run: options, external files (inputs,
   * model files), their formats. The driver validates every stage of a pipeline this way before the
   * first Spark job starts. Upstream outputs are checked by {@link #plan()}.
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
   * Validates options and inputs without running Spark jobs and returns the manifest under
   * construction, whose {@link ManifestBuilder#fingerprint()} identifies the output. Throws
   * {@link org.semiweak.config.ConfigException} or {@link IllegalStateException} with a message
   * for the user.
   */
  ManifestBuilder plan();

  /** Runs the stage, commits its output atomically and returns the committed manifest. */
  StageManifest execute(SparkSession spark, ManifestBuilder plan);
}
