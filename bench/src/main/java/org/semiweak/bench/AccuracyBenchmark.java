package org.semiweak.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.time.Duration;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.semiweak.model.Engines;
import org.semiweak.model.ModelSpec;
import org.semiweak.model.ModelWeights;
import org.semiweak.testing.FashionMnist;
import org.semiweak.train.Evaluator;
import org.semiweak.train.ExampleShard;
import org.semiweak.train.InProcessTrainer;
import org.semiweak.train.TrainOptions;
import org.semiweak.stage.TrainingOptionSpecs;
import org.semiweak.config.Options;
import org.semiweak.train.TrainingResult;
import org.semiweak.util.SeededRandom;

/**
 * Training fidelity: semiweak's supervised baseline trained with ONE worker ({@link
 * InProcessTrainer}, the rounds of {@link org.semiweak.train.LocalTrainer#trainSteps}) against the
 * same network and recipe in plain PyTorch ({@code train_reference.py --epochs}), on the same
 * labeled images (data-prep's idx draw: {@code --labeled-per-class} per class, seed {@code
 * --select-seed}), for several seeds; top-1 on the 10,000 Fashion-MNIST test images (or, with
 * {@code --eval val}, on {@code --val-images} other training images, for choosing a recipe without
 * looking at the test set). Prints per-seed accuracies and mean +- sample std of each method.
 *
 * <pre>
 * bench/bench.sh AccuracyBenchmark --seeds 1,2,3 --epochs 60 --learning-rate 0.05
 * </pre>
 */
public final class AccuracyBenchmark {

  /** What to run; every field has a command-line flag of the same name in kebab case. */
  public record Config(long[] seeds, int epochs, double learningRate, int warmupEpochs, int batchSize, double weightDecay,
      int cropPadding, boolean flip, int localSteps, int[] widths, int blocks, int labeledPerClass, long selectSeed,
      String eval, int valImages, float mean, float std, int threads, List<String> methods, String fashionMnist,
      String python, String scriptArgs, int checkSteps, String init, int workers, double syncFraction) {

    public static Config defaults() {
      return new Config(new long[] {1, 2, 3}, 60, 0.05, 2, TrainOptions.BATCH_SIZE_DEFAULT,
          TrainOptions.WEIGHT_DECAY_DEFAULT, 2, true, 10, new int[] {16, 32, 64}, 1, 100, 42, "test", 5000,
          FashionMnist.MEAN, FashionMnist.STD, 1, List.of("semiweak", "pytorch"), FashionMnist.dir().toString(),
          "/usr/bin/python3", "", 0, "pytorch", 1, TrainingOptionSpecs.SYNC_FRACTION_DEFAULT);
    }

    static Config parse(String[] args) {
      Config d = defaults();
      BenchFlags f = BenchFlags.parse(args, USAGE, List.of("--seeds", "--epochs", "--learning-rate", "--warmup-epochs",
          "--batch-size", "--weight-decay", "--crop-padding", "--local-steps", "--widths", "--blocks",
          "--labeled-per-class", "--select-seed", "--eval", "--val-images", "--mean", "--std", "--threads", "--methods",
          "--fashion-mnist", "--python", "--script-args", "--check-steps", "--init", "--workers", "--sync-fraction"),
          List.of("--no-flip"));
      String eval = f.string("--eval", d.eval);
      String init = f.string("--init", d.init);
      if (!init.equals("pytorch") && !init.equals("he-normal")) {
        throw new IllegalArgumentException("--init must be pytorch or he-normal, got '" + init + "'\n" + USAGE);
      }
      if (!eval.equals("test") && !eval.equals("val")) {
        throw new IllegalArgumentException("--eval must be test or val, got '" + eval + "'\n" + USAGE);
      }
      return new Config(f.longs("--seeds", d.seeds), f.integer("--epochs", d.epochs),
          f.decimal("--learning-rate", d.learningRate), f.integer("--warmup-epochs", d.warmupEpochs),
          f.integer("--batch-size", d.batchSize), f.decimal("--weight-decay", d.weightDecay),
          f.integer("--crop-padding", d.cropPadding), !f.has("--no-flip"), f.integer("--local-steps", d.localSteps),
          f.ints("--widths", d.widths), f.integer("--blocks", d.blocks),
          f.integer("--labeled-per-class", d.labeledPerClass), f.longValue("--select-seed", d.selectSeed), eval,
          f.integer("--val-images", d.valImages), (float) f.decimal("--mean", d.mean), (float) f.decimal("--std", d.std),
          f.integer("--threads", d.threads), f.strings("--methods", d.methods),
          f.string("--fashion-mnist", d.fashionMnist), f.string("--python", d.python),
          f.string("--script-args", d.scriptArgs), f.integer("--check-steps", d.checkSteps), init,
          f.integer("--workers", d.workers), f.decimal("--sync-fraction", d.syncFraction));
    }
  }

