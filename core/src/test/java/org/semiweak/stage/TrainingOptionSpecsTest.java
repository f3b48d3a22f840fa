package org.semiweak.stage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;
import org.semiweak.config.Options;
import org.semiweak.train.TrainOptions;

/** What a training stage's options mean for its schedule: the batch is global, workers only split it. */
class TrainingOptionSpecsTest {
  static final TrainingOptionSpecs SPECS = new TrainingOptionSpecs("",
      new TrainingOptionSpecs.Defaults(new int[] {16, 32}, new int[] {1}, 60, 64, 0.05, 5e-4, 2, 10), true);

  static TrainOptions schedule(Map<String, Object> raw, long examples) {
    return SPECS.schedule(Options.parse("baseline", SPECS.all(), raw), examples);
  }

  @Test
  void moreWorkersSplitTheGlobalBatchAndKeepTheSchedule() {
    TrainOptions one = schedule(Map.of(), 1000);
    TrainOptions two = schedule(Map.of("workers", 2), 1000);
    assertThat(one.totalSteps()).as("60 epochs of ceil(1000 / 64) steps").isEqualTo(60 * 16);
    assertThat(two.totalSteps()).as("the same steps with 2 workers").isEqualTo(one.totalSteps());
    assertThat(two.warmupSteps()).isEqualTo(one.warmupSteps());
    assertThat(two.batchSize()).as("32 images per worker and step").isEqualTo(32);
    assertThat(two.workers() * two.batchSize()).isEqualTo(one.batchSize());
  }

  @Test
  void theFirstSyncFractionOfTheStepsIsSynchronous() {
    TrainOptions half = schedule(Map.of("workers", 2), 1000);
    assertThat(half.syncSteps()).as("default: half of the 960 steps").isEqualTo(480);
    assertThat(half.rounds()).as("480 one-step rounds, then 48 rounds of 10").isEqualTo(480 + 48);
    assertThat(schedule(Map.of("workers", 2, "sync-fraction", 1.0), 1000).rounds()).isEqualTo(960);
    assertThat(schedule(Map.of("workers", 2, "sync-fraction", 0.0), 1000).rounds()).isEqualTo(96);
    assertThat(schedule(Map.of(), 1000).rounds()).as("one worker: local rounds only").isEqualTo(96);
  }

  @Test
  void aBatchThatDoesNotSplitIntoTheWorkersIsRefused() {
    assertThatThrownBy(() -> schedule(Map.of("workers", 3), 1000))
        .hasMessageContaining("batch-size 64 does not split into 3 workers of at least 2 images each")
        .hasMessageContaining("e.g. 63");
    assertThatThrownBy(() -> schedule(Map.of("workers", 64), 1000)).hasMessageContaining("at least 2 images");
  }

  @Test
  void cutoutIsOffAndUnrecordedUnlessGiven() {
    assertThat(schedule(Map.of(), 1000).cutout()).isZero();
    assertThat(Options.parse("baseline", SPECS.all(), Map.of()).effective())
        .as("absent from the recorded options, so stages committed before it existed keep their fingerprints")
        .doesNotContainKey("cutout");
    assertThat(schedule(Map.of("cutout", 8), 1000).cutout()).isEqualTo(8);
    assertThat(Options.parse("baseline", SPECS.all(), Map.of("cutout", 8)).effective()).containsEntry("cutout", 8);
  }

  @Test
  void studentNoiseIsOffAndUnrecordedUnlessGivenAndRandAugmentTakesMagnitudeNineByDefault() {
    TrainOptions none = schedule(Map.of(), 1000);
    assertThat(new double[] {none.randAugmentOps(), none.randAugmentMagnitude(), none.dropout(), none.stochasticDepth()})
        .containsOnly(0);
    assertThat(Options.parse("distill", SPECS.all(), Map.of()).effective())
        .as("absent from the recorded options, so stages committed before they existed keep their fingerprints")
        .doesNotContainKeys("randaugment-ops", "randaugment-magnitude", "dropout", "stochastic-depth");
    TrainOptions noisy = schedule(Map.of("randaugment-ops", 2, "dropout", 0.5, "stochastic-depth", 0.2), 1000);
    assertThat(noisy.randAugmentOps()).isEqualTo(2);
    assertThat(noisy.randAugmentMagnitude()).as("torchvision's default").isEqualTo(9);
    assertThat(noisy.dropout()).isEqualTo(0.5);
    assertThat(noisy.stochasticDepth()).isEqualTo(0.2);
    assertThat(schedule(Map.of("randaugment-ops", 1, "randaugment-magnitude", 27), 1000).randAugmentMagnitude())
        .isEqualTo(27);
    assertThat(TrainOptions.fromJson(noisy.toJson())).isEqualTo(noisy);
    assertThat(none.toJson()).as("no noise: the JSON of options written before it existed")
        .doesNotContain("randAugment").doesNotContain("dropout").doesNotContain("stochasticDepth");
  }
}
