package org.semiweak.student;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.spark.sql.SparkSession;
import org.semiweak.config.ConfigException;
import org.semiweak.config.OptionSpec;
import org.semiweak.config.Options;
import org.semiweak.model.StageModel;
import org.semiweak.run.ManifestBuilder;
import org.semiweak.run.RunDir;
import org.semiweak.run.Stage;
import org.semiweak.run.StageManifest;
import org.semiweak.run.StageWriter;
import org.semiweak.stage.PrepInfo;
import org.semiweak.train.Evaluator;

/**
 * Evaluates models on the test split: top-1, top-5, per-class accuracy and the confusion matrix of
 * each, in the {@code evaluate} manifest. By default every committed model of the run (teachers,
 * pretrained and fine-tuned students, baseline).
 */
public final class EvaluateModels implements Stage {
  public static final OptionSpec<String> MODELS = OptionSpec.stringOption("models", "",
      "comma-separated model stages to evaluate, e.g. teacher/semi-weak,baseline (default: every committed model)");

  public static final List<OptionSpec<?>> OPTIONS = List.of(MODELS);

  static final Set<String> MODEL_KINDS = Set.of("train-teacher", "pretrain", "finetune", "baseline");

  private final RunDir run;
  private final Options options;

  public EvaluateModels(RunDir run, Options options) {
    this.run = run;
    this.options = options;
  }

  @Override
  public String path() {
    return "evaluate";
  }

  @Override
  public String kind() {
    return "evaluate";
  }

  private List<StageManifest> models() {
    String given = options.getOrNull(MODELS);
    List<StageManifest> out = new ArrayList<>();
    if (given == null || given.isBlank()) {
      for (StageManifest m : run.listCommitted()) {
        if (MODEL_KINDS.contains(m.kind())) {
          out.add(m);
        }
      }
      if (out.isEmpty()) {
        throw new IllegalStateException("evaluate: no committed model in " + run.root() + " (train a teacher, student or baseline first)");
      }
      return out;
    }
    for (String stage : Arrays.stream(given.split(",")).map(String::strip).filter(s -> !s.isEmpty()).toList()) {
      StageManifest m = run.require(stage, "evaluate");
      if (!MODEL_KINDS.contains(m.kind())) {
        throw new ConfigException("evaluate.models: " + stage + " is a " + m.kind() + " stage, not a model");
      }
      out.add(m);
    }
    return out;
  }

  @Override
  public ManifestBuilder plan() {
    PrepInfo prep = PrepInfo.require(run, "evaluate");
    ManifestBuilder m = new ManifestBuilder(path(), kind(), options.effective()).input(run, prep.manifest());
    for (StageManifest model : models()) {
      m.input(run, model);
    }
    return m;
  }

  static String role(String kind) {
    return switch (kind) {
      case "train-teacher" -> "teacher";
      case "pretrain" -> "pretrained";
      case "finetune" -> "student";
      case "baseline" -> "baseline";
      default -> kind;
    };
  }

  @Override
  public StageManifest execute(SparkSession spark, ManifestBuilder m) {
    PrepInfo prep = PrepInfo.require(run, "evaluate");
    List<Map<String, Object>> rows = new ArrayList<>();
    long testImages = -1;
    for (StageManifest model : models()) {
      spark.sparkContext().setJobDescription("evaluate " + model.stage());
      StageModel loaded = StageModel.read(run, model.stage());
      Evaluator.Evaluation e = Evaluator.evaluate(prep.read(spark, PrepInfo.TEST), loaded,
          org.semiweak.model.Inference.defaultBatchSize(loaded.spec()));
      testImages = e.count();
      Map<String, Object> row = new LinkedHashMap<>();
      row.put("model", model.stage());
      row.put("role", role(model.kind()));
      row.put("top1", e.top1());
      row.put("top5", e.top5());
      row.put("per-class-accuracy", Arrays.stream(e.perClassAccuracy()).boxed().toList());
      row.put("confusion", Arrays.stream(e.confusion()).map(r -> Arrays.stream(r).boxed().toList()).toList());
      rows.add(row);
    }
    spark.sparkContext().setJobDescription(null);
    m.count("test-images", testImages);
    m.count("models", rows.size());
    m.metric("classes", prep.vocabulary().classes());
    m.metric("models", rows);
    try (StageWriter w = run.begin(path())) {
      StageManifest done = m.build();
      w.commit(done);
      return done;
    }
  }
}
