package org.semiweak.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.semiweak.testing.FashionMnist;

/** Runs the training benchmark for a few steps: semiweak, the PyTorch script, and 1 vs 2 workers. */
class TrainBenchmarkSmokeTest {
  /**
   * Widths 16/16: libtorch 2.7.1's CPU convolutions sporadically give NaN gradients for channel counts
   * that are not a multiple of 16, and with widths 4/8 a CI run once failed all of its retries.
   */
  static TrainBenchmark.Config tiny(boolean distributed) {
    return new TrainBenchmark.Config(500, 3, distributed ? 0 : 1, 16, 1, 1,
        FashionMnist.dir().toString(), "/usr/bin/python3", distributed,
        "local[2]", List.of("semiweak", "pytorch"), new int[] {16, 16}, 1, 1);
  }

  @Test
  void semiweakAndTheReferenceScriptAreMeasured() {
    TrainBenchmark.Report report = TrainBenchmark.run(tiny(false));

    assertThat(report.measurements()).extracting(TrainBenchmark.Measurement::method)
        .containsExactly("semiweak", "pytorch");
    assertThat(report.measurements()).allSatisfy(m -> {
      assertThat(m.images()).as("%s images", m.method()).isEqualTo(3 * 16);
      assertThat(m.seconds()).as("%s time", m.method()).isPositive();
      assertThat(m.cpuSeconds()).as("%s CPU time", m.method()).isPositive();
    });
    assertThat(report.measurements().get(1).detail()).as("the script's loss is a number").containsPattern("loss \\d");
    assertThat(TrainBenchmark.markdown(report)).contains("| semiweak | 1 | 1 | 48 |").contains("| pytorch | 1 | 1 | 48 |")
        .contains("| 1.00x | 1.00x |");
  }

  @Test
  void selfSupervisedStepsAreMeasuredAgainstSupervisedOnes() {
    TrainBenchmark.Config c = tiny(false);
    TrainBenchmark.Config config = new TrainBenchmark.Config(c.images(), c.steps(), c.warmupSteps(), c.batchSize(),
        c.threads(), c.repeat(), c.fashionMnist(), c.python(), false, c.master(),
        List.of("semiweak", "simclr", "byol", "swav", "swav-multicrop"), c.widths(), c.blocks(), c.localSteps());
    TrainBenchmark.Report report = TrainBenchmark.run(config);

    assertThat(report.measurements()).extracting(TrainBenchmark.Measurement::method)
        .containsExactly("semiweak", "simclr", "byol", "swav", "swav-multicrop");
    assertThat(report.measurements()).allSatisfy(m -> {
      assertThat(m.images()).as("%s images (each image is one example, whatever its views)", m.method())
          .isEqualTo(3 * 16);
      assertThat(m.seconds()).as("%s time", m.method()).isPositive();
      assertThat(m.detail()).as("%s loss", m.method()).containsPattern("final loss \\d");
    });
    assertThat(report.measurements().get(4).detail()).contains("4 views per image");
    assertThat(TrainBenchmark.markdown(report)).containsSubsequence("reference: semiweak", "| method |",
        "| semiweak | 1 | 1 | 48 |", "| 1.00x | 1.00x |", "| byol | 1 | 1 | 48 |");
  }

  @Test
  void distributedTrainingWithOneAndTwoWorkersIsMeasuredAgainstTheSameRoundsInProcess() {
    SparkSession spark = SparkSession.builder().master("local[2]").appName("train-benchmark-smoke")
        .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "4").getOrCreate();
    TrainBenchmark.Report report = TrainBenchmark.runDistributed(spark, tiny(true));

    assertThat(report.measurements()).extracting(TrainBenchmark.Measurement::method)
        .containsExactly("in-process", "distributed", "distributed");
    assertThat(report.measurements()).extracting(TrainBenchmark.Measurement::workers).containsExactly(1, 1, 2);
    assertThat(report.measurements()).extracting(TrainBenchmark.Measurement::images).containsExactly(48L, 48L, 96L);
    assertThat(report.measurements()).allSatisfy(m -> assertThat(m.seconds()).isPositive());
    assertThat(report.measurements().get(1).detail()).as("3 steps, one per round")
        .containsPattern("3 rounds of 1 steps: shards \\d+\\.\\d s, rounds \\d+\\.\\d s \\(\\d+\\.\\d\\d s per round,"
            + " [+-]\\d+\\.\\d\\d s per round over in-process\\), driver heap peak [\\d,]+ MiB");
    assertThat(TrainBenchmark.markdown(report)).contains("reference: in-process").contains("| distributed | 2 | 1 | 96 |");
  }
}
