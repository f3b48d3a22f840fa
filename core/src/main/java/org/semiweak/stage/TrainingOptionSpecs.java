package org.semiweak.stage;

import java.util.Arrays;
import java.util.List;
import org.semiweak.config.ConfigException;
import org.semiweak.config.OptionSpec;
import org.semiweak.config.Options;
import org.semiweak.model.ModelSpec;
import org.semiweak.run.result.Publication;
import org.semiweak.train.TrainOptions;

/**
 * The options every training stage shares (architecture, optimizer, schedule, data parallelism),
 * with per-stage defaults. The same keys are used by train-teacher, pretrain, finetune and baseline.
 */
public final class TrainingOptionSpecs {
  public final OptionSpec<String> stem;
  public final OptionSpec<int[]> widths;
  public final OptionSpec<int[]> blocks;
  public final OptionSpec<String> normMean;
  public final OptionSpec<String> normStd;
  public final OptionSpec<Integer> epochs;
  public final OptionSpec<Integer> batchSize;
  public final OptionSpec<Double> learningRate;
  public final OptionSpec<Double> momentum;
  public final OptionSpec<Boolean> nesterov;
  public final OptionSpec<Double> weightDecay;
  public final OptionSpec<Integer> warmupEpochs;
  public final OptionSpec<Integer> workers;
  public final OptionSpec<Integer> localSteps;
  public final OptionSpec<Double> syncFraction;
  public final OptionSpec<Long> seed;
  public final OptionSpec<Integer> cropPadding;
  public final OptionSpec<Boolean> flip;
  public final OptionSpec<Integer> cutout;
  public final OptionSpec<Integer> randAugmentOps;
  public final OptionSpec<Integer> randAugmentMagnitude;
  public final OptionSpec<Double> dropout;
  public final OptionSpec<Double> stochasticDepth;

  /** RandAugment's magnitude when only the number of operations is given (torchvision's default). */
  public static final int RAND_AUGMENT_MAGNITUDE_DEFAULT = 9;

  /**
   * Half the steps synchronous by default: post-local SGD switches to local steps after the first
   * learning-rate decay; with a cosine schedule the rate is at half its peak there.
   */
  public static final double SYNC_FRACTION_DEFAULT = 0.5;

  /** Defaults of one training stage. */
  public record Defaults(int[] widths, int[] blocks, int epochs, int batchSize, double learningRate,
      double weightDecay, int warmupEpochs, int localSteps) {}

