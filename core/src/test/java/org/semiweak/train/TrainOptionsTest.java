package org.semiweak.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class TrainOptionsTest {
  private final TrainOptions options = TrainOptions.builder()
      .setTotalSteps(110).optWarmupSteps(10).optBaseLearningRate(0.2).optLocalStepsPerRound(25).build();

  @Test
  void learningRateWarmsUpLinearlyThenDecaysByCosineTowardsZero() {
    assertThat(options.learningRate(0)).as("first warm-up step").isCloseTo(0.02, within(1e-12));
    assertThat(options.learningRate(9)).as("last warm-up step reaches the base rate").isCloseTo(0.2, within(1e-12));
    assertThat(options.learningRate(10)).as("cosine starts at the base rate").isCloseTo(0.2, within(1e-12));
    assertThat(options.learningRate(60)).as("half way down").isCloseTo(0.1, within(1e-12));
    assertThat(options.learningRate(109)).as("last step is near zero").isLessThan(0.001).isPositive();
    for (long s = 10; s < 109; s++) {
      assertThat(options.learningRate(s + 1)).as("decreasing at step %d", s).isLessThan(options.learningRate(s));
    }
  }

  @Test
  void splitsStepsIntoRoundsWithAShorterLastRound() {
    assertThat(options.rounds()).isEqualTo(5);
    assertThat(options.firstStepOfRound(5)).isEqualTo(100);
    assertThat(options.stepsInRound(4)).isEqualTo(25);
    assertThat(options.stepsInRound(5)).isEqualTo(10);
  }

  @Test
  void withSeveralWorkersTheSynchronousStepsAreRoundsOfOneStepThenLocalRoundsFollow() {
    TrainOptions postLocal = options.toBuilder().optWorkers(2).optSyncSteps(55).build();
    assertThat(postLocal.rounds()).as("55 rounds of 1 step, then 55 steps in rounds of 25").isEqualTo(55 + 3);
    assertThat(postLocal.firstStepOfRound(55)).isEqualTo(54);
    assertThat(postLocal.stepsInRound(55)).isEqualTo(1);
    assertThat(postLocal.firstStepOfRound(56)).isEqualTo(55);
    assertThat(postLocal.stepsInRound(56)).isEqualTo(25);
    assertThat(postLocal.firstStepOfRound(58)).isEqualTo(105);
    assertThat(postLocal.stepsInRound(58)).as("the last round is shorter").isEqualTo(5);
    long covered = 0;
    for (int r = 1; r <= postLocal.rounds(); r++) {
      assertThat(postLocal.firstStepOfRound(r)).as("round %d starts where the previous ended", r).isEqualTo(covered);
      covered += postLocal.stepsInRound(r);
    }
    assertThat(covered).as("every step in exactly one round").isEqualTo(110);

    TrainOptions oneWorker = options.toBuilder().optSyncSteps(55).build();
    assertThat(oneWorker.rounds()).as("one worker: nothing to average, local rounds throughout").isEqualTo(5);
    assertThat(options.toBuilder().optWorkers(2).optSyncSteps(1000).build().rounds())
        .as("sync steps beyond the total: every step synchronous").isEqualTo(110);
  }

  @Test
  void convertsEpochsToStepsOverAllWorkers() {
    assertThat(TrainOptions.stepsForEpochs(2, 1000, 50, 4)).as("2 x 1000 / (50 x 4)").isEqualTo(10);
    assertThat(TrainOptions.stepsForEpochs(1, 1001, 50, 4)).as("rounded up").isEqualTo(6);
  }

  @Test
  void roundTripsThroughJsonAndFingerprintsEveryField() {
    assertThat(TrainOptions.fromJson(options.toJson())).isEqualTo(options);
    assertThat(options.toBuilder().optSeed(1).build().fingerprint()).isNotEqualTo(options.fingerprint());
    assertThat(options.toBuilder().build().fingerprint()).isEqualTo(options.fingerprint());
    TrainOptions cut = options.toBuilder().optCutout(8).build();
    assertThat(TrainOptions.fromJson(cut.toJson())).isEqualTo(cut);
    assertThat(cut.fingerprint()).isNotEqualTo(options.fingerprint());
    assertThat(options.toJson()).as("no cutout: the JSON (and fingerprint) of options written before it existed")
        .doesNotContain("cutout");
  }

  @Test
  void rejectsInvalidOptionsNamingTheField() {
    assertThatThrownBy(() -> TrainOptions.builder().build()).hasMessageContaining("totalSteps must be >= 1");
    assertThatThrownBy(() -> TrainOptions.builder().setTotalSteps(10).optWarmupSteps(10).build())
        .hasMessageContaining("warmupSteps must be in [0, totalSteps=10)");
    assertThatThrownBy(() -> TrainOptions.builder().setTotalSteps(10).optMomentum(0).build())
        .hasMessageContaining("nesterov needs momentum > 0");
  }
}
