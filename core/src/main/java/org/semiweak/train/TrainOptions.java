package org.semiweak.train;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import java.io.Serializable;
import java.util.Objects;
import org.semiweak.util.Fingerprint;
import org.semiweak.util.Json;

/**
 * Immutable options of one training run (JSON-serializable); see {@link #builder()} for defaults.
 *
 * <p>Model averaging: {@link #workers()} shards train {@link #localStepsPerRound()} SGD steps each
 * from the same weights, then weights and momentum buffers are averaged; that is one round. One
 * step processes {@link #batchSize()} images on each worker, so a step sees {@code workers x
 * batchSize} images in total (see {@link #stepsForEpochs}).
 *
 * <p>Post-local SGD (Lin et al., "Don't use large mini-batches, use local SGD", 2020): with more
 * than one worker, the first {@link #syncSteps()} steps are rounds of one step each. Averaging the
 * weights after one step from the same weights and momentum is averaging the workers' gradients,
 * so that phase takes the very updates of one worker with the global batch (BatchNorm statistics
 * aside, which each worker computes on its own batch); local rounds of {@code localStepsPerRound}
 * steps follow, when the model is past the phase where client drift costs accuracy.
 *
 * <p>Learning rate: linear warm-up over {@link #warmupSteps()} from {@code base/warmup} to {@code
 * base}, then a cosine decay towards 0 at {@link #totalSteps()}; a pure function of the global step.
 *
 * <pre>{@code
 * TrainOptions o = TrainOptions.builder()
 *     .setTotalSteps(TrainOptions.stepsForEpochs(30, 60_000, 64, 4))
 *     .optWorkers(4).optBatchSize(64).optBaseLearningRate(0.1).optWarmupSteps(100)
 *     .optCropPadding(2).optHorizontalFlip(true).optSeed(7)
 *     .build();
 * }</pre>
 */
@JsonPropertyOrder(alphabetic = true)
public final class TrainOptions implements Serializable {
  private static final long serialVersionUID = 1L;

  public static final int BATCH_SIZE_DEFAULT = 64;
  public static final double BASE_LEARNING_RATE_DEFAULT = 0.1;
  public static final double MOMENTUM_DEFAULT = 0.9;
  public static final boolean NESTEROV_DEFAULT = true;
  public static final double WEIGHT_DECAY_DEFAULT = 5e-4;
  public static final long WARMUP_STEPS_DEFAULT = 0;
  public static final int LOCAL_STEPS_PER_ROUND_DEFAULT = 50;
  public static final int WORKERS_DEFAULT = 1;
  public static final long SEED_DEFAULT = 42;
  public static final int CROP_PADDING_DEFAULT = 2;
  public static final boolean HORIZONTAL_FLIP_DEFAULT = true;

  private final int batchSize;
  private final double baseLearningRate;
  private final double momentum;
  private final boolean nesterov;
  private final double weightDecay;
  private final long totalSteps;
  private final long warmupSteps;
  private final int localStepsPerRound;
  private final int workers;
  private final long seed;
  private final int cropPadding;
  private final boolean horizontalFlip;
  private final long syncSteps;
  private final int cutout;
  private final int randAugmentOps;
  private final int randAugmentMagnitude;
  private final double dropout;
  private final double stochasticDepth;
  private final int labeledPerBatch;
  private final SelfSupervised selfSupervised;

