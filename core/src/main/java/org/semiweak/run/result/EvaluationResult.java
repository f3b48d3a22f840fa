package org.semiweak.run.result;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;

/**
 * What evaluate published: every evaluated model's accuracy on the test split, and on the
 * validation split when prep wrote one.
 *
 * @param classes class names, the order of per-class accuracies and of the confusion matrices
 * @param models one row per model
 */
public record EvaluationResult(List<String> classes, List<ModelEvaluation> models) implements StageResult {

  @Override
  public Publication.Evaluation publication() {
    return new Publication.Evaluation();
  }

  /** Whether any model was evaluated on a validation split. */
  public boolean hasValidation() {
    return models.stream().anyMatch(m -> m.validation() != null);
  }

  /**
   * One model on the test split (and the validation split).
   *
   * @param model its stage
   * @param role teacher, pretrained, student or baseline
   * @param top1 top-1 accuracy in [0, 1] on the test split
   * @param top5 top-5 accuracy on the test split
   * @param perClassAccuracy top-1 accuracy per true class on the test split
   * @param confusion counts on the test split: row = true class, column = predicted class
   * @param validation its accuracy on the validation split; null when prep wrote no validation image
   *     (and in results written before the validation split existed). Left out of the JSON when null.
   */
  public record ModelEvaluation(String model, String role, double top1, double top5, List<Double> perClassAccuracy,
      List<List<Long>> confusion, @JsonInclude(JsonInclude.Include.NON_NULL) SplitAccuracy validation) {

    /** A model evaluated on the test split only. */
    public ModelEvaluation(String model, String role, double top1, double top5, List<Double> perClassAccuracy,
        List<List<Long>> confusion) {
      this(model, role, top1, top5, perClassAccuracy, confusion, null);
    }
  }

  /**
   * A model's accuracy on one split besides test.
   *
   * @param images images of the split evaluated
   * @param top1 top-1 accuracy in [0, 1]
   * @param top5 top-5 accuracy in [0, 1]
   */
  public record SplitAccuracy(long images, double top1, double top5) {}
}
