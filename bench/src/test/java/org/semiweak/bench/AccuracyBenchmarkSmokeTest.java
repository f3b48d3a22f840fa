package org.semiweak.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.semiweak.testing.FashionMnist;

/** Runs the accuracy benchmark and the step check on a tiny model and a tiny labeled set. */
class AccuracyBenchmarkSmokeTest {
  static AccuracyBenchmark.Config tiny(int checkSteps, int... widths) {
    AccuracyBenchmark.Config d = AccuracyBenchmark.Config.defaults();
    return new AccuracyBenchmark.Config(new long[] {1}, 1, 0.05, 0, 16, d.weightDecay(), 2, true, 2,
        widths, 1, 3, 42, "val", 200, d.mean(), d.std(), 1, List.of("semiweak", "pytorch"),
        FashionMnist.dir().toString(), "/usr/bin/python3", "", checkSteps, "pytorch", 1, d.syncFraction());
  }

  @Test
  void bothMethodsTrainAndAreEvaluatedOnTheSameImages() {
    AccuracyBenchmark.Report report = AccuracyBenchmark.run(tiny(0, 4, 8));

    assertThat(report.trainImages()).isEqualTo(30);
    assertThat(report.runs()).extracting(AccuracyBenchmark.Run::method).containsExactly("semiweak", "pytorch");
    assertThat(report.runs()).allSatisfy(r -> {
      assertThat(r.evalImages()).as("%s evaluation images", r.method()).isEqualTo(200);
      assertThat(r.top1()).as("%s top-1", r.method()).isBetween(0.0, 1.0);
    });
    assertThat(AccuracyBenchmark.markdown(report)).contains("| semiweak | 1 | ").contains("| pytorch | 1 | ")
        .contains("top-1 % mean ± std");
  }

  @Test
  void aStepOfSemiweakIsAStepOfPyTorch() {
    // Widths that are multiples of 16: with widths 4 and 8 libtorch 2.7.1's oneDNN convolutions on AVX-512
    // give other (finite) gradients than PyTorch 1.13 with or without oneDNN (docs/ACCURACY.md).
    AccuracyBenchmark.CheckReport report = AccuracyBenchmark.stepCheck(tiny(2, 16, 32));

    assertThat(report.semiweakLosses()).hasSize(2);
    assertThat(report.diffs()).isNotEmpty();
    assertThat(report.worstRelative()).as("largest difference relative to the tensor's scale").isLessThan(1e-2);
  }

  @Test
  void theLabeledSubsetIsDataPrepsDraw() {
    FashionMnist train = FashionMnist.load("train", 2000);
    FashionMnist test = FashionMnist.load("t10k", 100);
    int[][] s = AccuracyBenchmark.labeledSubset(train, test, 5, 42, "fashion-mnist");
    assertThat(s[0]).hasSize(50).isSorted();
    assertThat(s[0].length + s[1].length).isLessThanOrEqualTo(2000);
    assertThat(Arrays.stream(s[0]).map(train::label).distinct().count()).isEqualTo(10);
    assertThat(AccuracyBenchmark.labeledSubset(train, test, 5, 43, "fashion-mnist")[0]).as("another seed")
        .isNotEqualTo(s[0]);
    assertThat(Path.of(FashionMnist.dir().toString())).exists();
  }
}
