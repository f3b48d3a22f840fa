package org.semiweak.train;

import java.io.Serializable;
import org.semiweak.model.ModelWeights;

/**
 * What one worker returns after its local steps: new weights and momentum buffers, the summed
 * per-image training loss, the number of images whose top-1 class was their target class ({@link
 * LocalTrainer#countCorrect}), the number of images processed and the wall time.
 */
public record LocalTrainingOutcome(
    ModelWeights weights, ModelWeights optimizerState, double lossSum, long correct, long examples, double seconds)
    implements Serializable {

  /** Mean training loss per image, NaN when no image was processed. */
  public double meanLoss() {
    return examples == 0 ? Double.NaN : lossSum / examples;
  }
}
