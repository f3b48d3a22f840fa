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
import org.semiweak.model.ProjectionNet;
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
import org.semiweak.train.SelfSupervised;
import org.semiweak.train.TrainOptions;

/**
 * Makes a teacher by one of the {@link TeacherRecipe}s and commits it as {@code teacher/<recipe>}.
 *
 * <ul>
 *   <li>{@code semi-supervised}: trained on the labeled set only.
 *   <li>{@code semi-weak}: pretrained on the unlabeled set's weak tags (each image's tags mapped
 *       through the vocabulary; an image with several tag classes takes one of them, chosen by a
 *       seeded hash of its id), then fine-tuned on the labeled set with the {@code finetune-*}
 *       options.
 *   <li>{@code self-supervised}: the encoder pretrained on the unlabeled images alone, without labels
 *       or tags, by SimCLR, BYOL or SwAV ({@link SelfSupervised}), evaluated linearly (a linear
 *       classifier on its frozen features), then, with the heads replaced by a classifier, trained on
 *       the weak tags if {@code ssl-weak-phase} and fine-tuned on the labeled set with the {@code
 *       finetune-*} options.
 *   <li>{@code torchscript}: the user's TorchScript file ({@link TorchScriptImport}).
 * </ul>
 */
public final class TrainTeacher extends TrainingStage {
  public static final OptionSpec<String> RECIPE = OptionSpec.choiceOption("recipe", TeacherRecipe.SEMI_WEAK.command(),
      TeacherRecipe.names(),
      "semi-supervised (labeled set only), semi-weak (weak tags of the unlabeled set, then the labeled set),"
          + " self-supervised (SimCLR, BYOL or SwAV on the unlabeled images, then the labeled set) or torchscript (import the"
          + " user's own TorchScript teacher from model-file)");

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

  /**
   * The self-supervised phase of a self-supervised teacher. Its defaults are a start, not tuned:
   * SimCLR's, BYOL's and SwAV's own runs take hundreds of epochs with batches of 256 to 4096.
   */
  public static final TrainingOptionSpecs SSL = new TrainingOptionSpecs("ssl-",
      new TrainingOptionSpecs.Defaults(null, null, 20, 256, 0.1, 1e-4, 1, 50), false);

  public static final OptionSpec<String> SSL_METHOD = OptionSpec.choiceOption("ssl-method", SelfSupervised.SIMCLR,
      List.of(SelfSupervised.SIMCLR, SelfSupervised.BYOL, SelfSupervised.SWAV), "self-supervised recipe: the method;"
          + " simclr (two views, projection head, NT-Xent against the other views of the worker's batch), byol (an"
          + " online network predicts a moving-average target's projection of the other view; no negatives) or swav"
          + " (each view predicts the Sinkhorn code of the other over learned prototypes; multi-crop with"
          + " ssl-small-crops). An image costs about 2 supervised steps; BYOL about 3, with MALLOC_MMAP_MAX_=0 in the"
          + " environment, as the launchers and templates set it (without it, 2x more where activations pass 32 MB:"
          + " docs/BENCHMARKS.md, \"Self-supervised steps\")");
  // No default value: each method has its own (SelfSupervised.DEFAULT_SIMCLR_TEMPERATURE, DEFAULT_SWAV_TEMPERATURE).
  public static final OptionSpec<Double> SSL_TEMPERATURE = OptionSpec.doubleOption("ssl-temperature", null, 0.001, 100,
      "self-supervised recipe: simclr's NT-Xent temperature (absent: " + SelfSupervised.DEFAULT_SIMCLR_TEMPERATURE
          + ") or swav's prediction temperature (absent: " + SelfSupervised.DEFAULT_SWAV_TEMPERATURE + ")").optional();
  public static final OptionSpec<Integer> SSL_PROTOTYPES = OptionSpec.intOption("ssl-prototypes", null, 2, 1_000_000,
      "self-supervised recipe, swav: the number of prototypes (SwAV: 3000 on ImageNet); absent: "
          + SelfSupervised.DEFAULT_PROTOTYPES).optional();
  public static final OptionSpec<Double> SSL_SINKHORN_EPSILON = OptionSpec.doubleOption("ssl-sinkhorn-epsilon", null,
      0.001, 10, "self-supervised recipe, swav: entropy weight of the Sinkhorn-Knopp codes; absent: "
          + SelfSupervised.DEFAULT_SINKHORN_EPSILON).optional();
  // The method-specific options have no default value: only those given identify a teacher.
  public static final OptionSpec<Double> SSL_TARGET_MOMENTUM = OptionSpec.doubleOption("ssl-target-momentum", null,
      0.5, 0.99999, "self-supervised recipe, byol: the target network's moving-average rate at the start, rising to 1"
          + " along a cosine (BYOL: 0.996 on ImageNet, 0.99 for short runs); absent: "
          + SelfSupervised.DEFAULT_TARGET_MOMENTUM).optional();
  public static final OptionSpec<Integer> SSL_PROJECTION_HIDDEN = OptionSpec.intOption("ssl-projection-hidden",
      SelfSupervised.DEFAULT_PROJECTION_HIDDEN,
      1, 65_536, "self-supervised recipe: units of the projection head's hidden layer (the head is dropped before"
          + " fine-tuning)");
  public static final OptionSpec<Integer> SSL_PROJECTION_DIM = OptionSpec.intOption("ssl-projection-dim",
      SelfSupervised.DEFAULT_PROJECTION_DIM, 1,
      65_536, "self-supervised recipe: units of the projection, where the loss compares the two views");
  public static final OptionSpec<Double> SSL_MIN_CROP_SCALE = OptionSpec.doubleOption("ssl-min-crop-scale",
      SelfSupervised.DEFAULT_MIN_CROP_SCALE,
      0.01, 1, "self-supervised recipe: smallest area of a view's random crop, as a fraction of the image"
          + " (SimCLR: 0.08 on 224 px images)");

