package org.semiweak.run.result;

import java.util.List;

/**
 * What a model stage (train-teacher, pretrain, finetune, baseline) published.
 *
 * @param model the committed model
 * @param training its training phases in the order they ran (e.g. {@code weak} then {@code labeled});
 *     empty for an imported model
 * @param testTop1 top-1 accuracy on the test split, in [0, 1]
 * @param testTop5 top-5 accuracy on the test split
 * @param testImages images of the test split
 * @param linearEvaluation a self-supervised teacher's encoder, frozen, with a linear classifier trained
 *     on the labeled images; null for other models (and absent from their manifests)
 */
public record ModelResult(ModelDescription model, List<TrainingPhase> training, double testTop1,
    double testTop5, long testImages,
    @com.fasterxml.jackson.annotation.JsonInclude(com.fasterxml.jackson.annotation.JsonInclude.Include.NON_NULL)
    LinearEvaluation linearEvaluation) implements StageResult {

  public ModelResult {
    training = List.copyOf(training);
  }

  /** A result without linear evaluation. */
  public ModelResult(ModelDescription model, List<TrainingPhase> training, double testTop1, double testTop5,
      long testImages) {
    this(model, training, testTop1, testTop5, testImages, null);
  }

  /**
   * The linear evaluation of an encoder after its self-supervised phase (before any fine-tuning): a
   * linear classifier on its frozen features ({@link org.semiweak.train.LinearProbe}).
   *
   * @param labeledImages the images the linear classifier was trained on
   * @param testTop1 its top-1 accuracy on the test split
   * @param testImages images of the test split
   */
  public record LinearEvaluation(long labeledImages, double testTop1, long testImages) {}

  /** The names of the training phases, in the order they ran. */
  public List<String> phaseNames() {
    return training.stream().map(TrainingPhase::name).toList();
  }

  /** The training phase {@code name}; an error naming the phases there are if it did not run. */
  public TrainingPhase phase(String name) {
    return training.stream().filter(p -> p.name().equals(name)).findFirst().orElseThrow(
        () -> new IllegalArgumentException("no training phase '" + name + "'; phases: " + phaseNames()));
  }

  @Override
  public Publication.Model publication() {
    return model.publication();
  }
}