  /**
   * @param prefix prepended to every key (e.g. {@code weak-} for the weak-tag phase of the
   *     semi-weak teacher); empty for the main phase
   * @param withArchitecture whether the architecture keys belong to this set
   */
  public TrainingOptionSpecs(String prefix, Defaults d, boolean withArchitecture) {
    stem = withArchitecture ? OptionSpec.choiceOption(prefix + "stem", "small", List.of("small", "large"),
        "ResNet stem: small (3x3 conv, for 28-32 px images) or large (7x7/2 conv + max pool, for 224 px)") : null;
    widths = withArchitecture ? OptionSpec.intListOption(prefix + "widths", d.widths(),
        "channels of each ResNet stage; each stage after the first halves the resolution") : null;
    blocks = withArchitecture ? OptionSpec.intListOption(prefix + "blocks", d.blocks(),
        "residual blocks in each stage (one number per stage, or one for all)") : null;
    normMean = withArchitecture ? OptionSpec.stringOption(prefix + "norm-mean", "0.5",
        "per-channel mean subtracted from pixels scaled to [0, 1] (comma-separated, or one for all channels)") : null;
    normStd = withArchitecture ? OptionSpec.stringOption(prefix + "norm-std", "0.5",
        "per-channel standard deviation the centered pixels are divided by (comma-separated, or one for all)") : null;
    epochs = OptionSpec.intOption(prefix + "epochs", d.epochs(), 1, 100_000, "passes over the training set");
    batchSize = OptionSpec.intOption(prefix + "batch-size", d.batchSize(), 1, 65_536,
        "images per step over all workers: each of the workers takes batch-size / workers of them (a whole"
            + " number, at least 2 for BatchNorm), so the number of workers leaves the schedule unchanged");
    learningRate = OptionSpec.doubleOption(prefix + "learning-rate", d.learningRate(), 0, 100,
        "peak learning rate of SGD, decayed to 0 with a cosine schedule");
    momentum = OptionSpec.doubleOption(prefix + "momentum", TrainOptions.MOMENTUM_DEFAULT, 0, 0.9999, "SGD momentum");
    nesterov = OptionSpec.boolOption(prefix + "nesterov", TrainOptions.NESTEROV_DEFAULT, "Nesterov momentum");
    weightDecay = OptionSpec.doubleOption(prefix + "weight-decay", d.weightDecay(), 0, 1, "L2 weight decay");
    warmupEpochs = OptionSpec.intOption(prefix + "warmup-epochs", d.warmupEpochs(), 0, 1000,
        "epochs of linear learning-rate warm-up");
    workers = OptionSpec.intOption(prefix + "workers", TrainOptions.WORKERS_DEFAULT, 1, 100_000,
        "data-parallel workers (Spark tasks per round); each trains on its own shard of the data; the"
            + " models are averaged after every step for the first sync-fraction of the steps, then every"
            + " local-steps (docs/ACCURACY.md measures the cost against 1 worker)");
    localSteps = OptionSpec.intOption(prefix + "local-steps", d.localSteps(), 1, 1_000_000,
        "after the synchronous phase: steps each worker trains between two model averagings (one round)");
    syncFraction = OptionSpec.doubleOption(prefix + "sync-fraction", SYNC_FRACTION_DEFAULT, 0, 1,
        "with more than one worker: the fraction of the steps, from the start, after each of which the models"
            + " are averaged (the updates of one worker with the global batch); local rounds follow (post-local"
            + " SGD). 1 averages after every step throughout; ignored with one worker");
    seed = OptionSpec.longOption(prefix + "seed", TrainOptions.SEED_DEFAULT, 0,
        "seed of initialization, shuffling and augmentation");
    cropPadding = OptionSpec.intOption(prefix + "crop-padding", TrainOptions.CROP_PADDING_DEFAULT, 0, 64,
        "augmentation: zero padding before a random crop back to the image size (0 disables)");
    flip = OptionSpec.boolOption(prefix + "flip", TrainOptions.HORIZONTAL_FLIP_DEFAULT,
        "augmentation: random horizontal flip");
    // No default value: absent, it is not among the options a stage records, so that stages committed
    // before it existed keep their fingerprints.
    cutout = OptionSpec.intOption(prefix + "cutout", null, 0, 4096,
        "augmentation (noise for a student): a random square of this side, in pixels, set to the mean pixel"
            + " (0 after normalization) in every training image, its center anywhere in the image; 0 or absent:"
            + " none. Half the image side or less is usual (DeVries and Taylor: 16 of 32 px)").optional();
    // Like cutout, the noise options have no default value, so that stages committed before they
    // existed keep their fingerprints.
    randAugmentOps = OptionSpec.intOption(prefix + "randaugment-ops", null, 0, 16,
        "augmentation (noise for a student): RandAugment operations per training image, each drawn from"
            + " shear, translate, rotate, brightness, contrast, sharpness, posterize, solarize, autocontrast,"
            + " equalize, identity (and color for RGB), before the crop and flip; 0 or absent: none (Noisy"
            + " Student: 2)").optional();
    randAugmentMagnitude = OptionSpec.intOption(prefix + "randaugment-magnitude", null, 0,
        org.semiweak.model.RandAugment.MAX_MAGNITUDE,
        "strength of every RandAugment operation, 0 to 30 (torchvision's scale: 30 is a 30-degree rotation,"
            + " a 0.3 shear); absent: " + RAND_AUGMENT_MAGNITUDE_DEFAULT).optional();
    dropout = OptionSpec.doubleOption(prefix + "dropout", null, 0, 0.95,
        "noise for a student: dropout probability on the pooled features before the classifier while"
            + " training (inverted dropout; scoring and evaluation never drop); 0 or absent: none (Noisy"
            + " Student: 0.5)").optional();
    stochasticDepth = OptionSpec.doubleOption(prefix + "stochastic-depth", null, 0, 0.95,
        "noise for a student: probability that the last residual block's branch is skipped for a training"
            + " image, decreasing linearly to the first block (Huang et al. 2016); scoring and evaluation"
            + " use every block; 0 or absent: none (Noisy Student: 0.2)").optional();
  }

  /** The architecture these options describe, for images of the given format. */
  public ModelSpec modelSpec(Options o, Publication.Images images) {
    int[] w = o.get(widths);
    int[] b = o.get(blocks);
    if (b.length == 1 && w.length > 1) {
      int n = b[0];
      b = new int[w.length];
      Arrays.fill(b, n);
    }
    if (b.length != w.length) {
      throw new ConfigException(o.scope() + ": 'blocks' has " + b.length + " entries but 'widths' has "
          + w.length + "; give one number of blocks per stage, or a single number for all");
    }
    try {
      return new ModelSpec(o.get(stem), b, w, images.channels(), images.imageSize(), images.numClasses(),
          perChannel(o, normMean, images.channels()), perChannel(o, normStd, images.channels()));
    } catch (IllegalArgumentException e) {
      throw new ConfigException(o.scope() + ": " + e.getMessage());
    }
  }

