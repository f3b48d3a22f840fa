package org.semiweak.teacher;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.element_at;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.pmod;
import static org.apache.spark.sql.functions.size;
import static org.apache.spark.sql.functions.xxhash64;

import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.semiweak.config.OptionSpec;
import org.semiweak.config.Options;
import org.semiweak.data.ImageSchema;
import org.semiweak.model.ModelSpec;
import org.semiweak.model.ModelWeights;
import org.semiweak.run.ManifestBuilder;
import org.semiweak.run.RunDir;
import org.semiweak.run.Stage;
import org.semiweak.run.StageManifest;
import org.semiweak.stage.ModelTraining;
import org.semiweak.stage.PrepInfo;
import org.semiweak.stage.TrainingOptionSpecs;
import org.semiweak.train.TrainOptions;
import org.semiweak.train.TrainingResult;

/**
 * Trains a teacher and commits it as {@code teacher/<recipe>}.
 *
 * <ul>
 *   <li>{@code semi-supervised}: trained on the labeled set only.
 *   <li>{@code semi-weak}: pretrained on the unlabeled set's weak tags (each image's tags mapped
 *       through the vocabulary; an image with several tag classes takes one of them, chosen by a
 *       seeded hash of its id), then fine-tuned on the labeled set with the {@code finetune-*}
 *       options.
 * </ul>
 *
 * <p>Both use the one distributed trainer; the manifest holds the learning curves and test top-1.
 */
public final class TrainTeacher implements Stage {
  public static final String SEMI_SUPERVISED = "semi-supervised";
  public static final String SEMI_WEAK = "semi-weak";
  public static final String TORCHSCRIPT = "torchscript";

  public static final OptionSpec<String> RECIPE = OptionSpec.choiceOption("recipe", SEMI_WEAK,
      List.of(SEMI_SUPERVISED, SEMI_WEAK, TORCHSCRIPT),
      "semi-supervised (labeled set only), semi-weak (weak tags of the unlabeled set, then the labeled set),"
          + " or torchscript (import the user's own TorchScript teacher from model-file)");

  public static final OptionSpec<String> MODEL_FILE = OptionSpec.stringOption("model-file", "",
      "torchscript recipe: the TorchScript file (torch.jit.save) taking (batch, channels, size, size) float images"
          + " normalized with norm-mean/norm-std and returning (batch, classes)");
  public static final OptionSpec<String> NORM_MEAN = OptionSpec.stringOption("norm-mean", "0.5",
      "torchscript recipe: per-channel mean subtracted from pixels scaled to [0, 1] (comma-separated)");
  public static final OptionSpec<String> NORM_STD = OptionSpec.stringOption("norm-std", "0.5",
      "torchscript recipe: per-channel standard deviation the pixels are divided by (comma-separated)");
  public static final OptionSpec<String> OUTPUTS = OptionSpec.choiceOption("outputs", "logits",
      List.of("logits", "probabilities"), "torchscript recipe: whether the model returns logits or probabilities");
  public static final OptionSpec<String> CLASSES_FILE = OptionSpec.stringOption("classes-file", "",
      "torchscript recipe: optional text file with the model's class names, one per line, in output order;"
          + " they must equal the run's vocabulary");

  /** The labeled-set phase (the whole training of a semi-supervised teacher). */
  public static final TrainingOptionSpecs LABELED = new TrainingOptionSpecs("",
      new TrainingOptionSpecs.Defaults(new int[] {32, 64, 128}, new int[] {1}, 60, 64, 0.05, 5e-4, 2, 10), true);

  /** The weak-tag phase of a semi-weak teacher. */
  public static final TrainingOptionSpecs WEAK = new TrainingOptionSpecs("weak-",
      new TrainingOptionSpecs.Defaults(null, null, 3, 64, 0.1, 5e-4, 0, 50), false);

  public static final OptionSpec<Integer> FINETUNE_EPOCHS = OptionSpec.intOption("finetune-epochs", 30, 1, 100_000,
      "semi-weak recipe: epochs on the labeled set after the weak-tag phase");
  public static final OptionSpec<Double> FINETUNE_LEARNING_RATE = OptionSpec.doubleOption("finetune-learning-rate",
      0.01, 0, 100, "semi-weak recipe: peak learning rate on the labeled set after the weak-tag phase");

  public static final List<OptionSpec<?>> OPTIONS;

  static {
    List<OptionSpec<?>> all = new ArrayList<>();
    all.add(RECIPE);
    all.addAll(LABELED.all());
    all.addAll(WEAK.all());
    all.add(FINETUNE_EPOCHS);
    all.add(FINETUNE_LEARNING_RATE);
    all.addAll(List.of(MODEL_FILE, NORM_MEAN, NORM_STD, OUTPUTS, CLASSES_FILE));
    OPTIONS = List.copyOf(all);
  }

  private final RunDir run;
  private final Options options;
  private final String recipe;

