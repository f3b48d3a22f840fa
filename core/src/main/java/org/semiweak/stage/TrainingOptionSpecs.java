package org.semiweak.stage;

import java.util.List;
import org.semiweak.config.OptionSpec;

/**
 * The options every training stage shares (architecture, optimizer, schedule, data parallelism),
 * with per-stage defaults. The same keys are used by train-teacher, pretrain, finetune and baseline.
 */
public final class TrainingOptionSpecs {
  public final OptionSpec<String> stem;
  public final OptionSpec<int[]> widths;
  public final OptionSpec<int[]> blocks;
  public final OptionSpec<Integer> epochs;
  public final OptionSpec<Integer> batchSize;
  public final OptionSpec<Double> learningRate;
  public final OptionSpec<Double> momentum;
  public final OptionSpec<Boolean> nesterov;
  public final OptionSpec<Double> weightDecay;
  public final OptionSpec<Integer> warmupEpochs;
  public final OptionSpec<Integer> workers;
  public final OptionSpec<Integer> localSteps;
  public final OptionSpec<Long> seed;
  public final OptionSpec<Integer> cropPadding;
  public final OptionSpec<Boolean> flip;

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
    epochs = OptionSpec.intOption(prefix + "epochs", d.epochs(), 1, 100_000, "passes over the training set");
    batchSize = OptionSpec.intOption(prefix + "batch-size", d.batchSize(), 1, 65_536,
        "images per step and worker (the global batch is batch-size x workers)");
    learningRate = OptionSpec.doubleOption(prefix + "learning-rate", d.learningRate(), 0, 100,
        "peak learning rate of SGD, decayed to 0 with a cosine schedule");
    momentum = OptionSpec.doubleOption(prefix + "momentum", 0.9, 0, 0.9999, "SGD momentum");
    nesterov = OptionSpec.boolOption(prefix + "nesterov", true, "Nesterov momentum");
    weightDecay = OptionSpec.doubleOption(prefix + "weight-decay", d.weightDecay(), 0, 1, "L2 weight decay");
    warmupEpochs = OptionSpec.intOption(prefix + "warmup-epochs", d.warmupEpochs(), 0, 1000,
        "epochs of linear learning-rate warm-up");
    workers = OptionSpec.intOption(prefix + "workers", 2, 1, 100_000,
        "data-parallel workers (Spark tasks per round); each trains on its own shard of the data");
    localSteps = OptionSpec.intOption(prefix + "local-steps", d.localSteps(), 1, 1_000_000,
        "steps each worker trains between two model averagings (one round)");
    seed = OptionSpec.longOption(prefix + "seed", 42L, 0, "seed of initialization, shuffling and augmentation");
    cropPadding = OptionSpec.intOption(prefix + "crop-padding", 2, 0, 64,
        "augmentation: zero padding before a random crop back to the image size (0 disables)");
    flip = OptionSpec.boolOption(prefix + "flip", true, "augmentation: random horizontal flip");
  }

  /** A stage's option list: its own {@code leading} options, then {@link #all()}. */
  public List<OptionSpec<?>> after(OptionSpec<?>... leading) {
    List<OptionSpec<?>> out = new java.util.ArrayList<>(List.of(leading));
    out.addAll(all());
    return List.copyOf(out);
  }

  public List<OptionSpec<?>> all() {
    List<OptionSpec<?>> out = new java.util.ArrayList<>();
    if (stem != null) {
      out.add(stem);
      out.add(widths);
      out.add(blocks);
    }
    out.addAll(List.of(epochs, batchSize, learningRate, momentum, nesterov, weightDecay, warmupEpochs, workers,
        localSteps, seed, cropPadding, flip));
    return out;
  }
}
