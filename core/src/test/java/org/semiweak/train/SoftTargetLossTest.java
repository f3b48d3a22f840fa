package org.semiweak.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.loss.SoftmaxCrossEntropyLoss;
import ai.djl.ndarray.NDList;
import org.junit.jupiter.api.Test;
import org.semiweak.model.Engines;

/** The loss of an image with several target classes (1/k each), against values computed by hand. */
class SoftTargetLossTest {
  @Test
  void softTargetLossIsTheCrossEntropyWithTheTargetDistribution() {
    Engines.configure();
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray logits = m.create(new float[] {1, 2, 3, 0, 0, 0}, new Shape(2, 3));
      NDArray targets = m.create(new float[] {0.5f, 0.5f, 0, 0, 0, 1}, new Shape(2, 3));
      double z = Math.exp(1) + Math.exp(2) + Math.exp(3);
      double first = -0.5 * Math.log(Math.exp(1) / z) - 0.5 * Math.log(Math.exp(2) / z);
      double second = -Math.log(1.0 / 3);
      assertThat(LocalTrainer.softTargetLoss(logits, targets).getFloat())
          .as("mean over the batch of -sum q log softmax").isCloseTo((float) ((first + second) / 2), within(1e-5f));
    }
  }

  @Test
  void withOneHotTargetsItEqualsTheUsualCrossEntropy() {
    Engines.configure();
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray logits = m.create(new float[] {0.3f, -1.2f, 2.0f, 0.7f, 0.1f, -0.4f}, new Shape(2, 3));
      NDArray oneHot = m.create(new float[] {0, 0, 1, 1, 0, 0}, new Shape(2, 3));
      float sparse = new SoftmaxCrossEntropyLoss().evaluate(new NDList(m.create(new long[] {2, 0})), new NDList(logits))
          .getFloat();
      assertThat(LocalTrainer.softTargetLoss(logits, oneHot).getFloat()).isCloseTo(sparse, within(1e-5f));
    }
  }
}
