package org.semiweak.model;

/** A loaded model that turns normalized images into class probabilities. Not thread safe. */
public interface Classifier extends AutoCloseable {
  /**
   * Probabilities {@code [count][numClasses]} for {@code count} images given as normalized CHW
   * floats back to back (see {@link org.semiweak.model.ImageTensors#normalize}).
   */
  float[][] probabilities(float[] images, int count);

  /** Probabilities and logits {@code [count][numClasses]} of the same images, from one forward pass. */
  record Outputs(float[][] probabilities, float[][] logits) {}

  /**
   * Probabilities and logits for {@code count} images (as {@link #probabilities}). The default takes
   * the logarithm of the probabilities: logits up to a per-image constant, which softmax ignores.
   */
  default Outputs outputs(float[] images, int count) {
    float[][] p = probabilities(images, count);
    float[][] logits = new float[p.length][];
    for (int i = 0; i < p.length; i++) {
      logits[i] = new float[p[i].length];
      for (int c = 0; c < p[i].length; c++) {
        logits[i][c] = (float) Math.log(p[i][c]);
      }
    }
    return new Outputs(p, logits);
  }

  @Override
  void close();
}
