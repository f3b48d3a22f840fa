package org.semiweak.evaluate;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.semiweak.data.MetricsSchema;
import org.semiweak.config.ConfigException;
import org.semiweak.config.OptionSpec;
import org.semiweak.config.Options;
import org.semiweak.model.Inference;
import org.semiweak.model.StageModel;
import org.semiweak.run.RunDir;
import org.semiweak.run.RunLayout;
import org.semiweak.run.Split;
import org.semiweak.run.Stage;
import org.semiweak.run.StageId;
import org.semiweak.run.StageOutput;
import org.semiweak.run.StagePlan;
import org.semiweak.run.StageWriter;
import org.semiweak.run.Upstream;
import org.semiweak.run.result.EvaluationResult;
import org.semiweak.run.result.Publication;
import org.semiweak.stage.PrepInfo;
import org.semiweak.run.SparkJobs;
import org.semiweak.train.Evaluator;

/**
 * Evaluates models on the test split: top-1, top-5, per-class accuracy and the confusion matrix of
 * each, in the {@code evaluate} manifest. When prep wrote validation images, every model's top-1 and
 * top-5 on the validation split too (no stage trains on it: options are chosen on it, not on the
 * test set). By default every model of the run (teachers, pretrained and fine-tuned students,
 * baseline), committed or planned before it. The same numbers, per class, also go to two Parquet
 * tables in the stage folder for other tools: {@code per_class/} and {@code confusion/}
 * ({@link MetricsSchema}).
 */
public final class EvaluateModels implements Stage {
  public static final OptionSpec<String> MODELS = OptionSpec.stringOption("models", "",
      "comma-separated model stages to evaluate, e.g. teacher/semi-weak,baseline (default: every model of the run)");

  public static final List<OptionSpec<?>> OPTIONS = List.of(MODELS);

  private final RunDir run;
  private final Options options;

  public EvaluateModels(RunDir run, Options options) {
    this.run = run;
    this.options = options;
  }

  @Override
  public StageId id() {
    return RunLayout.evaluate();
  }

  /** The models to evaluate, as upstream stages; each must produce a model. */
  private List<Upstream.Known> models(Upstream upstream) {
    String given = options.getOrNull(MODELS);
    if (given == null || given.isBlank()) {
      List<Upstream.Known> all = upstream.models();
      if (all.isEmpty()) {
        throw new ConfigException("evaluate: no model in " + run.root() + " (train a teacher, student or baseline first)");
      }
      return all;
    }
    List<Upstream.Known> out = new ArrayList<>();
    for (String path : Arrays.stream(given.split(",")).map(String::strip).filter(s -> !s.isEmpty()).toList()) {
      StageId id;
      try {
        id = RunLayout.parse(path);
      } catch (IllegalArgumentException e) {
        throw new ConfigException("evaluate.models: " + e.getMessage());
      }
      if (!id.kind().producesModel()) {
        throw new ConfigException("evaluate.models: " + path + " is a " + id.kind().command() + " stage, not a model");
      }
      out.add(upstream.require(id, id()));
    }
    return out;
  }

  @Override
  public StagePlan plan(Upstream upstream) {
    StagePlan.Builder plan = StagePlan.builder(id(), options.effective())
        .input(upstream.require(RunLayout.prep(), id()));
    Publication.Images images = upstream.require(RunLayout.prep(), Publication.Images.class, id());
    for (Upstream.Known model : models(upstream)) {
      Publication.Model m = upstream.require(model.id(), Publication.Model.class, id());
      if (m.classes() != images.numClasses()) {
        throw new ConfigException("evaluate: " + model.id() + " predicts " + m.classes() + " classes, the test set has "
            + images.numClasses());
      }
      plan.input(model);
    }
    return plan.publishes(new Publication.Evaluation()).build();
  }

