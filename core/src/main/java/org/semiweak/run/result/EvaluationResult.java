package org.semiweak.run.result;

import java.util.List;

/**
 * What evaluate published: every evaluated model's accuracy on the test split.
 *
 * @param classes class names, the order of per-class accuracies and of the confusion matrices
 * @param models one row per model
 */
public record EvaluationResult(List<String> classes, List<ModelEvaluation> models) implements StageResult {

  @Override
  public Publication.Evaluation publication() {
    return new Publication.Evaluation();
  }

  /**
   * One model on the test split.
   *
   * @param model its stage
   * @param role teacher, pretrained, student or baseline
   * @param top1 top-1 accuracy in [0, 1]
   * @param top5 top-5 accuracy
   * @param perClassAccuracy top-1 accuracy per true class
   * @param confusion counts: row = true class, column = predicted class
   */
  public record ModelEvaluation(String model, String role, double top1, double top5, List<Double> perClassAccuracy,
      List<List<Long>> confusion) {}
}
