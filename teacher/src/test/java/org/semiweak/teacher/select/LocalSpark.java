package org.semiweak.teacher.select;

import org.apache.spark.sql.SparkSession;

/** The test Spark session: local[2], small shuffles, no UI; shared by the tests of this package. */
final class LocalSpark {
  private LocalSpark() {}

  static SparkSession get() {
    return SparkSession.builder()
        .master("local[2]")
        .appName("semiweak-select-test")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.default.parallelism", "2")
        .getOrCreate();
  }
}
