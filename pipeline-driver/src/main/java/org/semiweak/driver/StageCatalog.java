package org.semiweak.driver;

import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import org.semiweak.data.ScoreSchema;
import org.semiweak.evaluate.EvaluateModels;
import org.semiweak.prep.PrepFormats;
import org.semiweak.prep.PrepareImages;
import org.semiweak.report.RunReport;
import org.semiweak.run.StageKind;
import org.semiweak.student.DistillStudent;
import org.semiweak.student.FinetuneStudent;
import org.semiweak.student.PretrainStudent;
import org.semiweak.student.TrainBaseline;
import org.semiweak.teacher.ScoreImages;
import org.semiweak.teacher.SelectPseudoLabels;
import org.semiweak.teacher.TrainTeacher;

/** Every stage of the pipeline, in pipeline order: the one place the CLI and the tests reach them. */
public final class StageCatalog {
  private static final String DISTILL_HELP = "\n" + String.join("\n",
      "Distillation (Hinton et al. 2015; SimCLRv2's third step). The student trains from scratch on every image",
      "the teacher scored (scores/<teacher>, usually all of prep/unlabeled), each against the teacher's softened",
      "distribution softmax(logits / T), with the soft cross-entropy -sum_c q_c log softmax(s)_c (the student's",
      "logits s at temperature 1). It writes student/<teacher>/distill-t<T>/distill; finetune with",
      "selection: distill-t<T> continues it on the labeled set, and evaluate reports the student before and after.",
      "",
      "It needs scores that kept every image's logits: the score option logits (default auto: kept for up to "
          + ScoreSchema.LOGITS_AUTO_MAX_CLASSES,
      "classes). Scores without them (logits: none, or written before that option) are refused before any Spark",
      "job, with the command that scores again.",
      "",
      "In a run config, a distill section (even empty: distill: {}) adds distill and its finetune for every teacher:",
      "",
      "  distill: {temperature: 2, epochs: 4}",
      "");
  private static final String REPORT_HELP = "\n" + String.join("\n",
      "The report is one HTML file, RUN_DIR/report/index.html, with inline CSS and SVG charts: no script, nothing",
      "fetched, so it opens from a local copy of any run directory (HDFS or S3 included). It shows what the run",
      "committed: the accuracy table and, per model, accuracy per class and the confusion heatmap; the training",
      "loss and training-batch accuracy (top-1 on the augmented batches, in train mode) per round, and a",
      "self-supervised teacher's linear evaluation beside its fine-tuned top-1; the top-1",
      "probability histograms of the scores, overall and per class; per selection the",
      "images selected against K, the score at rank K and the precision per class (where labels are known),",
      "with thumbnails of the top and the borderline images of each class, and across selections their overlap",
      "and the students' accuracy against K and P; prep's counts and quarantine; and each stage's options,",
      "version, fingerprint, state and wall time (stale stages are named at the top). A section the run has",
      "nothing for yet says so.",
      "It is committed like a stage (report/_MANIFEST.json) and is stale once any stage it shows runs again.",
      "'semiweak run' and 'semiweak demo' write it at the end; if that fails, the run still succeeds, with a",
      "warning that gives the command to write it again:",
      "",
      "  semiweak report --run-dir RUN_DIR",
      "");
  public static final StageType PREP = new StageType(StageKind.PREP,
      "turn raw images (IDX, image folder + metadata, WebDataset tars) into Parquet image shards",
      PrepareImages.OPTIONS, PrepareImages::new, PrepFormats.help());
  public static final StageType TRAIN_TEACHER = new StageType(StageKind.TRAIN_TEACHER,
      "train a teacher (semi-supervised, semi-weak or self-supervised), or import a TorchScript teacher",
      TrainTeacher.OPTIONS, TrainTeacher::new);
  public static final StageType SCORE = new StageType(StageKind.SCORE,
      "score every unlabeled image with a teacher, keeping its top-Pmax classes",
      ScoreImages.OPTIONS, ScoreImages::new);
  public static final StageType SELECT = new StageType(StageKind.SELECT,
      "select the top-K images per class among each image's top-P classes (a new, named selection)",
      SelectPseudoLabels.OPTIONS, SelectPseudoLabels::new);
  public static final StageType PRETRAIN = new StageType(StageKind.PRETRAIN,
      "pretrain the student on a selection's pseudo-labels (distributed)",
      PretrainStudent.OPTIONS, PretrainStudent::new);
  public static final StageType DISTILL = new StageType(StageKind.DISTILL,
      "distill the teacher into a student on every scored image, with its soft labels at temperature T (distributed)",
      DistillStudent.OPTIONS, DistillStudent::new, DISTILL_HELP);
  public static final StageType FINETUNE = new StageType(StageKind.FINETUNE,
      "fine-tune a pretrained or distilled student on the labeled set (distributed)",
      FinetuneStudent.OPTIONS, FinetuneStudent::new);
  public static final StageType BASELINE = new StageType(StageKind.BASELINE,
      "train the supervised baseline: the student architecture on the labeled set only",
      TrainBaseline.OPTIONS, TrainBaseline::new);
  public static final StageType EVALUATE = new StageType(StageKind.EVALUATE,
      "top-1/top-5, per-class accuracy and confusion matrix of models on the test set (top-1/top-5 on validation too)",
      EvaluateModels.OPTIONS, EvaluateModels::new);
  public static final StageType REPORT = new StageType(StageKind.REPORT,
      "write report/index.html: one self-contained page of charts about every stage of the run (also at the end of run and demo)",
      RunReport.OPTIONS, RunReport::new, REPORT_HELP);

  /** In pipeline order, one per {@link StageKind}. */
  public static final List<StageType> ALL =
      List.of(PREP, TRAIN_TEACHER, SCORE, SELECT, PRETRAIN, DISTILL, FINETUNE, BASELINE, EVALUATE, REPORT);

  private StageCatalog() {}

  public static Optional<StageType> byCommand(String command) {
    return ALL.stream().filter(t -> t.command().equals(command)).findFirst();
  }

  public static StageType of(StageKind kind) {
    return ALL.stream().filter(t -> t.kind() == kind).findFirst().orElseThrow();
  }

  public static Set<String> commands() {
    return ALL.stream().map(StageType::command).collect(Collectors.toCollection(java.util.LinkedHashSet::new));
  }
}
