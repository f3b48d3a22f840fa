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

/** BYOL: its loss, the moving-average target's schedule and update, and its place in the optimizer state. */
class ByolTest {
  private static final ModelSpec SPEC = ModelSpec.smallResNet(1, 28, 10, 1, 16, 32)
      .withNormalization(new float[] {0.286f}, new float[] {0.353f});

  /**
   * Two images; predictions p1 = (1, 0), p2 = (0, 1) of the first views and p1' = (1, 1), p2' = (0, 2)
   * of the second; target projections z1 = (1, 0), z2 = (1, 1), z1' = (0, 1), z2' = (1, 0). Each
   * prediction meets its partner view's target: cos(p1, z1') = 0, cos(p2, z2') = 0, cos(p1', z1) =
   * 1/sqrt(2), cos(p2', z2) = 1/sqrt(2); 2 - 2 cos = 2, 2, 0.585786, 0.585786; the mean over each
   * direction's two images, summed: (2 + 2) / 2 + (0.585786 + 0.585786) / 2 = 2.585786.
   */
  @Test
  void theLossComparesEachPredictionWithThePartnerViewsTargetProjection() {
    Engines.configure();
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray p = m.create(new float[] {1, 0, 0, 1, 1, 1, 0, 2}, new Shape(4, 2));
      NDArray z = m.create(new float[] {1, 0, 1, 1, 0, 1, 1, 0}, new Shape(4, 2));
      assertThat(LocalTrainer.byolLoss(p, z).getFloat()).isCloseTo(2.585786f, within(1e-5f));
      assertThat(LocalTrainer.byolLoss(z.get("2:").concat(z.get(":2"), 0), z).getFloat())
          .as("predictions equal to the partners' targets: 0").isCloseTo(0f, within(1e-6f));
      assertThatThrownBy(() -> LocalTrainer.byolLoss(p, m.ones(new Shape(2, 2))))
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("a target for each prediction");
    }
  }

  @Test
  void theTargetRateRisesFromItsStartToOneAlongACosine() {
    SelfSupervised byol = SelfSupervised.byol(0.99, 8, 4, 0.2);
    assertThat(byol.targetMomentumAt(0, 100)).isCloseTo(0.99, within(1e-12));
    assertThat(byol.targetMomentumAt(50, 100)).isCloseTo(0.995, within(1e-12));
    assertThat(byol.targetMomentumAt(100, 100)).isCloseTo(1.0, within(1e-12));
    assertThat(SelfSupervised.simclr(0.5, 8, 4, 0.2).hasTarget()).isFalse();
    assertThatThrownBy(() -> new SelfSupervised("byol", 0, 8, 4, 0.2, 1.0, 0, 0, 0, 0)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("targetMomentum must be in (0, 1)");
    assertThatThrownBy(() -> new SelfSupervised("dino", 0, 8, 4, 0.2, 0, 0, 0, 0, 0)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("must be \"simclr\", \"byol\" or \"swav\"");
  }

  @Test
  void theTargetStartsAtTheOnlineNetworkAndMovesTowardsItAtTheScheduledRate() throws IOException {
    ExampleShard shard = SelfSupervisedTrainingTest.fashionMnist(128);
    SelfSupervised byol = SelfSupervised.byol(0.9, 32, 16, 0.2);
    TrainOptions options = TrainOptions.builder().setTotalSteps(4).optBatchSize(32).optBaseLearningRate(0.05)
        .optCropPadding(0).optHorizontalFlip(false).optSeed(5).optSelfSupervised(byol).build();
    ModelWeights initial = ProjectionNet.initial(SPEC, 32, 16, true, 5);

    LocalTrainingOutcome one = LocalTrainer.trainSteps(SPEC, initial, ModelWeights.empty(), shard, 0, 1, options, 0);
    // The first step starts the target at the online network, then moves it by 1 - rate(0) = 0.1 towards
    // the online network after the step.
    String stem = "01SequentialBlock_01Conv2d_weight";
    String predictor = one.weights().names().get(one.weights().names().size() - 2);
    assertThat(one.optimizerState().names()).contains(LocalTrainer.TARGET_PREFIX + stem)
        .doesNotContain(LocalTrainer.TARGET_PREFIX + predictor);
    float[] before = initial.values(stem);
    float[] after = one.weights().values(stem);
    float[] target = one.optimizerState().values(LocalTrainer.TARGET_PREFIX + stem);
    double rate = byol.targetMomentumAt(0, 4);
    boolean moved = false;
    for (int i = 0; i < before.length; i++) {
      assertThat(target[i]).as("stem weight %d", i).isCloseTo((float) (rate * before[i] + (1 - rate) * after[i]),
          within(1e-6f));
      moved |= after[i] != before[i];
    }
    assertThat(moved).as("the online network trained").isTrue();

    LocalTrainingOutcome rest = LocalTrainer.trainSteps(SPEC, one.weights(), one.optimizerState(), shard, 1, 3, options, 0);
    LocalTrainingOutcome whole = LocalTrainer.trainSteps(SPEC, initial, ModelWeights.empty(), shard, 0, 4, options, 0);
    assertThat(rest.optimizerState()).as("the target goes on from the state: 1 + 3 steps are 4 steps")
        .isEqualTo(whole.optimizerState());
    assertThat(rest.weights()).isEqualTo(whole.weights());
    assertThat(whole.meanLoss()).as("2 - 2 cos, both directions: between 0 and 8").isBetween(0.0, 8.0);
  }
}
