package org.semiweak.driver;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.semiweak.prep.PrepareImages;
import org.semiweak.student.EvaluateModels;
import org.semiweak.student.FinetuneStudent;
import org.semiweak.student.PretrainStudent;
import org.semiweak.student.TrainBaseline;
import org.semiweak.teacher.ScoreImages;
import org.semiweak.teacher.SelectPseudoLabels;
import org.semiweak.teacher.TrainTeacher;

/** Every stage of the pipeline, in pipeline order: the one place the CLI and the tests reach them. */
public final class StageCatalog {
  public static final StageType PREP = new StageType("prep",
      "turn raw images (IDX, image folder + metadata, WebDataset tars) into Parquet image shards",
      PrepareImages.OPTIONS, PrepareImages::new);
  public static final StageType TRAIN_TEACHER = new StageType("train-teacher",
      "train a teacher (semi-supervised or semi-weak), or import a TorchScript teacher",
      TrainTeacher.OPTIONS, TrainTeacher::new);
  public static final StageType SCORE = new StageType("score",
      "score every unlabeled image with a teacher, keeping its top-Pmax classes",
      ScoreImages.OPTIONS, ScoreImages::new);
  public static final StageType SELECT = new StageType("select",
      "select the top-K images per class among each image's top-P classes (a new, named selection)",
      SelectPseudoLabels.OPTIONS, SelectPseudoLabels::new);
  public static final StageType PRETRAIN = new StageType("pretrain",
      "pretrain the student on a selection's pseudo-labels (distributed)",
      PretrainStudent.OPTIONS, PretrainStudent::new);
  public static final StageType FINETUNE = new StageType("finetune",
      "fine-tune a pretrained student on the labeled set (distributed)",
      FinetuneStudent.OPTIONS, FinetuneStudent::new);
  public static final StageType BASELINE = new StageType("baseline",
      "train the supervised baseline: the student architecture on the labeled set only",
      TrainBaseline.OPTIONS, TrainBaseline::new);
  public static final StageType EVALUATE = new StageType("evaluate",
      "top-1/top-5, per-class accuracy and confusion matrix of models on the test set",
      EvaluateModels.OPTIONS, EvaluateModels::new);

  public static final List<StageType> ALL =
      List.of(PREP, TRAIN_TEACHER, SCORE, SELECT, PRETRAIN, FINETUNE, BASELINE, EVALUATE);

  private static final Map<String, StageType> BY_COMMAND = new LinkedHashMap<>();

  static {
    ALL.forEach(t -> BY_COMMAND.put(t.command(), t));
  }

  private StageCatalog() {}

  public static Optional<StageType> byCommand(String command) {
    return Optional.ofNullable(BY_COMMAND.get(command));
  }

  public static java.util.Set<String> commands() {
    return BY_COMMAND.keySet();
  }

  /** Position of a stage kind in pipeline order (for {@code run --from}). */
  public static int order(String command) {
    int i = 0;
    for (StageType t : ALL) {
      if (t.command().equals(command)) {
        return i;
      }
      i++;
    }
    throw new org.semiweak.config.ConfigException(
        "unknown stage '" + command + "'; stages are " + BY_COMMAND.keySet());
  }
}
