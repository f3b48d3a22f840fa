package org.semiweak.train;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.DataInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;
import org.semiweak.model.ModelSpec;
import org.semiweak.model.ModelWeights;
import org.semiweak.model.ProjectionNet;

/**
 * SimCLR training on real Fashion-MNIST images: the contrastive loss falls, and the encoder it leaves
 * fine-tunes as a classifier.
 */
class SelfSupervisedTrainingTest {
  private static final ModelSpec SPEC = ModelSpec.smallResNet(1, 28, 10, 1, 16, 32)
      .withNormalization(new float[] {0.286f}, new float[] {0.353f});

  /** The first {@code n} training images of Fashion-MNIST (Debian's dataset-fashion-mnist), labels with them. */
  static ExampleShard fashionMnist(int n) throws IOException {
    Path dir = Path.of(System.getProperty("semiweak.fashionMnistDir", "/usr/share/datasets/fashion-mnist"));
    ExampleShard.Builder b = ExampleShard.builder(SPEC);
    try (DataInputStream images = new DataInputStream(new GZIPInputStream(
            Files.newInputStream(dir.resolve("train-images-idx3-ubyte.gz"))));
        DataInputStream labels = new DataInputStream(new GZIPInputStream(
            Files.newInputStream(dir.resolve("train-labels-idx1-ubyte.gz"))))) {
      images.skipNBytes(16);
      labels.skipNBytes(8);
      for (int i = 0; i < n; i++) {
        byte[] px = new byte[28 * 28];
        images.readFully(px);
        b.addPixels("fmnist-" + i, px, labels.readUnsignedByte());
      }
    }
    return b.build();
  }

  @Test
  void theContrastiveLossFallsAndTheEncoderFineTunes() throws IOException {
    ExampleShard shard = fashionMnist(512);
    SelfSupervised simclr = SelfSupervised.simclr(0.5, 64, 32, 0.2);
    TrainOptions options = TrainOptions.builder().setTotalSteps(60).optBatchSize(64).optBaseLearningRate(0.05)
        .optWeightDecay(1e-4).optWarmupSteps(5).optCropPadding(0).optHorizontalFlip(false).optSeed(3)
        .optSelfSupervised(simclr).build();
    ModelWeights weights = ProjectionNet.initial(SPEC, 64, 32, false, 3);
    ModelWeights state = ModelWeights.empty();
    double[] meanLoss = new double[3];
    double[] partnersFound = new double[3];
    for (int part = 0; part < 3; part++) {
      LocalTrainingOutcome o = LocalTrainer.trainSteps(SPEC, weights, state, shard, part * 20L, 20, options, 0);
      weights = o.weights();
      state = o.optimizerState();
      meanLoss[part] = o.lossSum() / o.examples();
      partnersFound[part] = (double) o.correct() / o.examples();
    }
    // By chance a view finds its partner among the 127 others with probability 1/127: NT-Xent log(127) = 4.84.
    assertThat(meanLoss[2]).as("mean NT-Xent of steps 40-59 against steps 0-19 (%s)", java.util.Arrays.toString(meanLoss))
        .isLessThan(meanLoss[0] - 0.25);
    // Slow, as SimCLR is (0.05 to 0.1 here, on this machine): 5x chance is the bar.
    assertThat(partnersFound[2]).as("views that find their partner, steps 40-59 (%s)",
        java.util.Arrays.toString(partnersFound)).isGreaterThan(partnersFound[0]).isGreaterThan(5.0 / 127);

    ModelWeights classifier = ProjectionNet.classifierWeights(weights, SPEC, 3);
    TrainOptions finetune = TrainOptions.builder().setTotalSteps(20).optBatchSize(64).optBaseLearningRate(0.01)
        .optSeed(3).build();
    LocalTrainingOutcome tuned = LocalTrainer.trainSteps(SPEC, classifier, ModelWeights.empty(), shard, 0, 20, finetune, 0);
    assertThat(tuned.lossSum() / tuned.examples()).as("cross-entropy of the fine-tuned classifier, 10 classes")
        .isLessThan(Math.log(10) + 0.5);
  }
}