  public static final OptionSpec<Integer> SSL_SMALL_CROPS = OptionSpec.intOption("ssl-small-crops", null, 0, 64,
      "self-supervised recipe, swav: multi-crop, small views per image besides the two large ones, crops of 5% to"
          + " ssl-min-crop-scale of the image that predict the large views' codes (SwAV: 6); absent: 0").optional();
  public static final OptionSpec<Integer> SSL_SMALL_CROP_SIZE = OptionSpec.intOption("ssl-small-crop-size", null, 8,
      4096, "self-supervised recipe, swav: the small views' side in pixels; absent: 96/224 of the image side, at"
          + " least 8 (12 for 28 px images)").optional();

  public static final OptionSpec<Boolean> SSL_WEAK_PHASE = OptionSpec.boolOption("ssl-weak-phase", false,
      "self-supervised recipe: between the self-supervised and the labeled phase, train on the weak tags as the"
          + " semi-weak recipe does (its weak-* options): self-supervised + semi-weak");

  /** The semi-weak recipe's fine-tune when finetune-* are absent: short and gentle, after a phase on the same task. */
  static final int SEMI_WEAK_FINETUNE_EPOCHS = 30;
  static final double SEMI_WEAK_FINETUNE_LEARNING_RATE = 0.01;

  // No default value: each recipe has its own (finetuneEpochs(), finetuneLearningRate()). A self-supervised encoder
  // has learned no class yet, and fine-tuned like the semi-weak teacher it was 3.8 points worse on validation than
  // fine-tuned like a semi-supervised teacher trains (docs/ACCURACY.md, "The fine-tune was the problem").
  public static final OptionSpec<Integer> FINETUNE_EPOCHS = OptionSpec.intOption("finetune-epochs", null, 1, 100_000,
      "semi-weak and self-supervised recipes: epochs on the labeled set after the weak-tag or self-supervised"
          + " phase; absent: " + SEMI_WEAK_FINETUNE_EPOCHS + " for semi-weak, the labeled phase's epochs for"
          + " self-supervised (that phase's checkpoints are kept in the run's _reuse/ folder: rerunning the teacher"
          + " with only finetune-* changed, with --force, does not train it again)").optional();
  public static final OptionSpec<Double> FINETUNE_LEARNING_RATE = OptionSpec.doubleOption("finetune-learning-rate",
      null, 0, 100, "semi-weak and self-supervised recipes: peak learning rate on the labeled set after the"
          + " weak-tag or self-supervised phase; absent: " + SEMI_WEAK_FINETUNE_LEARNING_RATE + " for semi-weak, the"
          + " labeled phase's learning-rate for self-supervised").optional();
  public static final OptionSpec<String> WEAK_TARGETS = OptionSpec.choiceOption("weak-targets", "all-tags",
      List.of("all-tags", "one-tag"), "semi-weak recipe: an image whose tags map to k classes trains against all of"
          + " them with weight 1/k each (all-tags, a soft target, as hashtag pretraining does), or against one of"
          + " them drawn by a hash of its id and weak-seed (one-tag)");