  static final String USAGE = """
      usage: AccuracyBenchmark [--seeds 1,2,3] [--epochs 60] [--learning-rate 0.05] [--warmup-epochs 2]
                               [--batch-size 64] [--weight-decay 0.0005] [--crop-padding 2] [--no-flip]
                               [--local-steps 10] [--widths 16,32,64] [--blocks 1]
                               [--labeled-per-class 100] [--select-seed 42] [--eval test|val] [--val-images 5000]
                               [--mean 0.286] [--std 0.353] [--threads 1] [--methods semiweak,pytorch]
                               [--fashion-mnist DIR] [--python /usr/bin/python3] [--script-args "--init semiweak"]
                               [--init pytorch|he-normal] [--workers 1] [--sync-fraction 0.5] [--check-steps N]
        Trains the supervised baseline once per seed with semiweak (InProcessTrainer, 1 worker) and with
        train_reference.py (plain PyTorch) on the same labeled images and per-step schedule (linear warm-up
        over --warmup-epochs, then cosine to 0), and prints top-1 per seed and mean +- std per method.
        --select-seed   data-prep's seed of the labeled draw (the demo's prep seed is 42)
        --eval          test: the 10,000 test images; val: --val-images training images outside the
                        labeled set (to choose a recipe without looking at the test set)
        --init          initialization of both methods: pytorch (PyTorch's nn.Conv2d/nn.Linear defaults,
                        ModelWeights.Init.PYTORCH) or he-normal (ModelWeights.Init.HE_NORMAL)
        --workers       semiweak only: model-averaging workers (InProcessTrainer, shards by image id), as the
                        pipeline's stages run: --batch-size is the global batch, each worker takes its share;
                        averaged after every step for the first --sync-fraction of the steps, then every
                        --local-steps steps; the reference always runs one process
        --script-args   extra flags for train_reference.py, e.g. "--init semiweak" or "--decay all"
        --threads       libtorch threads of both methods
        --check-steps   instead: the step check. Both methods start from the same weights (semiweak's initial
                        weights of the first seed), train N steps, each on the first --batch-size labeled images
                        as one batch (no augmentation, cosine schedule without warm-up, 1 step per round), and
                        the per-tensor differences of the resulting weights are printed""";

  /** One trained model's accuracy. */
  public record Run(String method, long seed, double top1, long evalImages, double seconds, double finalLoss) {}

  /** Everything a run produced. */
  public record Report(Config config, int trainImages, List<Run> runs, double loadAtStart, double loadAtEnd) {
    List<Run> of(String method) {
      return runs.stream().filter(r -> r.method().equals(method)).toList();
    }
  }

  private AccuracyBenchmark() {}

  public static void main(String[] args) {
    Config config = BenchFlags.parseOrExit(() -> Config.parse(args));
    System.out.println(config.checkSteps() > 0 ? markdown(stepCheck(config)) : markdown(run(config)));
  }

  /** One tensor's largest absolute difference after the step check, and its largest absolute value. */
  public record TensorDiff(String name, double maxAbsDifference, double maxAbs) {}

  /** The step check's outcome: per-step losses of both methods and per-tensor differences. */
  public record CheckReport(Config config, double[] semiweakLosses, String pytorchLosses, List<TensorDiff> diffs,
      long semiweakTestCorrect, double pytorchTestTop1) {
    double worstRelative() {
      return diffs.stream().mapToDouble(d -> d.maxAbsDifference() / Math.max(1e-3, d.maxAbs())).max().orElse(0);
    }
  }

  /**
   * Loads libtorch with the configured thread count (fixed when the engine loads, so before anything
   * else touches DJL) and reads the Fashion-MNIST train and test sets: {train, test}.
   */
  private static FashionMnist[] startEngineAndLoad(Config config) {
    System.setProperty(Engines.NUM_THREADS, String.valueOf(config.threads()));
    System.setProperty(Engines.NUM_INTEROP_THREADS, "1");
    Engines.configure();
    Path dir = Path.of(config.fashionMnist());
    return new FashionMnist[] {FashionMnist.load(dir, "train", Integer.MAX_VALUE),
        FashionMnist.load(dir, "t10k", Integer.MAX_VALUE)};
  }

