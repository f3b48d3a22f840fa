package org.semiweak.train;

/**
 * Target distributions for distillation (Hinton et al. 2015; SimCLRv2's third step): the teacher's
 * logits softened by a temperature, {@code softmax(z / T)}. The student trains on them with the
 * soft cross-entropy {@code -sum_c q_c log softmax(s)_c} ({@link LocalTrainer}), its own logits at
 * temperature 1, so that it predicts with them as they are.
 */
public final class SoftTargets {
  private SoftTargets() {}

  /**
   * {@code softmax(logits / temperature)}, computed in double precision after subtracting the
   * largest logit, so that it is finite for any finite logits.
   *
   * @throws IllegalArgumentException if the temperature is not positive or a logit is not finite
   */
  public static float[] soften(float[] logits, double temperature) {
    if (!(temperature > 0) || Double.isInfinite(temperature)) {
      throw new IllegalArgumentException("the temperature must be a positive number, found " + temperature);
    }
    if (logits.length == 0) {
      throw new IllegalArgumentException("no logits to soften");
    }
    double max = Double.NEGATIVE_INFINITY;
    for (float z : logits) {
      if (!Float.isFinite(z)) {
        throw new IllegalArgumentException("a logit is " + z + ": the teacher's logits must be finite");
      }
      max = Math.max(max, z);
    }
    double[] e = new double[logits.length];
    double sum = 0;
    for (int c = 0; c < logits.length; c++) {
      e[c] = Math.exp((logits[c] - max) / temperature);
      sum += e[c];
    }
    float[] q = new float[logits.length];
    for (int c = 0; c < logits.length; c++) {
      q[c] = (float) (e[c] / sum);
    }
    return q;
  }
}
