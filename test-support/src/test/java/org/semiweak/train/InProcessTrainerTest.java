package org.semiweak.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.File;
import java.util.List;
import org.apache.hadoop.fs.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.semiweak.model.ModelSpec;
import org.semiweak.model.ModelWeights;
import org.semiweak.testing.FashionMnist;

/** The training loop on real Fashion-MNIST images, without Spark. */
class InProcessTrainerTest {
  static final ModelSpec SPEC = ModelSpec.smallResNet(1, 28, 10, 1, 16, 32, 64)
      .withNormalization(new float[] {FashionMnist.MEAN}, new float[] {FashionMnist.STD});
  static ExampleShard train;
  static ExampleShard test;

  @TempDir File tmp;

  @BeforeAll
  static void loadData() {
    train = shard(FashionMnist.load("train", 2000));
    test = shard(FashionMnist.load("t10k", 1000));
  }

  static ExampleShard shard(FashionMnist data) {
    ExampleShard.Builder b = ExampleShard.builder(SPEC);
    for (int i = 0; i < data.size(); i++) {
      b.addPixels(data.id(i), data.pixels(i), data.label(i));
    }
    return b.build();
  }

  @Test
  void learnsFashionMnistFarAboveChance() {
    // 3 epochs of 2,000 images; measured: round losses 1.67, 0.94, 0.80; test top-1 0.72 (chance 0.10).
    TrainOptions options = TrainOptions.builder()
        .setTotalSteps(TrainOptions.stepsForEpochs(3, train.size(), 64, 1))
        .optBatchSize(64).optWarmupSteps(5).optLocalStepsPerRound(32).optCropPadding(2).optSeed(1)
        .build();
    ModelWeights initial = ModelWeights.initial(SPEC, 1);
    Evaluator.Evaluation before = Evaluator.evaluate(test, SPEC, initial);
    TrainingResult r = new InProcessTrainer().train(List.of(train), SPEC, initial, options);
    Evaluator.Evaluation after = Evaluator.evaluate(test, SPEC, r.weights());
    System.out.printf("fashion-mnist 2k x 3 epochs: curve %s; test %s (before %s); %.0f images/s%n",
        r.learningCurve(), after, before, r.examplesSeen() / r.seconds());

    List<CurvePoint> curve = r.learningCurve();
    assertThat(curve).hasSize(options.rounds());
    assertThat(curve.get(curve.size() - 1).meanLoss()).as("loss of the last round vs the first")
        .isLessThan(curve.get(0).meanLoss());
    assertThat(curve.get(curve.size() - 1).meanLoss()).as("last loss vs half the loss of guessing (ln 10 = 2.30)")
        .isLessThan(Math.log(10) / 2);
    assertThat(after.top1()).as("test top-1 after 3 short epochs (chance 0.10)").isGreaterThan(0.65);
    assertThat(after.top5()).as("top-5 is at least top-1").isGreaterThanOrEqualTo(after.top1());
    assertThat(after.count()).isEqualTo(1000);
    assertThat(r.examplesSeen()).isEqualTo(options.totalSteps() * 64);
  }

  @Test
  void chainedRoundsEqualOneLongRun() {
    ExampleShard small = firstImages(train, 256);
    TrainOptions oneRound = TrainOptions.builder().setTotalSteps(12).optBatchSize(32).optLocalStepsPerRound(12)
        .optCropPadding(2).optHorizontalFlip(true).optSeed(4).build();
    TrainOptions fourRounds = oneRound.toBuilder().optLocalStepsPerRound(3).build();
    ModelWeights initial = ModelWeights.initial(SPEC, 2);
    TrainingResult a = new InProcessTrainer().train(List.of(small), SPEC, initial, oneRound);
    TrainingResult b = new InProcessTrainer().train(List.of(small), SPEC, initial, fourRounds);
    assertThat(b.roundsRun()).isEqualTo(4);
    assertThat(b.weights()).as("4 rounds of 3 steps = 1 round of 12 steps, bit for bit").isEqualTo(a.weights());
    assertThat(b.optimizerState()).as("momentum buffers too").isEqualTo(a.optimizerState());
  }

  @Test
  void checkpointsOfAnotherRunAreIgnoredAndReplaced() {
    ExampleShard small = firstImages(train, 128);
    TrainOptions options = TrainOptions.builder().setTotalSteps(4).optBatchSize(16).optLocalStepsPerRound(1).build();
    ModelWeights initial = ModelWeights.initial(SPEC, 2);
    Path dir = new Path(tmp.toURI().toString(), "checkpoints");
    new InProcessTrainer().train(List.of(small), SPEC, initial, options, dir, null);
    assertThat(new File(tmp, "checkpoints").list((d, n) -> n.startsWith("round-")))
        .as("only the last two checkpoints are kept").containsExactlyInAnyOrder("round-000003", "round-000004");

    TrainingResult other = new InProcessTrainer().train(List.of(small), SPEC, initial,
        options.toBuilder().optSeed(99).build(), dir, null);
    assertThat(other.roundsResumed()).as("a checkpoint of other options is not resumed").isZero();
    assertThat(other.roundsRun()).isEqualTo(4);

    TrainingResult again = new InProcessTrainer().train(List.of(small), SPEC, initial,
        options.toBuilder().optSeed(99).build(), dir, null);
    assertThat(again.roundsResumed()).as("a finished run resumes at its end").isEqualTo(4);
    assertThat(again.roundsRun()).isZero();
    assertThat(again.weights()).isEqualTo(other.weights());
    assertThat(again.learningCurve()).isEqualTo(other.learningCurve());
  }

  @Test
  void rejectsAShardCountThatDiffersFromTheWorkers() {
    TrainOptions options = TrainOptions.builder().setTotalSteps(1).optWorkers(2).build();
    assertThatThrownBy(() -> new InProcessTrainer().train(List.of(train), SPEC, ModelWeights.initial(SPEC, 1), options))
        .hasMessageContaining("got 1 shards for 2 workers");
  }

  static ExampleShard firstImages(ExampleShard shard, int n) {
    ExampleShard.Builder b = ExampleShard.builder(SPEC);
    for (int i = 0; i < n; i++) {
      b.addPixels(shard.id(i), shard.pixels(i), shard.label(i));
    }
    return b.build();
  }
}
