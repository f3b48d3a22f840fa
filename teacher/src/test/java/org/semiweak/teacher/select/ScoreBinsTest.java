package org.semiweak.teacher.select;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;
import org.junit.jupiter.api.Test;

class ScoreBinsTest {

  @Test
  void binsNeverDecreaseAsTheScoreGrows() {
    for (int subBins : new int[] {1, 5, 54, ScoreBins.MAX_SUB_BINS}) {
      ScoreBins bins = new ScoreBins(subBins);
      // Walk every float from 0 up to 1 in strides, plus the neighbourhoods of 0.5 and 1.
      int previous = bins.binOf(0f);
      assertThat(previous).as("score 0 is in bin 0").isZero();
      for (int bits = 0; bits <= Float.floatToRawIntBits(1f); bits += 997) {
        int b = bins.binOf(Float.intBitsToFloat(bits));
        assertThat(b).as("bin of %s with %d sub-bins", Float.intBitsToFloat(bits), subBins).isGreaterThanOrEqualTo(previous);
        previous = b;
      }
      for (float center : new float[] {0.5f, 1f}) {
        float p = center;
        for (int i = 0; i < 2000; i++) {
          p = Math.nextDown(p);
        }
        int last = bins.binOf(p);
        for (int i = 0; i < 4000 && p <= 1f; i++) {
          p = Math.nextUp(p);
          int b = bins.binOf(p);
          assertThat(b).as("bin of %s", p).isGreaterThanOrEqualTo(last);
          last = b;
        }
      }
      assertThat(bins.binOf(1f)).as("score 1 is in the last bin").isEqualTo(bins.count() - 1);
      assertThat(bins.binOf(-0.0f)).as("-0.0 is in bin 0").isZero();
    }
  }

  @Test
  void lowerEdgeIsTheSmallestScoreOfABin() {
    ScoreBins bins = new ScoreBins(5);
    assertThat(bins.lowerEdge(0)).as("bin 0 starts at 0").isZero();
    for (int b = 1; b < bins.count(); b += 7) {
      float edge = bins.lowerEdge(b);
      assertThat(bins.binOf(edge)).as("the edge of bin %d is in it or above", b).isGreaterThanOrEqualTo(b);
      assertThat(bins.binOf(Math.nextDown(edge))).as("the float below the edge of bin %d is below it", b)
          .isLessThan(b);
    }
  }

  @Test
  void binsResolveScoresCloseToOne() {
    ScoreBins bins = new ScoreBins(5);
    assertThat(bins.binOf(0.999f)).as("0.999 and 0.9999 are told apart").isLessThan(bins.binOf(0.9999f));
    assertThat(bins.binOf(0.001f)).as("0.001 and 0.0001 are told apart").isGreaterThan(bins.binOf(0.0001f));
  }

  @Test
  void binCountFollowsTheCellBudget() {
    assertThat(ScoreBins.forClasses(1000).count() * 1000L).as("1000 classes fit the budget")
        .isLessThanOrEqualTo(ScoreBins.CELL_BUDGET);
    assertThat(ScoreBins.forClasses(100).subBins()).as("fewer classes get finer bins")
        .isGreaterThan(ScoreBins.forClasses(1000).subBins());
    assertThat(ScoreBins.forClasses(10_000_000).subBins()).as("at least one sub-bin").isEqualTo(1);
  }

  @Test
  void thresholdIsTheBinWhereTheCountFromTheTopReachesK() {
    long[] histogram = {5, 0, 3, 4, 2};
    assertThat(ScoreBins.threshold(histogram, 2)).as("k=2 reached in the top bin").containsExactly(4, 2);
    assertThat(ScoreBins.threshold(histogram, 3)).as("k=3 reached in bin 3").containsExactly(3, 6);
    assertThat(ScoreBins.threshold(histogram, 9)).as("k=9 reached in bin 2").containsExactly(2, 9);
    assertThat(ScoreBins.threshold(histogram, 100)).as("fewer than k: keep all").containsExactly(0, 14);
  }

  @Test
  void thresholdKeepsEveryCandidateOfTheTopK() {
    Random random = new Random(7);
    ScoreBins bins = new ScoreBins(3);
    for (int trial = 0; trial < 50; trial++) {
      int n = 1 + random.nextInt(500);
      float[] scores = new float[n];
      long[] histogram = new long[bins.count()];
      for (int i = 0; i < n; i++) {
        scores[i] = random.nextInt(4) == 0 ? Math.round(random.nextFloat() * 10) / 10f : random.nextFloat();
        histogram[bins.binOf(scores[i])]++;
      }
      int k = 1 + random.nextInt(n);
      long[] t = ScoreBins.threshold(histogram, k);
      float[] sorted = scores.clone();
      java.util.Arrays.sort(sorted);
      float kth = sorted[n - k];
      assertThat((long) bins.binOf(kth)).as("the k-th best score is at or above the threshold bin")
          .isGreaterThanOrEqualTo(t[0]);
      long above = 0;
      for (float s : scores) {
        above += bins.binOf(s) >= t[0] ? 1 : 0;
      }
      assertThat(above).as("survivors counted exactly").isEqualTo(t[1]).isGreaterThanOrEqualTo(k);
    }
  }
}
