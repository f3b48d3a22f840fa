package org.semiweak.run.result;

import java.util.Map;

/**
 * What a model stage (train-teacher, pretrain, finetune, baseline) published.
 *
 * @param model the committed model
 * @param training its training phases by name ({@code labeled}, {@code weak}, {@code pseudo-labels});
 *     empty for an imported model
 * @param testTop1 top-1 accuracy on the test split, in [0, 1]
 * @param testTop5 top-5 accuracy on the test split
 * @param testImages images of the test split
 */
public record ModelResult(ModelDescription model, Map<String, TrainingPhase> training, double testTop1,
    double testTop5, long testImages) implements StageResult {

  @Override
  public Publication.Model publication() {
    return model.publication();
  }
}
