package org.semiweak.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Runs the selection benchmark at 10^4 candidates: the harness works and both methods agree. */
class SelectBenchmarkSmokeTest {

  @Test
  void benchmarkRunsAndBothMethodsSelectTheSameRows(@TempDir Path dir) throws Exception {
    SparkSession spark = SparkSession.builder().master("local[2]").appName("select-benchmark-smoke")
        .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "4").getOrCreate();
    SelectBenchmark.Config config = new SelectBenchmark.Config(1_000, 10, new int[] {20}, new int[] {50},
        dir.toString(), "local[2]", 2, 3, true, List.of("scan", "select", "window"), false, 1);

    SelectBenchmark.Report report = SelectBenchmark.run(spark, config);

    assertThat(report.measurements()).extracting(SelectBenchmark.Measurement::method)
        .as("every method measured").containsExactly("scan-count", "scan", "select", "window");
    assertThat(report.measurements()).allSatisfy(m -> {
      assertThat(m.seconds()).as("%s time", m.method()).isPositive();
      assertThat(m.heapPeakBytes()).as("%s heap peak", m.method()).isPositive();
    });
    assertThat(report.measurements().get(0).outputRows()).as("scan counts the images").isEqualTo(1_000);
    assertThat(report.measurements().get(2).outputRows()).as("select and window keep as many rows")
        .isEqualTo(report.measurements().get(3).outputRows()).isPositive();
    assertThat(report.agreement()).as("select = window row for row").containsEntry("classes=20 k=50", true);
    assertThat(SelectBenchmark.markdown(report)).as("report table").contains("| 20 | 50 | select |");
  }
}