  /** The options of the torchscript recipe (normalization is the architecture's norm-mean/norm-std). */
  static final List<OptionSpec<?>> TORCHSCRIPT_OPTIONS =
      List.of(MODEL_FILE, LABELED.normMean, LABELED.normStd, OUTPUTS, CLASSES_FILE);

  /** The self-supervised phase's own options (the recipe also takes the labeled phase's and finetune-*). */
  static final List<OptionSpec<?>> SELF_SUPERVISED_OPTIONS;

  public static final List<OptionSpec<?>> OPTIONS;

  static {
    List<OptionSpec<?>> ssl = new ArrayList<>(List.of(SSL_METHOD, SSL_TEMPERATURE, SSL_TARGET_MOMENTUM,
        SSL_PROTOTYPES, SSL_SINKHORN_EPSILON, SSL_SMALL_CROPS, SSL_SMALL_CROP_SIZE, SSL_PROJECTION_HIDDEN,
        SSL_PROJECTION_DIM, SSL_MIN_CROP_SCALE, SSL_WEAK_PHASE));
    ssl.addAll(SSL.optimization());
    SELF_SUPERVISED_OPTIONS = List.copyOf(ssl);
    List<OptionSpec<?>> all = new ArrayList<>();
    all.add(RECIPE);
    all.addAll(LABELED.all());
    all.addAll(WEAK.all());
    all.add(FINETUNE_EPOCHS);
    all.add(FINETUNE_LEARNING_RATE);
    all.add(WEAK_TARGETS);
    all.addAll(SELF_SUPERVISED_OPTIONS);
    all.addAll(List.of(MODEL_FILE, OUTPUTS, CLASSES_FILE));
    OPTIONS = List.copyOf(all);
  }

  private final TeacherRecipe recipe;

  public TrainTeacher(RunDir run, Options options) {
    super(run, options);
    this.recipe = TeacherRecipe.parse(options.get(RECIPE));
  }

