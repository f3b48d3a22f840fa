package org.semiweak.train;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.io.File;
import java.util.List;
import org.apache.hadoop.fs.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.semiweak.model.Engines;
import org.semiweak.model.ModelSpec;
import org.semiweak.model.ModelWeights;

/**
 * Training records, per round, the fraction of its training images whose top-1 class is their
 * target class: counted from the logits the training step produced, summed over workers.
 */
class TrainingBatchAccuracyTest {
  /** Two classes of 8x8 grey images: dark ones (class 0) and bright ones (class 1). */
  private static final ModelSpec SPEC = ModelSpec.smallResNet(1, 8, 2, 1, 16);

  @TempDir File tmp;

  @Test
  void withHardLabelsAnImageIsRightWhenItsLargestLogitIsAtItsLabel() {
    Engines.configure();
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray logits = m.create(new float[] {
          1, 2, 3, // top-1 class 2
          0, 5, 1, // top-1 class 1
          2, 2, 0, // a tie: argMax takes the lowest class, 0
          -1, -3, -2}, // top-1 class 0
          new Shape(4, 3));
      long[] labels = {2, 0, 0, 1};
      assertThat(LocalTrainer.countCorrect(logits, labels, null, 3))
          .as("image 0 (2 = 2) and image 2 (0 = 0) are right; images 1 and 3 are not").isEqualTo(2);
    }
  }

  @Test
  void withSoftTargetsAnImageIsRightWhenItsLargestLogitIsAtAClassOfLargestTargetWeight() {
    Engines.configure();
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray logits = m.create(new float[] {
          3, 1, 0, // top-1 class 0
          3, 1, 0, // top-1 class 0
          0, 4, 1, // top-1 class 1
          0, 1, 4}, // top-1 class 2
          new Shape(4, 3));
      float[] targets = {
          0.7f, 0.2f, 0.1f, // a teacher's distribution with argmax 0: right
          0.1f, 0.3f, 0.6f, // argmax 2: wrong
          0.5f, 0.5f, 0f, // two target classes, 1/2 each: class 1 is one of them, right
          0.5f, 0.5f, 0f}; // class 2 is not a target class: wrong
      long[] firstLabels = {0, 2, 0, 0};
      assertThat(LocalTrainer.countCorrect(logits, firstLabels, targets, 3))
          .as("images 0 and 2 are right, by their target distributions (not by their first label)").isEqualTo(2);
    }
  }

  @Test
  void everyRoundOfATinyRunHasItsTrainingBatchAccuracyAsACountOverItsImages() {
    Engines.configure();
    List<ExampleShard> shards = List.of(darkAndBright(0, 24), darkAndBright(1, 24));
    TrainOptions options = TrainOptions.builder().setTotalSteps(12).optBatchSize(8).optLocalStepsPerRound(3)
        .optWorkers(2).optSeed(3).build();
    ModelWeights initial = ModelWeights.initial(SPEC, 5);
    Path checkpoints = new Path(tmp.toURI().toString(), "checkpoints");

    TrainingResult r = new InProcessTrainer().train(shards, SPEC, initial, options, checkpoints, null);

    assertThat(r.learningCurve()).as("one point per round").hasSize(4);
    long imagesPerRound = 2L * 3 * 8;
    for (CurvePoint p : r.learningCurve()) {
      assertThat(p.trainAccuracy()).as("round %d's training-batch accuracy", p.round()).isNotNull().isBetween(0.0, 1.0);
      double correct = p.trainAccuracy() * imagesPerRound;
      assertThat(correct).as("round %d: accuracy x %d images is a whole count of images", p.round(), imagesPerRound)
          .isCloseTo(Math.rint(correct), org.assertj.core.api.Assertions.within(1e-9));
    }
    CurvePoint last = r.learningCurve().get(r.learningCurve().size() - 1);
    System.out.printf("dark/bright, 4 rounds: curve %s%n", r.learningCurve());
    assertThat(last.trainAccuracy()).as("dark vs bright is learnt within 12 steps").isGreaterThanOrEqualTo(0.9);

    TrainingResult resumed = new InProcessTrainer().train(shards, SPEC, initial, options, checkpoints, null);
    assertThat(resumed.roundsResumed()).as("the finished run resumes at its end").isEqualTo(4);
    assertThat(resumed.learningCurve()).extracting(CurvePoint::trainAccuracy)
        .as("the accuracies travel through the checkpoints")
        .isEqualTo(r.learningCurve().stream().map(CurvePoint::trainAccuracy).toList());
  }

  @Test
  void aStudentTrainsWithRandAugmentDropoutAndStochasticDepthDeterministically() {
    Engines.configure();
    List<ExampleShard> shards = List.of(darkAndBright(0, 24));
    TrainOptions options = TrainOptions.builder().setTotalSteps(12).optBatchSize(8).optLocalStepsPerRound(4)
        .optSeed(3).optRandAugment(2, 9).optDropout(0.3).optStochasticDepth(0.3).build();
    ModelWeights initial = ModelWeights.initial(SPEC, 5);

    TrainingResult a = new InProcessTrainer().train(shards, SPEC, initial, options, null, null);
    TrainingResult b = new InProcessTrainer().train(shards, SPEC, initial, options, null, null);
    TrainingResult quiet = new InProcessTrainer().train(shards, SPEC, initial,
        options.toBuilder().optRandAugment(0, 0).optDropout(0).optStochasticDepth(0).build(), null, null);

    assertThat(a.weights().equals(b.weights())).as("the noise is a function of the seed: equal weights").isTrue();
    assertThat(a.weights().equals(quiet.weights())).as("and it changes what is learnt").isFalse();
    CurvePoint last = a.learningCurve().get(a.learningCurve().size() - 1);
    assertThat(last.meanLoss()).as("dark vs bright is still learnt under noise").isLessThan(
        a.learningCurve().get(0).meanLoss());
  }

  @Test
  void aCheckpointWrittenBeforeTheAccuracyWasRecordedStillReads() {
    String old = """
        {"round":2,"globalStep":6,"meanLoss":0.5,"imagesPerSecond":100.0}
        """;
    CurvePoint p = org.semiweak.util.Json.read(old, CurvePoint.class);
    assertThat(p.meanLoss()).isEqualTo(0.5);
    assertThat(p.trainAccuracy()).as("no accuracy in an old checkpoint's curve").isNull();
    assertThat(org.semiweak.util.Json.write(p)).as("and none is written for it").doesNotContain("trainAccuracy");
  }

  /** {@code n} images, alternately dark (class 0) and bright (class 1), with a little noise. */
  private static ExampleShard darkAndBright(int worker, int n) {
    java.util.SplittableRandom rng = new java.util.SplittableRandom(worker);
    ExampleShard.Builder b = ExampleShard.builder(SPEC);
    for (int i = 0; i < n; i++) {
      int label = i % 2;
      byte[] px = new byte[SPEC.imageValues()];
      for (int j = 0; j < px.length; j++) {
        px[j] = (byte) ((label == 0 ? 40 : 215) + rng.nextInt(-30, 31));
      }
      b.addPixels("w" + worker + "-" + i, px, label);
    }
    return b.build();
  }
}
