package org.semiweak.run;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** A setting a stage changes for its jobs holds while they run and is put back after, whatever happens. */
class SparkJobsTest {
  static SparkSession spark;

  @BeforeAll
  static void start() {
    spark = SparkSession.builder().master("local[1]").appName("SparkJobsTest").config("spark.ui.enabled", "false")
        .getOrCreate();
  }

  @AfterAll
  static void stop() {
    spark.stop();
  }

  @Test
  void aSettingHoldsWhileTheWorkRunsAndIsUnsetAfterWhenItWasNotSet() {
    String key = "spark.sql.files.minPartitionNum";
    assertThat(spark.conf().contains(key)).isFalse();

    String during = SparkJobs.withSqlConf(spark, key, "7", () -> spark.conf().get(key));

    assertThat(during).isEqualTo("7");
    assertThat(spark.conf().contains(key)).isFalse();
  }

  @Test
  void anEarlierValueIsPutBackEvenWhenTheWorkFails() {
    String key = "spark.sql.inMemoryColumnarStorage.compressed";
    spark.conf().set(key, "true");
    try {
      assertThatThrownBy(() -> SparkJobs.withSqlConf(spark, key, "false", () -> {
        throw new IllegalStateException("a failed job");
      })).hasMessage("a failed job");

      assertThat(spark.conf().get(key)).isEqualTo("true");
    } finally {
      spark.conf().unset(key);
    }
  }
}
