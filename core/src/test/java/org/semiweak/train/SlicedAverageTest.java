package org.semiweak.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.semiweak.model.ModelWeights;
import scala.Tuple2;

/** Averaging slice by slice, as the executors do it, gives exactly {@link ModelWeights#average}'s result. */
class SlicedAverageTest {
  private static final long[][] WEIGHT_SHAPES = {{7, 3}, {5}, {0}, {2, 2, 3}, {1}};
  private static final long[][] STATE_SHAPES = {{7, 3}, {5}, {2, 2, 3}};

  @Test
  void everySliceCountGivesTheInMemoryAverageBitForBitAndWorkersWithoutImagesDoNotCount() {
    List<LocalTrainingOutcome> outcomes = List.of(
        outcome(1, WEIGHT_SHAPES, STATE_SHAPES, 16, 3.5, 11),
        // A worker without images returns its input (no momentum yet in round 1) and is left out.
        new LocalTrainingOutcome(snapshot(9, WEIGHT_SHAPES, "w"), ModelWeights.empty(), 0, 0, 0, 0),
        outcome(2, WEIGHT_SHAPES, STATE_SHAPES, 16, 1.25, 16),
        outcome(3, WEIGHT_SHAPES, STATE_SHAPES, 8, 2.0, 0));
    RoundOutcome inMemory = RoundOutcome.average(outcomes, "round 1");

    for (int slices : new int[] {1, 2, 4, 5, 7, 61}) {
      RoundOutcome sliced = viaSlices(outcomes, slices);
      assertThat(sliced.weights()).as("weights averaged in %d slices", slices).isEqualTo(inMemory.weights());
      assertThat(sliced.optimizerState()).as("momentum averaged in %d slices", slices)
          .isEqualTo(inMemory.optimizerState());
      assertThat(sliced.lossSum()).as("loss of the workers that trained").isEqualTo(3.5 + 1.25 + 2.0);
      assertThat(sliced.examples()).isEqualTo(40);
      assertThat(sliced.correct()).as("images classified right by the workers that trained, summed like the loss")
          .isEqualTo(11 + 16 + 0).isEqualTo(inMemory.correct());
    }
  }

  @Test
  void oneWorkerIsItsOwnAverage() {
    LocalTrainingOutcome only = outcome(4, WEIGHT_SHAPES, STATE_SHAPES, 4, 1.0, 3);
    RoundOutcome sliced = viaSlices(List.of(only), 3);
    assertThat(sliced.weights()).isEqualTo(only.weights());
    assertThat(sliced.optimizerState()).isEqualTo(only.optimizerState());
    assertThat(sliced.correct()).as("its images classified right").isEqualTo(only.correct());
  }

  @Test
  void noWorkerWithImagesOrAMissingWorkerIsAnError() {
    LocalTrainingOutcome idle =
        new LocalTrainingOutcome(snapshot(1, WEIGHT_SHAPES, "w"), ModelWeights.empty(), 0, 0, 0, 0);
    assertThatThrownBy(() -> viaSlices(List.of(idle, idle), 2))
        .hasMessage("no worker had training images in round 1");
    List<SlicedAverage.AveragedSlice> averaged = shuffleAndAverage(List.of(outcome(1, WEIGHT_SHAPES, STATE_SHAPES, 2, 1, 1)), 2);
    assertThatThrownBy(() -> SlicedAverage.assemble(averaged, 2, 2, "round 1"))
        .hasMessage("round 1 returned the outcomes of 1 workers for 2");
  }

  @Test
  void slicesKeepEachWorkersPieceSmall() {
    assertThat(SlicedAverage.slices(1000, 4)).as("small model: one slice per worker").isEqualTo(4);
    long resNet50 = 25_557_032L;
    int slices = SlicedAverage.slices(resNet50, 4);
    assertThat(2 * resNet50 * Float.BYTES / slices).as("bytes of one worker's piece")
        .isLessThanOrEqualTo(SlicedAverage.SLICE_BYTES);
  }

  /** What the distributed trainer does, without Spark: cut, group by slice, average, assemble. */
  private static RoundOutcome viaSlices(List<LocalTrainingOutcome> outcomes, int slices) {
    return SlicedAverage.assemble(shuffleAndAverage(outcomes, slices), slices, outcomes.size(), "round 1");
  }

  private static List<SlicedAverage.AveragedSlice> shuffleAndAverage(List<LocalTrainingOutcome> outcomes, int slices) {
    Map<Integer, List<SlicedAverage.Piece>> bySlice = new TreeMap<>();
    // Pieces reach a slice's task in any order: feed them in reverse worker order.
    for (int w = outcomes.size() - 1; w >= 0; w--) {
      for (Tuple2<Integer, SlicedAverage.Piece> t : SlicedAverage.cut(w, outcomes.get(w), slices)) {
        bySlice.computeIfAbsent(t._1(), k -> new ArrayList<>()).add(t._2());
      }
    }
    List<SlicedAverage.AveragedSlice> out = new ArrayList<>();
    bySlice.forEach((s, pieces) -> out.add(SlicedAverage.average(s, pieces)));
    return out;
  }

  private static LocalTrainingOutcome outcome(long seed, long[][] weightShapes, long[][] stateShapes, long examples,
      double lossSum, long correct) {
    return new LocalTrainingOutcome(snapshot(seed, weightShapes, "w"), snapshot(seed + 100, stateShapes, "m"), lossSum,
        correct, examples, 0);
  }

  private static ModelWeights snapshot(long seed, long[][] shapes, String prefix) {
    SplittableRandom rng = new SplittableRandom(seed);
    ModelWeights.Builder b = ModelWeights.builder();
    for (int i = 0; i < shapes.length; i++) {
      long n = 1;
      for (long d : shapes[i]) {
        n *= d;
      }
      float[] v = new float[(int) n];
      for (int j = 0; j < v.length; j++) {
        // Values of very different magnitudes, so that float and double sums would differ.
        v[j] = (float) (rng.nextGaussian() * Math.pow(10, rng.nextInt(-6, 6)));
      }
      b.add(prefix + i, shapes[i], v);
    }
    return b.build();
  }
}