  /** All fields; prefer {@link #builder()}. Validated. */
  @JsonCreator
  public TrainOptions(
      @JsonProperty(value = "batchSize", required = true) int batchSize,
      @JsonProperty(value = "baseLearningRate", required = true) double baseLearningRate,
      @JsonProperty(value = "momentum", required = true) double momentum,
      @JsonProperty(value = "nesterov", required = true) boolean nesterov,
      @JsonProperty(value = "weightDecay", required = true) double weightDecay,
      @JsonProperty(value = "totalSteps", required = true) long totalSteps,
      @JsonProperty(value = "warmupSteps", required = true) long warmupSteps,
      @JsonProperty(value = "localStepsPerRound", required = true) int localStepsPerRound,
      @JsonProperty(value = "workers", required = true) int workers,
      @JsonProperty(value = "seed", required = true) long seed,
      @JsonProperty(value = "cropPadding", required = true) int cropPadding,
      @JsonProperty(value = "horizontalFlip", required = true) boolean horizontalFlip,
      @JsonProperty(value = "syncSteps") long syncSteps,
      @JsonProperty(value = "cutout") int cutout,
      @JsonProperty(value = "randAugmentOps") int randAugmentOps,
      @JsonProperty(value = "randAugmentMagnitude") int randAugmentMagnitude,
      @JsonProperty(value = "dropout") double dropout,
      @JsonProperty(value = "stochasticDepth") double stochasticDepth,
      @JsonProperty(value = "labeledPerBatch") int labeledPerBatch,
      @JsonProperty(value = "selfSupervised") SelfSupervised selfSupervised) {
    this.batchSize = batchSize;
    this.baseLearningRate = baseLearningRate;
    this.momentum = momentum;
    this.nesterov = nesterov;
    this.weightDecay = weightDecay;
    this.totalSteps = totalSteps;
    this.warmupSteps = warmupSteps;
    this.localStepsPerRound = localStepsPerRound;
    this.workers = workers;
    this.seed = seed;
    this.cropPadding = cropPadding;
    this.horizontalFlip = horizontalFlip;
    this.syncSteps = syncSteps;
    this.cutout = cutout;
    this.randAugmentOps = randAugmentOps;
    this.randAugmentMagnitude = randAugmentMagnitude;
    this.dropout = dropout;
    this.stochasticDepth = stochasticDepth;
    this.labeledPerBatch = labeledPerBatch;
    this.selfSupervised = selfSupervised;
    validate();
  }

  private void validate() {
    require(batchSize >= 2, "batchSize must be >= 2 (BatchNorm needs 2 images per batch), found " + batchSize);
    require(baseLearningRate > 0 && Double.isFinite(baseLearningRate), "baseLearningRate must be > 0, found " + baseLearningRate);
    require(momentum >= 0 && momentum < 1, "momentum must be in [0, 1), found " + momentum);
    require(!nesterov || momentum > 0, "nesterov needs momentum > 0");
    require(weightDecay >= 0 && Double.isFinite(weightDecay), "weightDecay must be >= 0, found " + weightDecay);
    require(totalSteps >= 1, "totalSteps must be >= 1, found " + totalSteps + " (convert epochs with stepsForEpochs)");
    require(warmupSteps >= 0 && warmupSteps < totalSteps,
        "warmupSteps must be in [0, totalSteps=" + totalSteps + "), found " + warmupSteps);
    require(localStepsPerRound >= 1, "localStepsPerRound must be >= 1, found " + localStepsPerRound);
    require(workers >= 1, "workers must be >= 1, found " + workers);
    require(cropPadding >= 0, "cropPadding must be >= 0, found " + cropPadding);
    require(syncSteps >= 0, "syncSteps must be >= 0, found " + syncSteps);
    require(cutout >= 0, "cutout must be >= 0, found " + cutout);
    require(randAugmentOps >= 0, "randAugmentOps must be >= 0, found " + randAugmentOps);
    require(randAugmentMagnitude >= 0 && randAugmentMagnitude <= org.semiweak.model.RandAugment.MAX_MAGNITUDE,
        "randAugmentMagnitude must be in [0, " + org.semiweak.model.RandAugment.MAX_MAGNITUDE + "], found "
            + randAugmentMagnitude);
    require(dropout >= 0 && dropout < 1, "dropout must be in [0, 1), found " + dropout);
    require(stochasticDepth >= 0 && stochasticDepth < 1, "stochasticDepth must be in [0, 1), found " + stochasticDepth);
    require(labeledPerBatch >= 0 && labeledPerBatch < batchSize, "labeledPerBatch must be in [0, batchSize="
        + batchSize + "), found " + labeledPerBatch);
    if (selfSupervised != null) {
      // Its views replace the classifier's augmentation, and it has no labels to mix in.
      require(cutout == 0 && randAugmentOps == 0 && labeledPerBatch == 0, "self-supervised training makes its own"
          + " views: cutout, randAugmentOps and labeledPerBatch must be 0, found " + cutout + ", " + randAugmentOps
          + " and " + labeledPerBatch);
    }
  }