  /**
   * The options that make a teacher of {@code recipe}: others do not change it, nor its fingerprint.
   * A self-supervised teacher takes the weak phase's options only when it has one ({@code weakPhase}).
   */
  static List<OptionSpec<?>> optionsOf(TeacherRecipe recipe, boolean weakPhase) {
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
      case SELF_SUPERVISED -> {
        out.addAll(LABELED.all());
        out.addAll(SELF_SUPERVISED_OPTIONS);
        out.add(FINETUNE_EPOCHS);
        out.add(FINETUNE_LEARNING_RATE);
        if (weakPhase) {
          out.addAll(WEAK.all());
          out.add(WEAK_TARGETS);
        }
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
    Set<String> keys = optionsOf(recipe, hasWeakPhase()).stream().map(OptionSpec::key).collect(Collectors.toSet());
    Map<String, Object> effective = new TreeMap<>(options.effective());
    effective.keySet().retainAll(keys);
    if (labeledPhaseFineTunes()) {
      // Resolved, not as given: a semi-weak teacher with or without finetune-* 30/0.01 is the same teacher.
      effective.put(FINETUNE_EPOCHS.key(), finetuneEpochs());
      effective.put(FINETUNE_LEARNING_RATE.key(), finetuneLearningRate());
    }
    StagePlan.Builder plan = StagePlan.builder(id(), effective).input(prep);
    if (recipe == TeacherRecipe.TORCHSCRIPT) {
      return TorchScriptImport.plan(options, images, plan);
    }
    ModelSpec spec = LABELED.modelSpec(options, images);
    checkSchedules(spec);
    return plan.publishes(new Publication.Model(spec.inputSize(), spec.inputChannels(), spec.numClasses())).build();
  }

  /** The schedule of every phase of this recipe is valid (as built at run time, for one example). */
  private void checkSchedules(ModelSpec spec) {
    try {
      if (recipe == TeacherRecipe.SELF_SUPERVISED) {
        selfSupervisedSchedule(1, spec.inputSize());
      }
      if (hasWeakPhase()) {
        WEAK.schedule(options, 1);
      }
      LABELED.schedule(options, 1, labeledEpochs(), labeledLearningRate());
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
    if (recipe == TeacherRecipe.SELF_SUPERVISED) {
      // Every unlabeled image, tagged or not: the label column is unused (no self-supervised method reads it).
      Dataset<Row> unlabeled = prep.read(spark, Split.UNLABELED)
          .select(col(ImageSchema.IMAGE_ID), col(ImageSchema.IMAGE), lit(0).as(ImageSchema.LABEL));
      long unlabeledCount = unlabeled.count();
      SelfSupervised objective = selfSupervised(spec.inputSize());
      TrainOptions schedule = selfSupervisedSchedule(unlabeledCount, spec.inputSize());
      // Kept for reuse: a rerun with other finetune-* options (or a weak phase added) does not pretrain again.
      ModelWeights pretrained = phases.trainReusable("self-supervised", prepIdentity(prep), unlabeled, unlabeledCount,
          spec,
          ProjectionNet.initial(spec, objective.projectionHidden(), objective.projectionDim(), objective.hasTarget(),
              objective.prototypeCount(), options.get(SSL.seed)),
          schedule, options.get(SSL.epochs));
      if (objective.method().equals(SelfSupervised.SIMCLR)) {
        warnIfAtChance(phases.last(), schedule);
      }
      // The projection head is dropped; the classifier starts as the labeled phase's initial one would.
      weights = ProjectionNet.classifierWeights(pretrained, spec, options.get(LABELED.seed));
      phases.evaluateLinearly(prep, labeled, spec, weights);
    }
    // Semi-weak's first phase; a self-supervised teacher's second, when it has one.
    if (hasWeakPhase()) {
      weights = weakPhase(spark, prep, phases, spec, weights);
    }
    weights = phases.train("labeled", labeled, labeledCount, spec, weights,
        LABELED.schedule(options, labeledCount, labeledEpochs(), labeledLearningRate()), labeledEpochs());
    return StageModel.of(id().path(), spec, weights);
  }

  /** Epochs on the labeled set after the first phase: finetune-epochs, or the recipe's own when absent. */
  int finetuneEpochs() {
    return options.getOr(FINETUNE_EPOCHS,
        recipe == TeacherRecipe.SELF_SUPERVISED ? options.get(LABELED.epochs) : SEMI_WEAK_FINETUNE_EPOCHS);
  }

  /** Peak learning rate on the labeled set after the first phase: finetune-learning-rate, or the recipe's own. */
  double finetuneLearningRate() {
    return options.getOr(FINETUNE_LEARNING_RATE,
        recipe == TeacherRecipe.SELF_SUPERVISED ? options.get(LABELED.learningRate) : SEMI_WEAK_FINETUNE_LEARNING_RATE);
  }

  /** Whether a phase on the weak tags comes before the labeled one: always semi-weak, optional after pretraining. */
  private boolean hasWeakPhase() {
    return recipe == TeacherRecipe.SEMI_WEAK
        || recipe == TeacherRecipe.SELF_SUPERVISED && options.get(SSL_WEAK_PHASE);
  }

  /** The labeled phase fine-tunes (finetune-*) where another phase came first, else trains (epochs, learning-rate). */
  private boolean labeledPhaseFineTunes() {
    return recipe == TeacherRecipe.SEMI_WEAK || recipe == TeacherRecipe.SELF_SUPERVISED;
  }

  private int labeledEpochs() {
    return labeledPhaseFineTunes() ? finetuneEpochs() : options.get(LABELED.epochs);
  }

  private double labeledLearningRate() {
    return labeledPhaseFineTunes() ? finetuneLearningRate() : options.get(LABELED.learningRate);
  }

  /** The weak-tag phase from {@code weights}: the unlabeled images with a tag in the vocabulary, against their tags. */
  private ModelWeights weakPhase(SparkSession spark, PrepInfo prep, Phases phases, ModelSpec spec, ModelWeights weights) {
    Dataset<Row> unlabeled = prep.read(spark, Split.UNLABELED);
    Dataset<Row> weak = weaklyLabeled(unlabeled, options.get(WEAK.seed), options.get(WEAK_TARGETS).equals("all-tags"));
    long weakCount = weak.count();
    // Images whose tags map to no class cannot train the weak phase: counted, not silently dropped.
    phases.count("weak-untagged", prep.manifest().count("written." + Split.UNLABELED.dirName()) - weakCount);
    if (weakCount == 0) {
      throw new IllegalStateException("no unlabeled image has a tag in the vocabulary: the " + recipe
          + " recipe's weak phase needs weak tags");
    }
    // Kept for reuse like the self-supervised phase; which tags train it is part of its input.
    return phases.trainReusable("weak", prepIdentity(prep) + " weak-targets " + options.get(WEAK_TARGETS), weak,
        weakCount, spec, weights, WEAK.schedule(options, weakCount), options.get(WEAK.epochs));
  }

  /** The committed prep a phase reads, for {@link Phases#trainReusable}. */
  private static String prepIdentity(PrepInfo prep) {
    return "prep " + prep.manifest().fingerprint() + " " + prep.manifest().commit();
  }

  /**
   * NT-Xent at chance, {@code log(2b - 1)} for {@code b} images per worker, means the views were not
   * told apart: the projections collapsed (a learning rate too high for the batch, often) or the
   * phase was too short. The teacher is still committed, with a warning in the log.
   */
  private void warnIfAtChance(org.semiweak.run.result.TrainingPhase phase, TrainOptions schedule) {
    double chance = Math.log(2.0 * schedule.batchSize() - 1);
    if (phase.finalLoss() > 0.98 * chance) {
      org.slf4j.LoggerFactory.getLogger(TrainTeacher.class).warn("{}: the self-supervised loss ended at {}, chance level"
          + " ({} = log of the {} other views): the encoder learned little; lower ssl-learning-rate or train more"
          + " ssl-epochs", id(), String.format(java.util.Locale.ROOT, "%.3f", phase.finalLoss()),
          String.format(java.util.Locale.ROOT, "%.3f", chance), 2 * schedule.batchSize() - 1);
    }
  }

  /** The self-supervised objective for images of {@code imageSize} pixels (small views default to 96/224 of it). */
  private SelfSupervised selfSupervised(int imageSize) {
    SelfSupervised objective = objectiveWithoutSmallCrops();
    int smallCrops = options.getOr(SSL_SMALL_CROPS, 0);
    if (smallCrops == 0) {
      return objective;
    }
    int side = options.getOr(SSL_SMALL_CROP_SIZE, 0);
    if (side == 0) {
      side = SelfSupervised.defaultSmallCropSize(imageSize);
    }
    return objective.withSmallCrops(smallCrops, side);
  }

  private SelfSupervised objectiveWithoutSmallCrops() {
    int hidden = options.get(SSL_PROJECTION_HIDDEN);
    int dim = options.get(SSL_PROJECTION_DIM);
    double minCropScale = options.get(SSL_MIN_CROP_SCALE);
    return switch (options.get(SSL_METHOD)) {
      case SelfSupervised.BYOL -> SelfSupervised.byol(options.getOr(SSL_TARGET_MOMENTUM, SelfSupervised.DEFAULT_TARGET_MOMENTUM), hidden, dim, minCropScale);
      case SelfSupervised.SWAV -> SelfSupervised.swav(options.getOr(SSL_PROTOTYPES, SelfSupervised.DEFAULT_PROTOTYPES),
          options.getOr(SSL_SINKHORN_EPSILON, SelfSupervised.DEFAULT_SINKHORN_EPSILON),
          options.getOr(SSL_TEMPERATURE, SelfSupervised.DEFAULT_SWAV_TEMPERATURE), hidden, dim, minCropScale);
      default -> SelfSupervised.simclr(options.getOr(SSL_TEMPERATURE, SelfSupervised.DEFAULT_SIMCLR_TEMPERATURE), hidden, dim, minCropScale);
    };
  }

  /** The self-supervised phase's schedule for {@code examples} images: its views replace crop and flip. */
  private TrainOptions selfSupervisedSchedule(long examples, int imageSize) {
    return SSL.schedule(options, examples).toBuilder().optSelfSupervised(selfSupervised(imageSize)).build();
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
