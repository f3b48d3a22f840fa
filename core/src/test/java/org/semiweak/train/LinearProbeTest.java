package org.semiweak.train;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import org.junit.jupiter.api.Test;
import org.semiweak.model.ModelSpec;
import org.semiweak.model.ModelWeights;

/** Linear evaluation: a linear classifier on a frozen encoder's features. */
class LinearProbeTest {
  private static final ModelSpec SPEC = ModelSpec.smallResNet(1, 28, 10, 1, 16, 32)
      .withNormalization(new float[] {0.286f}, new float[] {0.353f});

  @Test
  void logisticRegressionSeparatesSeparableClasses() {
    // Three classes at the corners of a triangle, with a constant feature that only the bias may use.
    double[][] x = {{0, 0, 1}, {0.1, 0, 1}, {4, 0, 1}, {4, 0.1, 1}, {0, 4, 1}, {0.1, 4, 1}};
    int[] y = {0, 0, 1, 1, 2, 2};
    double[][] w = new double[3][3];
    double[] b = new double[3];
    LinearProbe.logisticRegression(x, y, w, b);
    for (int i = 0; i < x.length; i++) {
      int best = 0;
      double bestScore = Double.NEGATIVE_INFINITY;
      for (int c = 0; c < 3; c++) {
        double z = b[c] + w[c][0] * x[i][0] + w[c][1] * x[i][1] + w[c][2] * x[i][2];
        if (z > bestScore) {
          bestScore = z;
          best = c;
        }
      }
      assertThat(best).as("point %d", i).isEqualTo(y[i]);
    }
  }

  @Test
  void theEncoderStaysFrozenAndOnlyTheHeadIsFitted() throws IOException {
    ExampleShard images = SelfSupervisedTrainingTest.fashionMnist(400);
    ModelWeights encoder = ModelWeights.initial(SPEC, 7);
    ModelWeights probe = LinearProbe.fit(SPEC, encoder, images);
    int n = encoder.names().size();
    assertThat(probe.names()).isEqualTo(encoder.names());
    for (String name : encoder.names().subList(0, n - 2)) {
      assertThat(probe.values(name)).as("%s is frozen", name).containsExactly(encoder.values(name));
    }
    assertThat(probe.values(encoder.names().get(n - 2))).as("the head is new")
        .isNotEqualTo(encoder.values(encoder.names().get(n - 2)));
    assertThat(probe).as("a pure function of encoder and images").isEqualTo(LinearProbe.fit(SPEC, encoder, images));
    // Even a random encoder's features separate Fashion-MNIST's classes far better than chance (10%).
    double top1 = Evaluator.evaluate(images, SPEC, probe).top1();
    assertThat(top1).as("top-1 of the probe on its own 400 training images").isGreaterThan(0.6);
  }
}
