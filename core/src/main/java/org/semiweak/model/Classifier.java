package org.semiweak.model;

/** A loaded model that turns normalized images into class probabilities. Not thread safe. */
public interface Classifier extends AutoCloseable {
  /**
   * Probabilities {@code [count][numClasses]} for {@code count} images given as normalized CHW
   * floats back to back (see {@link org.semiweak.model.ImageTensors#normalize}).
   */
  float[][] probabilities(float[] images, int count);

  @Override
  void close();
}
