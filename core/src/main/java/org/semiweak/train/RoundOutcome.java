package org.semiweak.train;

import java.util.ArrayList;
import java.util.List;
import org.semiweak.model.ModelWeights;

/**
 * One round after averaging: the mean weights and momentum buffers of the workers that trained,
 * their summed training loss, their images classified right (training-batch top-1) and their
 * number of images.
 */
record RoundOutcome(ModelWeights weights, ModelWeights optimizerState, double lossSum, long correct, long examples) {

  /**
   * Averages workers' outcomes held in this JVM (the in-process trainer); workers without images
   * are left out. The distributed trainer gets the same numbers from {@link SlicedAverage}.
   *
   * @throws IllegalStateException when no worker had images
   */
  static RoundOutcome average(List<LocalTrainingOutcome> outcomes, String round) {
    List<ModelWeights> weights = new ArrayList<>();
    List<ModelWeights> states = new ArrayList<>();
    double lossSum = 0;
    long correct = 0;
    long examples = 0;
    for (LocalTrainingOutcome o : outcomes) {
      if (o.examples() > 0) {
        weights.add(o.weights());
        states.add(o.optimizerState());
        lossSum += o.lossSum();
        correct += o.correct();
        examples += o.examples();
      }
    }
    if (weights.isEmpty()) {
      throw noImages(round);
    }
    return new RoundOutcome(ModelWeights.average(weights), ModelWeights.average(states), lossSum, correct,
        examples);
  }

  static IllegalStateException noImages(String round) {
    return new IllegalStateException("no worker had training images in " + round);
  }
}
