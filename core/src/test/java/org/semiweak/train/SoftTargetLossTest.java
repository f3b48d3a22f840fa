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

/**
 * The soft cross-entropy against values computed by hand: an image with several target classes (1/k
 * each), and a teacher's distribution softened at a temperature (distillation).
 */
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

  @Test
  void aTeachersLogitsAreSoftenedBySoftmaxOfLogitsOverTheTemperature() {
    // Teacher logits (2, 0, -2) at T = 2 are (1, 0, -1): q = (e, 1, 1/e) / (e + 1 + 1/e)
    //   = (0.665241, 0.244728, 0.090031).
    float[] q = SoftTargets.soften(new float[] {2, 0, -2}, 2);
    assertThat(q[0]).isCloseTo(0.665241f, within(1e-6f));
    assertThat(q[1]).isCloseTo(0.244728f, within(1e-6f));
    assertThat(q[2]).isCloseTo(0.090031f, within(1e-6f));
    // At T = 1 it is the teacher's own distribution; a larger T is flatter; large logits stay finite.
    float[] p = SoftTargets.soften(new float[] {2, 0, -2}, 1);
    assertThat(p[0]).isCloseTo((float) (Math.exp(2) / (Math.exp(2) + 1 + Math.exp(-2))), within(1e-6f));
    assertThat(SoftTargets.soften(new float[] {2, 0, -2}, 10)[0]).isLessThan(q[0]);
    assertThat(SoftTargets.soften(new float[] {1000, 0}, 1)).containsExactly(1f, 0f);
  }

  @Test
  void theDistillationLossIsTheCrossEntropyOfTheStudentWithTheSoftenedTeacher() {
    Engines.configure();
    try (NDManager m = NDManager.newBaseManager()) {
      // Student logits (1, 0, 0): log softmax = (1, 0, 0) - log(e + 2) = (-0.551445, -1.551445, -1.551445).
      // Against q of the teacher (2, 0, -2) at T = 2 (above): -(0.665241 * -0.551445 + 0.334759 * -1.551445)
      //   = 0.366837 + 0.519365 = 0.886203.
      NDArray student = m.create(new float[] {1, 0, 0}, new Shape(1, 3));
      NDArray q = m.create(SoftTargets.soften(new float[] {2, 0, -2}, 2), new Shape(1, 3));
      assertThat(LocalTrainer.softTargetLoss(student, q).getFloat()).isCloseTo(0.886203f, within(1e-5f));
      // At T = 1 the targets are sharper: q = (0.866813, 0.117310, 0.015876), loss
      //   = 0.866813 * 0.551445 + 0.133187 * 1.551445 = 0.477999 + 0.206632 = 0.684631.
      NDArray sharp = m.create(SoftTargets.soften(new float[] {2, 0, -2}, 1), new Shape(1, 3));
      assertThat(LocalTrainer.softTargetLoss(student, sharp).getFloat()).isCloseTo(0.684631f, within(1e-5f));
    }
  }

  @Test
  void aTemperatureThatIsNotPositiveOrALogitThatIsNotFiniteIsRefused() {
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> SoftTargets.soften(new float[] {1, 2}, 0))
        .hasMessageContaining("temperature must be a positive number");
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> SoftTargets.soften(new float[] {1, Float.NaN}, 2))
        .hasMessageContaining("must be finite");
  }
}
