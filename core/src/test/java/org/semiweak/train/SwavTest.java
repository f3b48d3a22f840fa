package org.semiweak.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.io.IOException;
import org.junit.jupiter.api.Test;
import org.semiweak.model.Engines;
import org.semiweak.model.ModelSpec;
import org.semiweak.model.ModelWeights;
import org.semiweak.model.ProjectionNet;

/** SwAV: Sinkhorn-Knopp's codes, the swapped prediction loss, and unit-length prototypes in training. */
class SwavTest {
  private static final ModelSpec SPEC = ModelSpec.smallResNet(1, 28, 10, 1, 16, 32)
      .withNormalization(new float[] {0.286f}, new float[] {0.353f});

  /**
   * Two views, three prototypes, scores (0.9, 0.1, 0) and (0.8, 0.2, 0.1), epsilon 0.5, 3 iterations
   * (computed step by step in double precision): exp(score / 0.5) normalized to sum 1, then each
   * prototype's column to 1/3 and each view's row to 1/2, three times, times 2.
   */
  @Test
  void sinkhornSpreadsTheBatchEvenlyOverThePrototypesAndEachViewsCodeSumsToOne() {
    Engines.configure();
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray scores = m.create(new float[] {0.9f, 0.1f, 0, 0.8f, 0.2f, 0.1f}, new Shape(2, 3));
      float[] q = LocalTrainer.sinkhorn(scores, 0.5, 3).toFloatArray();
      float[] expected = {0.377581f, 0.311209f, 0.311209f, 0.289086f, 0.355457f, 0.355457f};
      for (int i = 0; i < q.length; i++) {
        assertThat(q[i]).as("code %d", i).isCloseTo(expected[i], within(1e-5f));
      }
      assertThat(q[0] + q[1] + q[2]).as("a view's code sums to 1").isCloseTo(1f, within(1e-5f));
      for (int k = 0; k < 3; k++) {
        assertThat(q[k] + q[3 + k]).as("prototype %d gets 2/3 of the batch", k).isCloseTo(2f / 3, within(1e-5f));
      }
      assertThat(q[0]).as("the first view's code favours the prototype it is closest to, less than its softmax")
          .isGreaterThan(q[1]).isLessThan((float) (Math.exp(1.8) / (Math.exp(1.8) + Math.exp(0.2) + 1)));
    }
  }

  /**
   * Four rows: views 1 and 2 of two images, then their second views. The codes of the second views,
   * Sinkhorn of rows 3-4 (as above), are the targets of rows 1-2, and the reverse; the loss is the mean
   * over the four rows of -sum code x log softmax(scores / 0.5): 1.304293 (computed in double precision).
   */
  @Test
  void eachViewPredictsItsPartnersCode() {
    Engines.configure();
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray scores = m.create(new float[] {0.9f, 0.1f, 0, 0.8f, 0.2f, 0.1f, 0.7f, 0, 0.3f, 0.1f, 0.9f, 0.2f},
          new Shape(4, 3));
      assertThat(LocalTrainer.swavLoss(scores, 0.5, 0.5).getFloat()).isCloseTo(1.304293f, within(1e-5f));
      assertThat(LocalTrainer.countSamePrototype(scores)).as("image 1: prototype 0 both times; image 2: 0 then 1")
          .isEqualTo(1);
      assertThatThrownBy(() -> LocalTrainer.swavLoss(m.ones(new Shape(2, 3)), 0.5, 0.5))
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("two views of at least 2 images");
    }
  }

  /**
   * The four rows above plus one small view of the two images, scores (0.5, 0.5, 0) and (0, 0.3, 0.6).
   * The code of large view 1 is predicted by large view 2 and the small view, the code of large view 2
   * by large view 1 and the small view: the mean of those four cross-entropies, 1.241994 (computed in
   * double precision). The small view has no code of its own.
   */
  @Test
  void withMultiCropEverySmallViewAlsoPredictsTheCodesOfBothLargeViews() {
    Engines.configure();
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray scores = m.create(new float[] {0.9f, 0.1f, 0, 0.8f, 0.2f, 0.1f, 0.7f, 0, 0.3f, 0.1f, 0.9f, 0.2f},
          new Shape(4, 3));
      NDArray small = m.create(new float[] {0.5f, 0.5f, 0, 0, 0.3f, 0.6f}, new Shape(2, 3));
      assertThat(LocalTrainer.swavLoss(scores, small, 0.5, 0.5).getFloat()).isCloseTo(1.241994f, within(1e-5f));
      assertThat(LocalTrainer.swavLoss(scores, null, 0.5, 0.5).getFloat()).as("without small views, as above")
          .isCloseTo(1.304293f, within(1e-5f));
    }
  }

  @Test
  void multiCropTrainsOnSmallViewsOfTheirOwnSize() throws IOException {
    ExampleShard shard = SelfSupervisedTrainingTest.fashionMnist(64);
    SelfSupervised swav = SelfSupervised.swav(10, 0.05, 0.1, 32, 16, 0.3).withSmallCrops(2, 12);
    TrainOptions options = TrainOptions.builder().setTotalSteps(2).optBatchSize(16).optBaseLearningRate(0.05)
        .optCropPadding(0).optHorizontalFlip(false).optSeed(5).optSelfSupervised(swav).build();
    ModelWeights initial = ProjectionNet.initial(SPEC, 32, 16, false, 10, 5);
    LocalTrainingOutcome o = LocalTrainer.trainSteps(SPEC, initial, ModelWeights.empty(), shard, 0, 2, options, 0);
    assertThat(o.meanLoss()).isPositive().isFinite();
    assertThat(o.examples()).as("images, not views").isEqualTo(32);
    assertThatThrownBy(() -> SelfSupervised.simclr(0.5, 8, 4, 0.3).withSmallCrops(2, 12))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("for swav only");
    assertThatThrownBy(() -> swav.withSmallCrops(2, 6)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("a side >= 8 pixels");
  }

  @Test
  void trainingKeepsThePrototypesAtUnitLength() throws IOException {
    ExampleShard shard = SelfSupervisedTrainingTest.fashionMnist(128);
    SelfSupervised swav = SelfSupervised.swav(20, 0.05, 0.1, 32, 16, 0.2);
    TrainOptions options = TrainOptions.builder().setTotalSteps(6).optBatchSize(32).optBaseLearningRate(0.05)
        .optCropPadding(0).optHorizontalFlip(false).optSeed(5).optSelfSupervised(swav).build();
    ModelWeights initial = ProjectionNet.initial(SPEC, 32, 16, false, 20, 5);
    String prototypes = initial.names().get(initial.names().size() - 1);
    assertThat(initial.shape(prototypes)).as("the last tensor: 20 prototypes of the 16-value projection")
        .containsExactly(20, 16);

    LocalTrainingOutcome o = LocalTrainer.trainSteps(SPEC, initial, ModelWeights.empty(), shard, 0, 6, options, 0);
    float[] w = o.weights().values(prototypes);
    for (int k = 0; k < 20; k++) {
      double norm = 0;
      for (int d = 0; d < 16; d++) {
        norm += w[k * 16 + d] * w[k * 16 + d];
      }
      assertThat(Math.sqrt(norm)).as("prototype %d", k).isCloseTo(1.0, within(1e-5));
    }
    assertThat(o.meanLoss()).as("cross-entropy against codes over 20 prototypes").isPositive().isFinite();
    assertThat(ProjectionNet.classifierWeights(o.weights(), SPEC, 5).names()).as("the encoder fine-tunes as usual")
        .isEqualTo(ModelWeights.initial(SPEC, 5).names());
  }
}
