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

  /** Describes the Spark jobs the current thread starts next, e.g. "score 59,000 images with teacher/semi-weak". */
  public static void describe(SparkSession spark, String description) {
    spark.sparkContext().setJobDescription(description);
  }
}
