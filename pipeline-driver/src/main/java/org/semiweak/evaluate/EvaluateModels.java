package org.semiweak.evaluate;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.SparkSession;
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
 * baseline), committed or planned before it.
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
      EvaluationResult.SplitAccuracy onValidation = null;
      if (validation) {
        SparkJobs.describe(spark, "evaluate " + id + " on the validation split");
        Evaluator.Evaluation v = Evaluator.evaluate(prep.read(spark, Split.VALIDATION), loaded,
            Inference.defaultBatchSize(loaded.spec()));
        validationImages = v.count();
        onValidation = new EvaluationResult.SplitAccuracy(v.count(), v.top1(), v.top5());
      }
      rows.add(new EvaluationResult.ModelEvaluation(id.path(), id.kind().role(), e.top1(), e.top5(),
          Arrays.stream(e.perClassAccuracy()).boxed().toList(),
          Arrays.stream(e.confusion()).map(r -> Arrays.stream(r).boxed().toList()).toList(), onValidation));
    }
    Map<String, Long> counts = new LinkedHashMap<>();
    counts.put("test-images", testImages);
    if (validation) {
      counts.put("validation-images", validationImages);
    }
    counts.put("models", (long) rows.size());
    return new StageOutput(counts, new EvaluationResult(prep.vocabulary().classes(), rows));
  }
}
