package org.semiweak.run;

import java.util.function.Supplier;
import org.apache.spark.sql.SparkSession;

/**
 * The one place that labels Spark work, so that the Spark UI tells the story: the pipeline runner
 * puts each stage's jobs in a job group named after the stage, and stages describe the jobs they
 * start. Both are restored when the stage ends.
 */
public final class SparkJobs {
  private SparkJobs() {}

  /** Runs {@code work} with its Spark jobs grouped under the stage, then clears the group and description. */
  public static <T> T inStage(SparkSession spark, StageId stage, Supplier<T> work) {
    spark.sparkContext().setJobGroup("semiweak " + stage, "semiweak " + stage, false);
    try {
      return work.get();
    } finally {
      spark.sparkContext().clearJobGroup();
      spark.sparkContext().setJobDescription(null);
    }
  }

  /**
   * Runs {@code work} with a Spark SQL setting changed for the session, then puts back what was
   * there (or unsets it). For settings read when a job plans its scans, such as how files are packed
   * into tasks: they must hold while the jobs run, not only while the plan is built.
   */
  public static <T> T withSqlConf(SparkSession spark, String key, String value, Supplier<T> work) {
    String before = spark.conf().contains(key) ? spark.conf().get(key) : null;
    spark.conf().set(key, value);
    try {
      return work.get();
    } finally {
      if (before == null) {
        spark.conf().unset(key);
      } else {
        spark.conf().set(key, before);
      }
    }
  }

  /** Describes the Spark jobs the current thread starts next, e.g. "score 59,000 images with teacher/semi-weak". */
  public static void describe(SparkSession spark, String description) {
    spark.sparkContext().setJobDescription(description);
  }
}