  private static void require(boolean ok, String message) {
    if (!ok) {
      throw new IllegalArgumentException("invalid training options: " + message);
    }
  }

  public static Builder builder() {
    return new Builder();
  }

  /** A builder starting from these options. */
  public Builder toBuilder() {
    Builder b = new Builder();
    b.batchSize = batchSize;
    b.baseLearningRate = baseLearningRate;
    b.momentum = momentum;
    b.nesterov = nesterov;
    b.weightDecay = weightDecay;
    b.totalSteps = totalSteps;
    b.warmupSteps = warmupSteps;
    b.localStepsPerRound = localStepsPerRound;
    b.workers = workers;
    b.seed = seed;
    b.cropPadding = cropPadding;
    b.horizontalFlip = horizontalFlip;
    b.syncSteps = syncSteps;
    b.cutout = cutout;
    b.randAugmentOps = randAugmentOps;
    b.randAugmentMagnitude = randAugmentMagnitude;
    b.dropout = dropout;
    b.stochasticDepth = stochasticDepth;
    b.labeledPerBatch = labeledPerBatch;
    b.selfSupervised = selfSupervised;
    return b;
  }

  /** Builder: {@code setTotalSteps} is required, every {@code optX} has the {@code X_DEFAULT}. */
  public static final class Builder {
    private int batchSize = BATCH_SIZE_DEFAULT;
    private double baseLearningRate = BASE_LEARNING_RATE_DEFAULT;
    private double momentum = MOMENTUM_DEFAULT;
    private boolean nesterov = NESTEROV_DEFAULT;
    private double weightDecay = WEIGHT_DECAY_DEFAULT;
    private long totalSteps = -1;
    private long warmupSteps = WARMUP_STEPS_DEFAULT;
    private int localStepsPerRound = LOCAL_STEPS_PER_ROUND_DEFAULT;
    private int workers = WORKERS_DEFAULT;
    private long seed = SEED_DEFAULT;
    private int cropPadding = CROP_PADDING_DEFAULT;
    private boolean horizontalFlip = HORIZONTAL_FLIP_DEFAULT;
    private long syncSteps = 0;
    private int cutout = 0;
    private int randAugmentOps = 0;
    private int randAugmentMagnitude = 0;
    private double dropout = 0;
    private double stochasticDepth = 0;
    private int labeledPerBatch = 0;
    private SelfSupervised selfSupervised = null;

    private Builder() {}