  /**
   * The step check: identical initial weights and data, {@code checkSteps} full-batch SGD steps in
   * each implementation, then the weights (BatchNorm running statistics included) are compared.
   * Differences beyond float rounding point at a difference in the forward pass, loss, BatchNorm
   * statistics or optimizer.
   */
  public static CheckReport stepCheck(Config config) {
    FashionMnist[] data = startEngineAndLoad(config);
    FashionMnist train = data[0];
    FashionMnist test = data[1];
    int[] batch = Arrays.copyOf(labeledSubset(train, test, config.labeledPerClass(), config.selectSeed(),
        "fashion-mnist")[0], config.batchSize());
    ModelSpec spec = spec(config);
    ModelWeights initial = initial(config, spec, config.seeds()[0]);
    TrainOptions o = TrainOptions.builder().setTotalSteps(config.checkSteps()).optBatchSize(config.batchSize())
        .optBaseLearningRate(config.learningRate()).optWeightDecay(config.weightDecay()).optLocalStepsPerRound(1)
        .optSeed(config.seeds()[0]).optCropPadding(0).optHorizontalFlip(false).build();
    TrainingResult r = new InProcessTrainer().optLabel("step check")
        .train(List.of(shard(spec, train, batch, "train")), spec, initial, o);
    double[] losses = r.learningCurve().stream().mapToDouble(p -> p.meanLoss()).toArray();
    try {
      Path in = Files.createTempFile("semiweak-check-in-", ".bin");
      Path out = Files.createTempFile("semiweak-check-out-", ".bin");
      in.toFile().deleteOnExit();
      out.toFile().deleteOnExit();
      Files.write(in, rawFloats(initial));
      List<String> cmd = new ArrayList<>(List.of(config.python(), TrainBenchmark.extractScript().toString(),
          "--idx", config.fashionMnist(), "--check-weights", in.toString(), "--check-out", out.toString(),
          "--check-steps", String.valueOf(config.checkSteps()), "--train-indices", writeIndices(batch).toString(),
          "--lr", String.valueOf(config.learningRate()), "--weight-decay", String.valueOf(config.weightDecay()),
          "--widths", String.join(",", Arrays.stream(config.widths()).mapToObj(String::valueOf).toList()),
          "--blocks", String.valueOf(config.blocks()), "--threads", String.valueOf(config.threads()),
          "--mean", String.valueOf(config.mean()), "--std", String.valueOf(config.std())));
      if (!config.scriptArgs().isBlank()) {
        cmd.addAll(Arrays.asList(config.scriptArgs().strip().split("\\s+")));
      }
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      String output = new String(p.getInputStream().readAllBytes());
      if (!p.waitFor(10, TimeUnit.MINUTES) || p.exitValue() != 0) {
        throw new IllegalStateException("the reference script failed (" + String.join(" ", cmd) + "): " + output);
      }
      String json = output.lines().filter(l -> l.startsWith("{")).reduce((a, z) -> z).orElse(output);
      java.nio.FloatBuffer theirs = java.nio.ByteBuffer.wrap(Files.readAllBytes(out))
          .order(java.nio.ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
      ModelWeights ours = r.weights();
      List<TensorDiff> diffs = new ArrayList<>();
      for (String name : ours.names()) {
        float[] v = ours.values(name);
        double maxDiff = 0;
        double maxAbs = 0;
        for (float x : v) {
          float t = theirs.get();
          maxDiff = Math.max(maxDiff, Math.abs((double) x - t));
          maxAbs = Math.max(maxAbs, Math.abs(x));
        }
        diffs.add(new TensorDiff(name, maxDiff, maxAbs));
      }
      if (theirs.hasRemaining()) {
        throw new IllegalStateException("the script wrote " + theirs.remaining() + " more values than semiweak has");
      }
      // Evaluation in eval mode (BatchNorm running statistics) on the test set, both sides.
      Evaluator.Evaluation e = Evaluator.evaluate(shard(spec, test, null, "test"), spec, ours);
      double theirTop1 = Double.parseDouble(json.replaceAll(".*\"test_top1\": ([-0-9.eE+]+).*", "$1"));
      return new CheckReport(config, losses, json.replaceAll(".*\"losses\": \\[([^]]*)].*", "$1"), diffs,
          e.top1Correct(), theirTop1);
    } catch (IOException e) {
      throw new UncheckedIOException("step check: " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  private static byte[] rawFloats(ModelWeights w) {
    java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(Math.toIntExact(4 * w.valueCount()))
        .order(java.nio.ByteOrder.LITTLE_ENDIAN);
    for (String name : w.names()) {
      for (float v : w.values(name)) {
        b.putFloat(v);
      }
    }
    return b.array();
  }

  /** The step check as Markdown: losses per step, then every tensor's difference. */
  public static String markdown(CheckReport report) {
    StringBuilder sb = new StringBuilder();
    sb.append(String.format(Locale.ROOT, "step check: %d full-batch steps of %d images, model %s, learning rate %s, "
        + "script args '%s'%n%nsemiweak losses: %s%npytorch losses:  %s%n%ntest images right after the steps "
        + "(eval mode): semiweak %d, pytorch %.0f of 10,000%n%nworst relative difference: %.3g%n%n",
        report.config().checkSteps(), report.config().batchSize(), spec(report.config()), report.config().learningRate(),
        report.config().scriptArgs(), Arrays.toString(report.semiweakLosses()), report.pytorchLosses(),
        report.semiweakTestCorrect(), 10_000 * report.pytorchTestTop1(), report.worstRelative()));
    sb.append("| tensor | max abs difference | max abs value |\n|---|---:|---:|\n");
    for (TensorDiff d : report.diffs()) {
      sb.append(String.format(Locale.ROOT, "| %s | %.3g | %.3g |%n", d.name(), d.maxAbsDifference(), d.maxAbs()));
    }
    return sb.toString();
  }

  /**
   * The training images of data-prep's idx source for Fashion-MNIST: a train image that has the
   * pixels of a test image or of a train image with a smaller index is a duplicate and dropped;
   * of the rest, the {@code perClass} of each class with the smallest {@code
   * SeededRandom.hash(seed ^ IdxSource.SALT_LABELED, id)} (ties by id) are labeled. Returns the
   * labeled train indices, ascending, and (second) the other kept train indices, ascending.
   */
  static int[][] labeledSubset(FashionMnist train, FashionMnist test, int perClass, long seed, String idPrefix) {
    Set<java.nio.ByteBuffer> seen = new HashSet<>();
    for (int i = 0; i < test.size(); i++) {
      seen.add(java.nio.ByteBuffer.wrap(test.pixels(i)));
    }
    record Key(int index, int label, long key, String id) {}
    List<Key> keys = new ArrayList<>();
    for (int i = 0; i < train.size(); i++) {
      if (!seen.add(java.nio.ByteBuffer.wrap(train.pixels(i)))) {
        continue;
      }
      String id = String.format(Locale.ROOT, "%s-train-%05d", idPrefix, i);
      keys.add(new Key(i, train.label(i), SeededRandom.hash(seed ^ SALT_LABELED, id), id));
    }
    keys.sort(Comparator.comparingInt(Key::label).thenComparingLong(Key::key).thenComparing(Key::id));
    int[] taken = new int[256];
    List<Integer> labeled = new ArrayList<>();
    List<Integer> rest = new ArrayList<>();
    for (Key k : keys) {
      if (taken[k.label()]++ < perClass) {
        labeled.add(k.index());
      } else {
        rest.add(k.index());
      }
    }
    return new int[][] {labeled.stream().mapToInt(Integer::intValue).sorted().toArray(),
        rest.stream().mapToInt(Integer::intValue).sorted().toArray()};
  }

  /** {@code org.semiweak.prep.source.IdxSource.SALT_LABELED} (data-prep is not a dependency of bench's main code). */
  static final long SALT_LABELED = 0x4c4142454c454421L;

  /** A validation set: {@code n} of the unlabeled train indices, by a seeded hash of the index, ascending. */
  static int[] validationSubset(int[] unlabeled, int n, long seed) {
    return Arrays.stream(unlabeled).boxed()
        .sorted(Comparator.comparingLong((Integer i) -> SeededRandom.hash(seed, 0x7661L, i)))
        .limit(n).mapToInt(Integer::intValue).sorted().toArray();
  }

  static ModelSpec spec(Config c) {
    return ModelSpec.smallResNet(1, 28, 10, c.blocks(), c.widths())
        .withNormalization(new float[] {c.mean()}, new float[] {c.std()});
  }

  static ModelWeights initial(Config c, ModelSpec spec, long seed) {
    return ModelWeights.initial(spec, seed, c.init().equals("he-normal") ? ModelWeights.Init.HE_NORMAL
        : ModelWeights.Init.PYTORCH);
  }

  /** The baseline stage's schedule, made by the stages' own code (TrainingOptionSpecs.schedule) from these flags. */
  static TrainOptions options(Config c, long examples, long seed) {
    TrainingOptionSpecs specs = new TrainingOptionSpecs("", new TrainingOptionSpecs.Defaults(c.widths(),
        new int[] {c.blocks()}, c.epochs(), c.batchSize(), c.learningRate(), c.weightDecay(), c.warmupEpochs(),
        c.localSteps()), false);
    Map<String, Object> raw = Map.of("workers", c.workers(), "sync-fraction", c.syncFraction(), "seed", seed,
        "crop-padding", c.cropPadding(), "flip", c.flip());
    return specs.schedule(Options.parse("accuracy-benchmark", specs.all(), raw), examples);
  }

  /**
   * Trains every seed with each method. libtorch's thread count is fixed when the engine loads, so
   * this must run before anything else in the JVM touches DJL.
   */
  public static Report run(Config config) {
    double load0 = Probes.loadAverage();
    FashionMnist[] data = startEngineAndLoad(config);
    FashionMnist train = data[0];
    FashionMnist test = data[1];
    int[][] subsets = labeledSubset(train, test, config.labeledPerClass(), config.selectSeed(), "fashion-mnist");
    int[] labeled = subsets[0];
    int[] val = validationSubset(subsets[1], config.valImages(), config.selectSeed());
    boolean onVal = config.eval().equals("val");
    Probes.log("%d labeled training images (%d per class, select seed %d); evaluating on %s", labeled.length,
        config.labeledPerClass(), config.selectSeed(), onVal ? val.length + " validation images (train split)"
            : test.size() + " test images");
    ModelSpec spec = spec(config);
    List<ExampleShard> shards = shards(spec, train, labeled, config.workers());
    ExampleShard evalSet = onVal ? shard(spec, train, val, "train") : shard(spec, test, null, "test");
    Path trainFile = writeIndices(labeled);
    Path valFile = onVal ? writeIndices(val) : null;
    Path script = TrainBenchmark.extractScript();
    List<Run> runs = new ArrayList<>();
    for (long seed : config.seeds()) {
      if (config.methods().contains("semiweak")) {
        TrainOptions o = options(config, labeled.length, seed);
        Probes.Timed<TrainingResult> t = Probes.time(() -> new InProcessTrainer().optLabel("accuracy seed " + seed)
            .train(shards, spec, initial(config, spec, seed), o));
        Evaluator.Evaluation e = Evaluator.evaluate(evalSet, spec, t.value().weights());
        Run r = new Run("semiweak", seed, e.top1(), e.count(), t.timing().seconds(), t.value().finalLoss());
        log(r);
        runs.add(r);
      }
      if (config.methods().contains("pytorch")) {
        Run r = pytorch(config, script, seed, trainFile, valFile);
        log(r);
        runs.add(r);
      }
    }
    return new Report(config, labeled.length, List.copyOf(runs), load0, Probes.loadAverage());
  }

  /** Worker shards as DistributedTrainer makes them ({@link ExampleShard#workerOf} the image id). */
  private static List<ExampleShard> shards(ModelSpec spec, FashionMnist data, int[] indices, int workers) {
    List<ExampleShard.Builder> builders = new ArrayList<>();
    for (int w = 0; w < workers; w++) {
      builders.add(ExampleShard.builder(spec));
    }
    for (int i : indices) {
      String id = String.format(Locale.ROOT, "fashion-mnist-train-%05d", i);
      builders.get(ExampleShard.workerOf(id, workers)).addPixels(id, data.pixels(i), data.label(i));
    }
    return builders.stream().map(ExampleShard.Builder::build).toList();
  }

  private static ExampleShard shard(ModelSpec spec, FashionMnist data, int[] indices, String split) {
    ExampleShard.Builder b = ExampleShard.builder(spec);
    int n = indices == null ? data.size() : indices.length;
    for (int k = 0; k < n; k++) {
      int i = indices == null ? k : indices[k];
      b.addPixels(String.format(Locale.ROOT, "fashion-mnist-%s-%05d", split, i), data.pixels(i), data.label(i));
    }
    return b.build();
  }

  private static Path writeIndices(int[] indices) {
    try {
      Path file = Files.createTempFile("semiweak-accuracy-indices-", ".txt");
      file.toFile().deleteOnExit();
      StringBuilder sb = new StringBuilder();
      for (int i : indices) {
        sb.append(i).append('\n');
      }
      Files.writeString(file, sb);
      return file;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write an index file: " + e.getMessage(), e);
    }
  }

  private static void log(Run r) {
    Probes.log("%-9s seed %d: top-1 %.4f on %d images, %.0f s, final loss %.4f", r.method(), r.seed(), r.top1(),
        r.evalImages(), r.seconds(), r.finalLoss());
  }


  static Run pytorch(Config c, Path script, long seed, Path trainFile, Path valFile) {
    List<String> cmd = new ArrayList<>(List.of(c.python(), script.toString(), "--idx", c.fashionMnist(),
        "--epochs", String.valueOf(c.epochs()), "--lr", String.valueOf(c.learningRate()),
        "--warmup-epochs", String.valueOf(c.warmupEpochs()), "--batch-size", String.valueOf(c.batchSize()),
        "--weight-decay", String.valueOf(c.weightDecay()), "--crop-padding", String.valueOf(c.cropPadding()),
        "--widths", String.join(",", Arrays.stream(c.widths()).mapToObj(String::valueOf).toList()),
        "--blocks", String.valueOf(c.blocks()), "--seed", String.valueOf(seed), "--threads", String.valueOf(c.threads()),
        "--mean", String.valueOf(c.mean()), "--std", String.valueOf(c.std()), "--train-indices", trainFile.toString(),
        "--init", c.init()));
    if (!c.flip()) {
      cmd.add("--no-flip");
    }
    if (valFile != null) {
      cmd.addAll(List.of("--val-indices", valFile.toString()));
    }
    if (!c.scriptArgs().isBlank()) {
      cmd.addAll(Arrays.asList(c.scriptArgs().strip().split("\\s+")));
    }
    ReferenceScript.Result r = ReferenceScript.run(cmd, Duration.ofHours(2));
    return new Run("pytorch", seed, r.number("top1"), (long) r.number("eval_images"), r.seconds(),
        r.number("final_epoch_loss"));
  }

  /** Mean and sample standard deviation (0 for one value). */
  static double[] meanStd(List<Double> xs) {
    double mean = xs.stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
    double ss = xs.stream().mapToDouble(x -> (x - mean) * (x - mean)).sum();
    return new double[] {mean, xs.size() > 1 ? Math.sqrt(ss / (xs.size() - 1)) : 0};
  }

  /** Per-seed top-1 (in %) and mean +- std per method, as Markdown. */
  public static String markdown(Report report) {
    Config c = report.config();
    StringBuilder sb = new StringBuilder();
    sb.append(String.format(Locale.ROOT,
        "model %s, %d labeled images (%d per class, select seed %d), %d epochs, batch %d, learning rate %s, warm-up %d "
            + "epochs then cosine per step, SGD Nesterov 0.9, weight decay %s, crop padding %d%s, init %s, "
            + "normalization %s/%s, %d worker(s) for semiweak, libtorch threads %d, evaluated on %s; script args '%s'; "
            + "cores=%d, load average %.1f at start, %.1f at end%n%n",
        spec(c), report.trainImages(), c.labeledPerClass(), c.selectSeed(), c.epochs(), c.batchSize(), c.learningRate(),
        c.warmupEpochs(), c.weightDecay(), c.cropPadding(), c.flip() ? " + flip" : "", c.init(), c.mean(), c.std(),
        c.workers(), c.threads(),
        c.eval().equals("val") ? c.valImages() + " validation images" : "the 10,000 test images", c.scriptArgs(),
        Runtime.getRuntime().availableProcessors(), report.loadAtStart(), report.loadAtEnd()));
    sb.append("| method | seed | top-1 % | images | seconds | final loss |\n|---|---:|---:|---:|---:|---:|\n");
    for (Run r : report.runs()) {
      sb.append(String.format(Locale.ROOT, "| %s | %d | %.2f | %,d | %.0f | %.4f |%n", r.method(), r.seed(),
          100 * r.top1(), r.evalImages(), r.seconds(), r.finalLoss()));
    }
    sb.append("\n| method | seeds | top-1 % mean ± std |\n|---|---:|---:|\n");
    for (String method : List.of("semiweak", "pytorch")) {
      List<Run> rs = report.of(method);
      if (!rs.isEmpty()) {
        double[] ms = meanStd(rs.stream().map(r -> 100 * r.top1()).toList());
        sb.append(String.format(Locale.ROOT, "| %s | %d | %.2f ± %.2f |%n", method, rs.size(), ms[0], ms[1]));
      }
    }
    return sb.toString();
  }
}