  public TrainTeacher(RunDir run, Options options) {
    this.run = run;
    this.options = options;
    this.recipe = options.get(RECIPE);
  }

  @Override
  public String path() {
    return "teacher/" + recipe;
  }

  @Override
  public String kind() {
    return "train-teacher";
  }

  @Override
  public void validate() {
    if (recipe.equals(TORCHSCRIPT)) {
      TorchScriptImport.validate(options);
    }
  }

  @Override
  public ManifestBuilder plan() {
    PrepInfo prep = PrepInfo.require(run, "train-teacher");
    ManifestBuilder m = new ManifestBuilder(path(), kind(), effectiveOptions()).input(run, prep.manifest());
    if (recipe.equals(TORCHSCRIPT)) {
      TorchScriptImport.plan(options, prep, m);
    } else {
      ModelTraining.modelSpec(LABELED, options, prep); // validates the architecture
    }
    return m;
  }

  /** Only the options of this recipe count: weak-phase options do not change a semi-supervised teacher. */
  private java.util.Map<String, Object> effectiveOptions() {
    java.util.Map<String, Object> eff = new java.util.TreeMap<>(options.effective());
    java.util.Set<String> torchScriptKeys = java.util.Set.of(MODEL_FILE.key(), NORM_MEAN.key(), NORM_STD.key(),
        OUTPUTS.key(), CLASSES_FILE.key());
    if (recipe.equals(TORCHSCRIPT)) {
      eff.keySet().removeIf(k -> !torchScriptKeys.contains(k) && !k.equals(RECIPE.key()));
      return eff;
    }
    eff.keySet().removeIf(torchScriptKeys::contains);
    if (recipe.equals(SEMI_SUPERVISED)) {
      eff.keySet().removeIf(k -> k.startsWith("weak-") || k.startsWith("finetune-"));
    }
    return eff;
  }

  @Override
  public StageManifest execute(SparkSession spark, ManifestBuilder m) {
    PrepInfo prep = PrepInfo.require(run, "train-teacher");
    if (recipe.equals(TORCHSCRIPT)) {
      return TorchScriptImport.execute(spark, run, path(), options, prep, m);
    }
    ModelSpec spec = ModelTraining.modelSpec(LABELED, options, prep);
    ModelWeights weights = ModelWeights.initial(spec, options.get(LABELED.seed));
    Dataset<Row> labeled = prep.read(spark, PrepInfo.LABELED).select(col(ImageSchema.IMAGE_ID), col(ImageSchema.IMAGE), col(ImageSchema.LABEL));
    long labeledCount = labeled.count();
    if (labeledCount == 0) {
      throw new IllegalStateException("the labeled split of " + run.stagePath("prep") + " is empty: a teacher needs labeled images");
    }
    TrainOptions labeledOptions;
    if (recipe.equals(SEMI_WEAK)) {
      Dataset<Row> weak = weaklyLabeled(prep.read(spark, PrepInfo.UNLABELED), options.get(WEAK.seed));
      long weakCount = weak.count();
      if (weakCount == 0) {
        throw new IllegalStateException("no unlabeled image has a tag in the vocabulary: the semi-weak recipe needs weak tags");
      }
      TrainOptions weakOptions = ModelTraining.trainOptions(WEAK, options, weakCount);
      TrainingResult pre = ModelTraining.train(spark, run, path(), "weak", weak, spec, weights, weakOptions);
      ModelTraining.record(m, "weak", weakOptions, weakCount, pre);
      weights = pre.weights();
      labeledOptions = ModelTraining.trainOptions(LABELED, options, labeledCount, options.get(FINETUNE_EPOCHS),
          options.get(FINETUNE_LEARNING_RATE));
    } else {
      labeledOptions = ModelTraining.trainOptions(LABELED, options, labeledCount);
    }
    TrainingResult fit = ModelTraining.train(spark, run, path(), "labeled", labeled, spec, weights, labeledOptions);
    ModelTraining.record(m, "labeled", labeledOptions, labeledCount, fit);
    ModelTraining.evaluateOnTest(spark, prep, spec, fit.weights(), m);
    m.metric("model-fingerprint", fit.weights().fingerprint());
    return ModelTraining.commitModel(run, path(), spec, fit.weights(), m);
  }

  /** Unlabeled images with at least one known tag, labeled by one of their tag classes. */
  static Dataset<Row> weaklyLabeled(Dataset<Row> unlabeled, long seed) {
    return unlabeled
        .where(size(col(ImageSchema.TAG_CLASSES)).gt(0))
        .select(col(ImageSchema.IMAGE_ID), col(ImageSchema.IMAGE),
            element_at(col(ImageSchema.TAG_CLASSES),
                pmod(xxhash64(col(ImageSchema.IMAGE_ID), lit(seed)), size(col(ImageSchema.TAG_CLASSES)).cast("long"))
                    .plus(1).cast("int"))
                .as(ImageSchema.LABEL));
  }
}