    public Builder setTotalSteps(long v) { totalSteps = v; return this; }
    public Builder optBatchSize(int v) { batchSize = v; return this; }
    public Builder optBaseLearningRate(double v) { baseLearningRate = v; return this; }
    public Builder optMomentum(double v) { momentum = v; return this; }
    public Builder optNesterov(boolean v) { nesterov = v; return this; }
    public Builder optWeightDecay(double v) { weightDecay = v; return this; }
    public Builder optWarmupSteps(long v) { warmupSteps = v; return this; }
    public Builder optLocalStepsPerRound(int v) { localStepsPerRound = v; return this; }
    public Builder optWorkers(int v) { workers = v; return this; }
    public Builder optSeed(long v) { seed = v; return this; }
    public Builder optCropPadding(int v) { cropPadding = v; return this; }
    public Builder optHorizontalFlip(boolean v) { horizontalFlip = v; return this; }
    /** Steps, from the start, averaged after every step when there is more than one worker (default 0). */
    public Builder optSyncSteps(long v) { syncSteps = v; return this; }
    /** Side of the square cut out of every training image, in pixels (default 0: none). */
    public Builder optCutout(int v) { cutout = v; return this; }
    /** RandAugment: operations per image (default 0: none) and their magnitude, 0 to 30. */
    public Builder optRandAugment(int ops, int magnitude) { randAugmentOps = ops; randAugmentMagnitude = magnitude; return this; }
    /** Dropout probability on the pooled features before the classifier (default 0: none). */
    public Builder optDropout(double v) { dropout = v; return this; }
    /** Stochastic depth: drop probability of the last residual block's branch (default 0: none). */
    public Builder optStochasticDepth(double v) { stochasticDepth = v; return this; }
    /**
     * Joint training: slots of each worker's batch filled from the shard's labeled pool, the others
     * from the rest (default 0: one pool, see {@link ExampleShard#LABELED_POOL}).
     */
    public Builder optLabeledPerBatch(int v) { labeledPerBatch = v; return this; }
    /** Self-supervised training with this objective instead of classification (default null: classify). */
    public Builder optSelfSupervised(SelfSupervised v) { selfSupervised = v; return this; }

    public TrainOptions build() {
      return new TrainOptions(batchSize, baseLearningRate, momentum, nesterov, weightDecay, totalSteps,
          warmupSteps, localStepsPerRound, workers, seed, cropPadding, horizontalFlip, syncSteps, cutout,
          randAugmentOps, randAugmentMagnitude, dropout, stochasticDepth, labeledPerBatch, selfSupervised);
    }
  }

  /**
   * Global steps for {@code epochs} passes over {@code examples} images when each step processes
   * {@code batchSize} images on each of {@code workers} workers (rounded up, at least 1).
   */
  public static long stepsForEpochs(double epochs, long examples, int batchSize, int workers) {
    if (epochs <= 0 || examples <= 0 || batchSize <= 0 || workers <= 0) {
      throw new IllegalArgumentException("epochs, examples, batchSize and workers must be > 0, found "
          + epochs + ", " + examples + ", " + batchSize + ", " + workers);
    }
    return Math.max(1, (long) Math.ceil(epochs * examples / ((double) batchSize * workers)));
  }

  /** The learning rate of global step {@code step} (0-based): warm-up, then cosine to 0. */
  public double learningRate(long step) {
    if (step < warmupSteps) {
      return baseLearningRate * (step + 1) / warmupSteps;
    }
    double progress = (double) (step - warmupSteps) / (totalSteps - warmupSteps);
    return baseLearningRate * 0.5 * (1 + Math.cos(Math.PI * Math.min(1.0, progress)));
  }

  /**
   * The steps averaged after every step: {@link #syncSteps()} capped at the total, and 0 with one
   * worker (averaging one model changes nothing, and a round per step would only cost time).
   */
  public long effectiveSyncSteps() {
    return workers > 1 ? Math.min(syncSteps, totalSteps) : 0;
  }

  /** Number of rounds: the one-step rounds of the synchronous phase, then {@code ceil(rest / localStepsPerRound)}. */
  public int rounds() {
    long sync = effectiveSyncSteps();
    return Math.toIntExact(sync + (totalSteps - sync + localStepsPerRound - 1) / localStepsPerRound);
  }

  /** First global step of round {@code round} (1-based). */
  public long firstStepOfRound(int round) {
    long sync = effectiveSyncSteps();
    return round - 1 < sync ? round - 1 : sync + (round - 1 - sync) * localStepsPerRound;
  }

  /** Steps in round {@code round} (1-based). */
  public int stepsInRound(int round) {
    return round <= effectiveSyncSteps() ? 1 : (int) Math.min(localStepsPerRound, totalSteps - firstStepOfRound(round));
  }

  /** SHA-256 of the canonical JSON: runs with equal fingerprints compute the same thing. */
  public String fingerprint() {
    return Fingerprint.of(toJson());
  }