  @Override
  public StageOutput execute(SparkSession spark, StagePlan plan, StageWriter out) {
    PrepInfo prep = PrepInfo.require(run, id());
    List<EvaluationResult.ModelEvaluation> rows = new ArrayList<>();
    long testImages = 0;
    // Counted by prep; absent in preps from before the validation split, which wrote no such folder.
    boolean validation = prep.manifest().counts().getOrDefault("written." + Split.VALIDATION.dirName(), 0L) > 0;
    long validationImages = 0;
    List<String> classes = prep.vocabulary().classes();
    MetricsTables tables = new MetricsTables(classes);
    for (var input : plan.inputs()) {
      StageId id = RunLayout.parse(input.name());
      if (!id.kind().producesModel()) {
        continue;
      }
      SparkJobs.describe(spark, "evaluate " + id);
      StageModel loaded = StageModel.read(run, id);
      Evaluator.Evaluation e = Evaluator.evaluate(prep.read(spark, Split.TEST), loaded,
          Inference.defaultBatchSize(loaded.spec()));
      testImages = e.count();
      tables.add(Split.TEST, id, e.confusion());
      EvaluationResult.SplitAccuracy onValidation = null;
      if (validation) {
        SparkJobs.describe(spark, "evaluate " + id + " on the validation split");
        Evaluator.Evaluation v = Evaluator.evaluate(prep.read(spark, Split.VALIDATION), loaded,
            Inference.defaultBatchSize(loaded.spec()));
        validationImages = v.count();
        tables.add(Split.VALIDATION, id, v.confusion());
        onValidation = new EvaluationResult.SplitAccuracy(v.count(), v.top1(), v.top5());
      }
      rows.add(new EvaluationResult.ModelEvaluation(id.path(), id.kind().role(), e.top1(), e.top5(),
          Arrays.stream(e.perClassAccuracy()).boxed().toList(),
          Arrays.stream(e.confusion()).map(r -> Arrays.stream(r).boxed().toList()).toList(), onValidation));
    }
    tables.write(spark, out.tempDir());
    Map<String, Long> counts = new LinkedHashMap<>();
    counts.put("test-images", testImages);
    if (validation) {
      counts.put("validation-images", validationImages);
    }
    counts.put("models", (long) rows.size());
    counts.put("per-class-rows", tables.perClassRows());
    counts.put("confusion-rows", tables.confusionRows());
    return new StageOutput(counts, new EvaluationResult(classes, rows));
  }

  /** The evaluation as long-format Parquet tables ({@link MetricsSchema}), for tools other than semiweak. */
  static final class MetricsTables {
    private final List<String> classes;
    private final List<Row> perClass = new ArrayList<>();
    private final List<Row> confusion = new ArrayList<>();

    MetricsTables(List<String> classes) {
      this.classes = classes;
    }

    void add(Split split, StageId model, long[][] matrix) {
      String role = model.kind().role();
      for (int t = 0; t < matrix.length; t++) {
        long support = Arrays.stream(matrix[t]).sum();
        long correct = matrix[t][t];
        perClass.add(RowFactory.create(split.dirName(), model.path(), role, t, classes.get(t), correct, support,
            support == 0 ? null : (double) correct / support));
        for (int p = 0; p < matrix[t].length; p++) {
          confusion.add(RowFactory.create(split.dirName(), model.path(), role, t, classes.get(t), p, classes.get(p),
              matrix[t][p]));
        }
      }
    }

    long perClassRows() {
      return perClass.size();
    }

    long confusionRows() {
      return confusion.size();
    }

    /** One small file per table, under {@code dir/per_class} and {@code dir/confusion}. */
    void write(SparkSession spark, org.apache.hadoop.fs.Path dir) {
      SparkJobs.describe(spark, "evaluate: write the per-class and confusion tables");
      spark.createDataFrame(perClass, MetricsSchema.PER_CLASS).coalesce(1).write()
          .parquet(new org.apache.hadoop.fs.Path(dir, MetricsSchema.PER_CLASS_DIR).toString());
      spark.createDataFrame(confusion, MetricsSchema.CONFUSION).coalesce(1).write()
          .parquet(new org.apache.hadoop.fs.Path(dir, MetricsSchema.CONFUSION_DIR).toString());
    }
  }
}
