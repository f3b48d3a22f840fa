package org.semiweak.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.training.ParameterStore;
import org.junit.jupiter.api.Test;

/**
 * Dropout and stochastic depth act inside a training scope only; outside one (scoring,
 * evaluation) the network is deterministic and unchanged.
 */
class TrainingNoiseTest {
  @Test
  void dropoutZeroesAboutItsFractionOfFeaturesAndScalesTheRestInsideAScopeOnly() {
    Engines.configure();
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray features = m.ones(new Shape(100, 50));
      assertThat(TrainingNoise.onFeatures(features)).as("no scope: the same array").isSameAs(features);
      float[] out;
      try (TrainingNoise noise = TrainingNoise.enter(0.2, 0, 3, 7)) {
        out = TrainingNoise.onFeatures(features).toFloatArray();
      }
      int zeros = 0;
      for (float v : out) {
        if (v == 0f) {
          zeros++;
        } else {
          assertThat(v).as("kept features scaled by 1 / 0.8").isCloseTo(1.25f, within(1e-6f));
        }
      }
      assertThat(zeros / 5000.0).as("fraction dropped").isCloseTo(0.2, within(0.03));
      assertThat(TrainingNoise.onFeatures(features)).as("after the scope").isSameAs(features);
    }
  }

  @Test
  void stochasticDepthDropsWholeBranchesPerImageMoreOftenInLaterBlocks() {
    Engines.configure();
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray branch = m.ones(new Shape(2000, 2, 3, 3));
      float[] first;
      float[] last;
      try (TrainingNoise noise = TrainingNoise.enter(0, 0.3, 3, 11)) {
        first = TrainingNoise.onResidualBranch(branch, 0).toFloatArray();
        last = TrainingNoise.onResidualBranch(branch, 2).toFloatArray();
      }
      // block 1 of 3 drops with 0.3 / 3 = 0.1, block 3 with 0.3
      assertThat(droppedImages(first, 18, 1 / 0.9f)).isCloseTo(0.1, within(0.025));
      assertThat(droppedImages(last, 18, 1 / 0.7f)).isCloseTo(0.3, within(0.03));
    }
  }

  /** Fraction of images whose 18 values are all 0; the others must all equal {@code kept}. */
  private static double droppedImages(float[] values, int perImage, float kept) {
    int dropped = 0;
    int images = values.length / perImage;
    for (int i = 0; i < images; i++) {
      float v0 = values[i * perImage];
      for (int j = 1; j < perImage; j++) {
        assertThat(values[i * perImage + j]).as("image %d: one mask value for the whole branch", i).isEqualTo(v0);
      }
      if (v0 == 0f) {
        dropped++;
      } else {
        assertThat(v0).isCloseTo(kept, within(1e-5f));
      }
    }
    return dropped / (double) images;
  }

  @Test
  void aModelGivesTheSameOutputsWithoutAScopeAndNoisyOnesInsideOne() {
    Engines.configure();
    ModelSpec spec = ModelSpec.smallResNet(1, 8, 3, 1, 16, 16);
    try (NDManager m = NDManager.newBaseManager()) {
      Block block = Inference.newInitializedBlock(spec, m);
      ModelWeights.initial(spec, 3).copyInto(block);
      ParameterStore store = new ParameterStore(m, false);
      NDArray x = m.randomUniform(0, 1, spec.inputShape(4));
      float[] plain = block.forward(store, new NDList(x), false).singletonOrThrow().toFloatArray();
      float[] again = block.forward(store, new NDList(x), false).singletonOrThrow().toFloatArray();
      assertThat(again).as("no scope: deterministic").isEqualTo(plain);
      float[] noisy;
      float[] noisySameSeed;
      try (TrainingNoise noise = TrainingNoise.enter(0.5, 0.5, spec.residualBlocks(), 1)) {
        noisy = block.forward(store, new NDList(x), false).singletonOrThrow().toFloatArray();
      }
      try (TrainingNoise noise = TrainingNoise.enter(0.5, 0.5, spec.residualBlocks(), 1)) {
        noisySameSeed = block.forward(store, new NDList(x), false).singletonOrThrow().toFloatArray();
      }
      assertThat(noisy).as("noise changes the logits").isNotEqualTo(plain);
      assertThat(noisySameSeed).as("the same seed, the same masks").isEqualTo(noisy);
      assertThat(ModelWeights.fromBlock(block).names()).as("no parameter added or renamed")
          .isEqualTo(ModelWeights.initial(spec, 3).names());
    }
  }
}