  public String toJson() {
    return Json.write(this);
  }

  public static TrainOptions fromJson(String json) {
    return Json.read(json, TrainOptions.class);
  }

  @JsonProperty("batchSize") public int batchSize() { return batchSize; }
  @JsonProperty("baseLearningRate") public double baseLearningRate() { return baseLearningRate; }
  @JsonProperty("momentum") public double momentum() { return momentum; }
  @JsonProperty("nesterov") public boolean nesterov() { return nesterov; }
  @JsonProperty("weightDecay") public double weightDecay() { return weightDecay; }
  @JsonProperty("totalSteps") public long totalSteps() { return totalSteps; }
  @JsonProperty("warmupSteps") public long warmupSteps() { return warmupSteps; }
  @JsonProperty("localStepsPerRound") public int localStepsPerRound() { return localStepsPerRound; }
  @JsonProperty("workers") public int workers() { return workers; }
  @JsonProperty("seed") public long seed() { return seed; }
  @JsonProperty("cropPadding") public int cropPadding() { return cropPadding; }
  @JsonProperty("horizontalFlip") public boolean horizontalFlip() { return horizontalFlip; }
  @JsonProperty("syncSteps") public long syncSteps() { return syncSteps; }
  /** Absent from the JSON when 0, so that options written before it existed read and compare the same. */
  @JsonProperty("cutout")
  @com.fasterxml.jackson.annotation.JsonInclude(com.fasterxml.jackson.annotation.JsonInclude.Include.NON_DEFAULT)
  public int cutout() { return cutout; }

  /** RandAugment operations per training image; like cutout, absent from the JSON when 0. */
  @JsonProperty("randAugmentOps")
  @com.fasterxml.jackson.annotation.JsonInclude(com.fasterxml.jackson.annotation.JsonInclude.Include.NON_DEFAULT)
  public int randAugmentOps() { return randAugmentOps; }

  /** RandAugment's magnitude, 0 to {@link org.semiweak.model.RandAugment#MAX_MAGNITUDE}. */
  @JsonProperty("randAugmentMagnitude")
  @com.fasterxml.jackson.annotation.JsonInclude(com.fasterxml.jackson.annotation.JsonInclude.Include.NON_DEFAULT)
  public int randAugmentMagnitude() { return randAugmentMagnitude; }

  /** Dropout probability before the classifier (see {@link org.semiweak.model.TrainingNoise}). */
  @JsonProperty("dropout")
  @com.fasterxml.jackson.annotation.JsonInclude(com.fasterxml.jackson.annotation.JsonInclude.Include.NON_DEFAULT)
  public double dropout() { return dropout; }

  /** Drop probability of the last residual block's branch (stochastic depth). */
  @JsonProperty("stochasticDepth")
  @com.fasterxml.jackson.annotation.JsonInclude(com.fasterxml.jackson.annotation.JsonInclude.Include.NON_DEFAULT)
  public double stochasticDepth() { return stochasticDepth; }

  /** Images of each worker's batch from the labeled pool (joint training); 0: none. */
  @JsonProperty("labeledPerBatch")
  @com.fasterxml.jackson.annotation.JsonInclude(com.fasterxml.jackson.annotation.JsonInclude.Include.NON_DEFAULT)
  public int labeledPerBatch() { return labeledPerBatch; }

  /** The self-supervised objective, or null for classification (then absent from the JSON). */
  @JsonProperty("selfSupervised")
  @com.fasterxml.jackson.annotation.JsonInclude(com.fasterxml.jackson.annotation.JsonInclude.Include.NON_NULL)
  public SelfSupervised selfSupervised() { return selfSupervised; }

  @Override
  public boolean equals(Object o) {
    return o instanceof TrainOptions && toJson().equals(((TrainOptions) o).toJson());
  }

  @Override
  public int hashCode() {
    return Objects.hash(toJson());
  }

  @Override
  public String toString() {
    return "TrainOptions" + toJson().replaceAll("\\s+", " ");
  }
}
