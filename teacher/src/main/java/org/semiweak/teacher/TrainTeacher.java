package org.semiweak.teacher;

import static org.apache.spark.sql.functions.array_distinct;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.element_at;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.pmod;
import static org.apache.spark.sql.functions.size;
import static org.apache.spark.sql.functions.xxhash64;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.semiweak.config.OptionSpec;
import org.semiweak.config.Options;
import org.semiweak.data.ImageSchema;
import org.semiweak.model.ModelSpec;
import org.semiweak.model.ModelWeights;
import org.semiweak.model.StageModel;
import org.semiweak.run.RunDir;
import org.semiweak.run.RunLayout;
import org.semiweak.run.Split;
import org.semiweak.run.StageId;
import org.semiweak.run.StagePlan;
import org.semiweak.run.Upstream;
import org.semiweak.run.result.Publication;
import org.semiweak.stage.PrepInfo;
import org.semiweak.stage.TrainingOptionSpecs;
import org.semiweak.stage.TrainingStage;

/**
 * Makes a teacher by one of the {@link TeacherRecipe}s and commits it as {@code teacher/<recipe>}.
 *
 * <ul>
 *   <li>{@code semi-supervised}: trained on the labeled set only.
 *   <li>{@code semi-weak}: pretrained on the unlabeled set's weak tags (each image's tags mapped
 *       through the vocabulary; an image with several tag classes takes one of them, chosen by a
 *       seeded hash of its id), then fine-tuned on the labeled set with the {@code finetune-*}
 *       options.
 *   <li>{@code torchscript}: the user's TorchScript file ({@link TorchScriptImport}).
 * </ul>
 */
public final class TrainTeacher extends TrainingStage {
  public static final OptionSpec<String> RECIPE = OptionSpec.choiceOption("recipe", TeacherRecipe.SEMI_WEAK.command(),
      TeacherRecipe.names(),
      "semi-supervised (labeled set only), semi-weak (weak tags of the unlabeled set, then the labeled set),"
          + " or torchscript (import the user's own TorchScript teacher from model-file)");

  public static final OptionSpec<String> MODEL_FILE = OptionSpec.stringOption("model-file", "",
      "torchscript recipe: the TorchScript file (torch.jit.save) taking (batch, channels, size, size) float images"
          + " normalized with norm-mean/norm-std and returning (batch, classes)");
  public static final OptionSpec<String> OUTPUTS = OptionSpec.choiceOption("outputs", "logits",
      List.of("logits", "probabilities"), "torchscript recipe: whether the model returns logits or probabilities");
  public static final OptionSpec<String> CLASSES_FILE = OptionSpec.stringOption("classes-file", "",
      "torchscript recipe: optional text file with the model's class names, one per line, in output order;"
          + " they must equal the run's vocabulary");

  /**
   * The labeled-set phase (the whole training of a semi-supervised teacher). The default teacher
   * (widths 32/64/128, 2 blocks per stage) has more capacity than the default student (16/32/64,
   * 1 block): a PyTorch reference on the demo's data put such a teacher 1.5 points above the
   * student-sized baseline.
   */
  public static final TrainingOptionSpecs LABELED = new TrainingOptionSpecs("",
      new TrainingOptionSpecs.Defaults(new int[] {32, 64, 128}, new int[] {2}, 60, 64, 0.05, 5e-4, 2, 10), true);

  /** The weak-tag phase of a semi-weak teacher. */
  public static final TrainingOptionSpecs WEAK = new TrainingOptionSpecs("weak-",
      new TrainingOptionSpecs.Defaults(null, null, 3, 64, 0.1, 5e-4, 0, 50), false);

  public static final OptionSpec<Integer> FINETUNE_EPOCHS = OptionSpec.intOption("finetune-epochs", 30, 1, 100_000,
      "semi-weak recipe: epochs on the labeled set after the weak-tag phase");
  public static final OptionSpec<Double> FINETUNE_LEARNING_RATE = OptionSpec.doubleOption("finetune-learning-rate",
      0.01, 0, 100, "semi-weak recipe: peak learning rate on the labeled set after the weak-tag phase");
  public static final OptionSpec<String> WEAK_TARGETS = OptionSpec.choiceOption("weak-targets", "all-tags",
      List.of("all-tags", "one-tag"), "semi-weak recipe: an image whose tags map to k classes trains against all of"
          + " them with weight 1/k each (all-tags, a soft target, as hashtag pretraining does), or against one of"
          + " them drawn by a hash of its id and weak-seed (one-tag)");

  /** The options of the torchscript recipe (normalization is the architecture's norm-mean/norm-std). */
  static final List<OptionSpec<?>> TORCHSCRIPT_OPTIONS =
      List.of(MODEL_FILE, LABELED.normMean, LABELED.normStd, OUTPUTS, CLASSES_FILE);

  public static final List<OptionSpec<?>> OPTIONS;

  static {
    List<OptionSpec<?>> all = new ArrayList<>();
    all.add(RECIPE);
    all.addAll(LABELED.all());
    all.addAll(WEAK.all());
    all.add(FINETUNE_EPOCHS);
    all.add(FINETUNE_LEARNING_RATE);
    all.add(WEAK_TARGETS);
    all.addAll(List.of(MODEL_FILE, OUTPUTS, CLASSES_FILE));
    OPTIONS = List.copyOf(all);
  }

  private final TeacherRecipe recipe;

  public TrainTeacher(RunDir run, Options options) {
    super(run, options);
    this.recipe = TeacherRecipe.parse(options.get(RECIPE));
  }