  /** The values of a comma-separated option of numbers. */
  public static float[] numbers(Options o, OptionSpec<String> spec) {
    String[] parts = o.get(spec).split(",");
    float[] v = new float[parts.length];
    try {
      for (int i = 0; i < parts.length; i++) {
        v[i] = Float.parseFloat(parts[i].strip());
      }
    } catch (NumberFormatException e) {
      throw new ConfigException(o.scope() + "." + spec.key() + ": expected comma-separated numbers, found '"
          + o.get(spec) + "'");
    }
    return v;
  }

  /** Per-channel values of a comma-separated option: one per channel, or one for all. */
  public static float[] perChannel(Options o, OptionSpec<String> spec, int channels) {
    float[] v = numbers(o, spec);
    if (v.length == 1 && channels > 1) {
      float[] out = new float[channels];
      Arrays.fill(out, v[0]);
      return out;
    }
    if (v.length != channels) {
      throw new ConfigException(o.scope() + "." + spec.key() + ": " + v.length + " values for " + channels
          + "-channel images; give one per channel or one for all");
    }
    return v;
  }

  /**
   * Checks that these options make a valid schedule (learning rate, batch size, momentum with
   * Nesterov...), as {@link #schedule} would at run time: at plan time, before any upstream stage runs.
   */
  public void checkSchedule(Options o) {
    try {
      schedule(o, 1);
    } catch (IllegalArgumentException e) {
      throw new ConfigException(o.scope() + ": " + e.getMessage());
    }
  }

  /** The schedule: {@code epochs} passes over {@code examples} images with the global batch. */
  public TrainOptions schedule(Options o, long examples) {
    return schedule(o, examples, o.get(epochs), o.get(learningRate));
  }

  /** The schedule with another number of epochs and peak learning rate (e.g. a fine-tuning phase). */
  public TrainOptions schedule(Options o, long examples, int epochCount, double peakLearningRate) {
    int batch = o.get(batchSize);
    int workerCount = o.get(workers);
    if (batch % workerCount != 0 || batch / workerCount < 2) {
      throw new IllegalArgumentException("invalid training options: " + batchSize.key() + " " + batch
          + " does not split into " + workerCount
          + " workers of at least 2 images each: give a batch size that is a multiple of " + workerCount
          + " (e.g. " + Math.max(2, batch / workerCount) * workerCount + ")");
    }
    long perEpoch = Math.max(1, (examples + batch - 1) / batch);
    long total = perEpoch * epochCount;
    // Warm-up never takes more than half of a (short) schedule.
    long warmup = Math.min(perEpoch * o.get(warmupEpochs), total / 2);
    int ops = o.getOr(randAugmentOps, 0);
    return TrainOptions.builder()
        .setTotalSteps(total)
        .optBatchSize(batch / workerCount)
        .optBaseLearningRate(peakLearningRate)
        .optMomentum(o.get(momentum))
        .optNesterov(o.get(nesterov))
        .optWeightDecay(o.get(weightDecay))
        .optWarmupSteps(warmup)
        .optLocalStepsPerRound(o.get(localSteps))
        .optWorkers(workerCount)
        .optSyncSteps(Math.round(total * o.get(syncFraction)))
        .optSeed(o.get(seed))
        // A phase without the augmentation options (see optimization()) trains on the images as they are.
        .optCropPadding(o.has(cropPadding) ? o.get(cropPadding) : 0)
        .optHorizontalFlip(o.has(flip) && o.get(flip))
        .optCutout(o.getOr(cutout, 0))
        .optRandAugment(ops, ops == 0 ? 0 : o.getOr(randAugmentMagnitude, RAND_AUGMENT_MAGNITUDE_DEFAULT))
        .optDropout(o.getOr(dropout, 0.0))
        .optStochasticDepth(o.getOr(stochasticDepth, 0.0))
        .build();
  }

  /** A stage's option list: its own {@code leading} options, then {@link #all()}. */
  public List<OptionSpec<?>> after(OptionSpec<?>... leading) {
    List<OptionSpec<?>> out = new java.util.ArrayList<>(List.of(leading));
    out.addAll(all());
    return List.copyOf(out);
  }

  /**
   * The optimizer, schedule, data-parallel and seed options, without the architecture, augmentation
   * and noise ones: for a phase that makes its own views of the images (self-supervised training).
   */
  public List<OptionSpec<?>> optimization() {
    return List.of(epochs, batchSize, learningRate, momentum, nesterov, weightDecay, warmupEpochs, workers, localSteps,
        syncFraction, seed);
  }

  public List<OptionSpec<?>> all() {
    List<OptionSpec<?>> out = new java.util.ArrayList<>();
    if (stem != null) {
      out.add(stem);
      out.add(widths);
      out.add(blocks);
      out.add(normMean);
      out.add(normStd);
    }
    out.addAll(List.of(epochs, batchSize, learningRate, momentum, nesterov, weightDecay, warmupEpochs, workers,
        localSteps, syncFraction, seed, cropPadding, flip, cutout, randAugmentOps, randAugmentMagnitude, dropout,
        stochasticDepth));
    return out;
  }
}
