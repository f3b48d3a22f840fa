package org.semiweak.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.semiweak.testing.FashionMnist;

/** Runs the score benchmark on 1,000 images: every row is there with positive numbers. */
class ScoreBenchmarkSmokeTest {

  @Test
  void benchmarkMeasuresPrepScoreForwardAndDecode(@TempDir Path dir) {
    SparkSession spark = SparkSession.builder().master("local[2]").appName("score-benchmark-smoke")
        .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "4").getOrCreate();
    ScoreBenchmark.Config config = new ScoreBenchmark.Config(new int[] {1_000}, 64, dir.toString(),
        FashionMnist.dir().toString(), "local[2]", 2, 1, false, 10,
        List.of("prep", "score", "forward", "decode"), new int[] {8, 16}, 1, 0, 28);

    ScoreBenchmark.Report report = ScoreBenchmark.run(spark, config);

    assertThat(report.measurements()).extracting(ScoreBenchmark.Measurement::method)
        .containsExactly("prep", "score", "forward");
    assertThat(report.measurements()).allSatisfy(m -> {
      assertThat(m.timing().seconds()).as("%s time", m.method()).isPositive();
      assertThat(m.timing().heapPeakBytes()).as("%s heap peak", m.method()).isPositive();
    });
    assertThat(report.measurements().get(0).images()).as("prep reads every image").isEqualTo(1_100);
    assertThat(report.measurements().get(1).images()).as("score and forward see the same unlabeled images")
        .isEqualTo(report.measurements().get(2).images()).isEqualTo(900);
    assertThat(report.decode()).extracting(d -> d.format() + "@" + d.size())
        .containsExactly("png@28", "jpeg@28", "png@224", "jpeg@224");
    assertThat(report.decode()).allSatisfy(d -> {
      assertThat(d.meanBytes()).isPositive();
      assertThat(d.decodeMicros()).isPositive();
      assertThat(d.prepMicros()).isPositive();
    });
    String table = ScoreBenchmark.markdown(report);
    assertThat(table).contains("| 1,000 | score | 900 |").containsPattern("\\| 1,000 \\| score \\| 900 \\|[^\\n]*x \\|")
        .contains("| jpeg | 224 | 3 |");
  }

  @Test
  void largeImagesArePreparedFromAFolderOfJpegFilesAndScoredByResNet18(@TempDir Path dir) {
    SparkSession spark = SparkSession.builder().master("local[2]").appName("score-benchmark-smoke-224")
        .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "4").getOrCreate();
    ScoreBenchmark.Config config = new ScoreBenchmark.Config(new int[] {24}, 8, dir.toString(),
        FashionMnist.dir().toString(), "local[2]", 2, 1, false, 10, List.of("prep", "score", "forward"),
        new int[] {8}, 1, 0, 224);

    ScoreBenchmark.Report report = ScoreBenchmark.run(spark, config);

    assertThat(dir.resolve("jpeg224-n24/img-000023.jpg")).as("the input is a folder of JPEG files").exists();
    assertThat(report.measurements()).extracting(ScoreBenchmark.Measurement::method)
        .containsExactly("prep", "score", "forward");
    assertThat(report.measurements()).extracting(ScoreBenchmark.Measurement::images)
        .as("every file is read by prep, and scored as an unlabeled image").containsExactly(24L, 24L, 24L);
    assertThat(report.measurements().get(1).detail()).contains("224 px PNG of");
    assertThat(ScoreBenchmark.markdown(report)).contains("stem=large").contains("| 24 | score | 24 |");
  }
}