  /** The options that make a teacher of {@code recipe}: others do not change it, nor its fingerprint. */
  static List<OptionSpec<?>> optionsOf(TeacherRecipe recipe) {
    List<OptionSpec<?>> out = new ArrayList<>(List.of(RECIPE));
    switch (recipe) {
      case SEMI_SUPERVISED -> out.addAll(LABELED.all());
      case SEMI_WEAK -> {
        out.addAll(LABELED.all());
        out.addAll(WEAK.all());
        out.add(FINETUNE_EPOCHS);
        out.add(FINETUNE_LEARNING_RATE);
        out.add(WEAK_TARGETS);
      }
      case TORCHSCRIPT -> out.addAll(TORCHSCRIPT_OPTIONS);
    }
    return out;
  }

  @Override
  public StageId id() {
    return RunLayout.teacher(recipe.command());
  }

  public TeacherRecipe recipe() {
    return recipe;
  }

  @Override
  public void validate() {
    if (recipe == TeacherRecipe.TORCHSCRIPT) {
      TorchScriptImport.validate(options);
    }
  }

  @Override
  public StagePlan plan(Upstream upstream) {
    Upstream.Known prep = upstream.require(RunLayout.prep(), id());
    Publication.Images images = upstream.require(RunLayout.prep(), Publication.Images.class, id());
    Set<String> keys = optionsOf(recipe).stream().map(OptionSpec::key).collect(Collectors.toSet());
    Map<String, Object> effective = new TreeMap<>(options.effective());
    effective.keySet().retainAll(keys);
    StagePlan.Builder plan = StagePlan.builder(id(), effective).input(prep);
    if (recipe == TeacherRecipe.TORCHSCRIPT) {
      return TorchScriptImport.plan(options, images, plan);
    }
    ModelSpec spec = LABELED.modelSpec(options, images);
    checkSchedules();
    return plan.publishes(new Publication.Model(spec.inputSize(), spec.inputChannels(), spec.numClasses())).build();
  }

  /** The schedule of every phase of this recipe is valid (as built at run time, for one example). */
  private void checkSchedules() {
    try {
      if (recipe == TeacherRecipe.SEMI_WEAK) {
        WEAK.schedule(options, 1);
        LABELED.schedule(options, 1, options.get(FINETUNE_EPOCHS), options.get(FINETUNE_LEARNING_RATE));
      } else {
        LABELED.schedule(options, 1);
      }
    } catch (IllegalArgumentException e) {
      throw new org.semiweak.config.ConfigException(options.scope() + ": " + e.getMessage());
    }
  }

  @Override
  protected StageModel produce(SparkSession spark, PrepInfo prep, Phases phases, StagePlan plan) {
    if (recipe == TeacherRecipe.TORCHSCRIPT) {
      return TorchScriptImport.load(options, prep.result().publication(), id());
    }
    ModelSpec spec = LABELED.modelSpec(options, prep.result().publication());
    ModelWeights weights = ModelWeights.initial(spec, options.get(LABELED.seed));
    Dataset<Row> labeled = labeledExamples(spark, prep);
    long labeledCount = labeledCount(labeled, prep);
    int labeledEpochs = options.get(LABELED.epochs);
    double labeledLearningRate = options.get(LABELED.learningRate);
    if (recipe == TeacherRecipe.SEMI_WEAK) {
      Dataset<Row> unlabeled = prep.read(spark, Split.UNLABELED);
      Dataset<Row> weak = weaklyLabeled(unlabeled, options.get(WEAK.seed), options.get(WEAK_TARGETS).equals("all-tags"));
      long weakCount = weak.count();
      // Images whose tags map to no class cannot train the weak phase: counted, not silently dropped.
      phases.count("weak-untagged", prep.manifest().count("written." + Split.UNLABELED.dirName()) - weakCount);
      if (weakCount == 0) {
        throw new IllegalStateException("no unlabeled image has a tag in the vocabulary: the semi-weak recipe needs weak tags");
      }
      weights = phases.train("weak", weak, weakCount, spec, weights, WEAK.schedule(options, weakCount),
          options.get(WEAK.epochs));
      labeledEpochs = options.get(FINETUNE_EPOCHS);
      labeledLearningRate = options.get(FINETUNE_LEARNING_RATE);
    }
    weights = phases.train("labeled", labeled, labeledCount, spec, weights,
        LABELED.schedule(options, labeledCount, labeledEpochs, labeledLearningRate), labeledEpochs);
    return StageModel.of(id().path(), spec, weights);
  }

  /** Unlabeled images with at least one known tag, labeled by one of their tag classes. */
  static Dataset<Row> weaklyLabeled(Dataset<Row> unlabeled, long seed, boolean allTags) {
    Dataset<Row> tagged = unlabeled.where(size(col(ImageSchema.TAG_CLASSES)).gt(0));
    Column oneTag = element_at(col(ImageSchema.TAG_CLASSES),
        pmod(xxhash64(col(ImageSchema.IMAGE_ID), lit(seed)), size(col(ImageSchema.TAG_CLASSES)).cast("long"))
            .plus(1).cast("int"));
    if (!allTags) {
      return tagged.select(col(ImageSchema.IMAGE_ID), col(ImageSchema.IMAGE), oneTag.as(ImageSchema.LABEL));
    }
    Column classes = array_distinct(col(ImageSchema.TAG_CLASSES));
    return tagged.select(col(ImageSchema.IMAGE_ID), col(ImageSchema.IMAGE), element_at(classes, 1).as(ImageSchema.LABEL),
        classes.as(org.semiweak.train.ExampleShard.TARGETS));
  }
}
