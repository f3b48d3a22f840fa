package org.semiweak.bench;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.semiweak.data.ImageSchema;
import org.semiweak.model.Engines;
import org.semiweak.model.ModelSpec;
import org.semiweak.model.ModelWeights;
import org.semiweak.model.ProjectionNet;
import org.semiweak.run.SparkSessions;
import org.semiweak.testing.FashionMnist;
import org.semiweak.testing.cluster.StandaloneCluster;
import org.semiweak.train.DistributedTrainer;
import org.semiweak.train.ExampleShard;
import org.semiweak.train.InProcessTrainer;
import org.semiweak.train.SelfSupervised;
import org.semiweak.train.TrainOptions;
import org.semiweak.train.TrainingResult;

/**
 * Student training throughput: semiweak's training loop ({@link InProcessTrainer}, one worker, the
 * real rounds of {@link org.semiweak.train.LocalTrainer#trainSteps}) against the same network,
 * optimizer and augmentation in a plain PyTorch script ({@code train_reference.py}, Debian's
 * python3-torch), both with the same libtorch thread count; or, with {@code --distributed},
 * {@link DistributedTrainer} with 1 and 2 workers on Spark local mode.
 *
 * <p>The two in-process methods run alternately, {@code --repeat} times each, and the fastest run
 * of each is kept. Both report images per wall second and per CPU second of their process (the
 * latter varies less when other processes compete for the cores).
 *
 * <pre>
 * java -Xmx4g -cp ... org.semiweak.bench.TrainBenchmark --steps 100
 * java -Xmx4g [spark.jvm.opens] -cp ... org.semiweak.bench.TrainBenchmark --distributed --steps 100
 * </pre>
 */
public final class TrainBenchmark {

  /** What to run; every field has a command-line flag of the same name in kebab case. */
  public record Config(int images, int steps, int warmupSteps, int batchSize, int threads, int repeat,
      String fashionMnist, String python, boolean distributed, String master, List<String> methods, int[] widths,
      int blocks, int localSteps) {

    public static Config defaults() {
      return new Config(10_000, 100, 10, TrainOptions.BATCH_SIZE_DEFAULT, 2, 2, FashionMnist.dir().toString(),
          "/usr/bin/python3", false, "local[2]", List.of("semiweak", "pytorch"), new int[] {16, 32, 64}, 1,
          TrainOptions.LOCAL_STEPS_PER_ROUND_DEFAULT);
    }

    static Config parse(String[] args) {
      Config d = defaults();
      BenchFlags f = BenchFlags.parse(args, USAGE, List.of("--images", "--steps", "--warmup-steps", "--batch-size",
          "--threads", "--repeat", "--fashion-mnist", "--python", "--master", "--methods", "--widths", "--blocks",
          "--local-steps"),
          List.of("--distributed"));
      return new Config(f.integer("--images", d.images), f.integer("--steps", d.steps),
          f.integer("--warmup-steps", d.warmupSteps), f.integer("--batch-size", d.batchSize),
          f.integer("--threads", d.threads), f.integer("--repeat", d.repeat), f.string("--fashion-mnist", d.fashionMnist),
          f.string("--python", d.python), d.distributed || f.has("--distributed"), f.string("--master", d.master),
          f.strings("--methods", d.methods), f.ints("--widths", d.widths), f.integer("--blocks", d.blocks),
          f.integer("--local-steps", d.localSteps));
    }
  }

  /** {@code --master standalone}: a standalone cluster of two 1-core workers started for the run. */
  static final String STANDALONE = "standalone";

  static final String USAGE = """
      usage: TrainBenchmark [--images 10000] [--steps 100] [--warmup-steps 10] [--batch-size 64] [--threads 2]
                            [--repeat 2] [--fashion-mnist DIR] [--python /usr/bin/python3]
                            [--methods semiweak,pytorch,simclr,byol,swav,swav-multicrop] [--widths 16,32,64] [--blocks 1]
                            [--distributed [--master local[2]] [--local-steps 50]]
        --threads      libtorch threads of both methods (semiweak: ai.djl.pytorch.num_threads;
                       the script: torch.set_num_threads)
        --methods      semiweak: supervised (InProcessTrainer); pytorch: the reference script; simclr, byol, swav,
                       swav-multicrop: self-supervised steps of semiweak (train-teacher's ssl-* defaults) on the same
                       images, network and batch size
        --distributed  instead: InProcessTrainer, then DistributedTrainer with 1 and 2 workers on Spark (libtorch
                       1 thread per task), each round --local-steps steps; the notes split each run into
                       building the shards and the rounds, and give each round's cost over the in-process one
        --master       local[N], a spark:// URL, or standalone: a Spark standalone cluster on 127.0.0.1 with
                       two workers of one core (one executor JVM each), started and stopped by the run
        --steps        timed SGD steps per worker and run, after --warmup-steps untimed ones""";

  /**
   * One timed training run.
   *
   * @param workers training workers (1 for the in-process methods)
   * @param images images trained on (steps x batch x workers)
   */
  public record Measurement(String method, int workers, int threads, long images, double seconds, double cpuSeconds,
      double loadAverage, String detail) {
    public double imagesPerSecond() {
      return images / seconds;
    }

    public double imagesPerCpuSecond() {
      return images / cpuSeconds;
    }

    /** The faster of two runs, with the smaller CPU time of the two (see {@link Probes.Timing#best}). */
    static Measurement best(Measurement a, Measurement b) {
      if (a == null) {
        return b;
      }
      Measurement fast = a.seconds() <= b.seconds() ? a : b;
      return new Measurement(fast.method(), fast.workers(), fast.threads(), fast.images(), fast.seconds(),
          Math.min(a.cpuSeconds(), b.cpuSeconds()), fast.loadAverage(), fast.detail());
    }
  }

  /** Everything a run produced. */
  public record Report(Config config, double loadAtStart, double loadAtEnd, List<Measurement> measurements) {}

  private TrainBenchmark() {}

  public static void main(String[] args) {
    Config config = BenchFlags.parseOrExit(() -> Config.parse(args));
    if (config.distributed() && config.master().equals(STANDALONE)) {
      // A real standalone cluster on 127.0.0.1: two workers of one core, an executor JVM each, so
      // two training workers run in two processes and their rounds cross the network.
      Path dir;
      try {
        dir = Files.createTempDirectory("semiweak-train-benchmark-cluster");
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      try (StandaloneCluster cluster = StandaloneCluster.builder(dir).workers(2).workerCores(1).workerMemory("3g")
          .start()) {
        SparkSession spark = cluster.sessionBuilder("semiweak-train-benchmark")
            .config("spark.executor.memory", "2g")
            .config("spark.serializer", "org.apache.spark.serializer.KryoSerializer")
            .getOrCreate();
        try {
          System.out.println(markdown(runDistributed(spark, config)));
        } finally {
          spark.stop();
        }
      }
    } else if (config.distributed()) {
      SparkSession spark = SparkSessions.getOrCreate("semiweak-train-benchmark", config.master());
      try {
        System.out.println(markdown(runDistributed(spark, config)));
      } finally {
        spark.stop();
      }
    } else {
      System.out.println(markdown(run(config)));
    }
  }

  static ModelSpec spec(Config c) {
    return ModelSpec.smallResNet(1, 28, 10, c.blocks(), c.widths()).withNormalization(new float[] {0.286f},
        new float[] {0.353f});
  }

  /** The pipeline's student augmentation (crop padding 2, flip), SGD Nesterov defaults, one worker. */
  static TrainOptions options(Config c, long steps, int workers) {
    return TrainOptions.builder().setTotalSteps(steps).optBatchSize(c.batchSize()).optWorkers(workers)
        .optLocalStepsPerRound(c.localSteps()).optCropPadding(2).optHorizontalFlip(true).optSeed(1).build();
  }

  /**
   * semiweak in this JVM against the PyTorch script, alternately. libtorch's thread count is fixed
   * when the engine loads, so this must run before anything else in the JVM touches DJL.
   */
  public static Report run(Config config) {
    double load0 = Probes.loadAverage();
    System.setProperty(Engines.NUM_THREADS, String.valueOf(config.threads()));
    System.setProperty(Engines.NUM_INTEROP_THREADS, "1");
    Engines.configure();
    ModelSpec spec = spec(config);
    FashionMnist data = FashionMnist.load(Path.of(config.fashionMnist()), "train", config.images());
    List<ExampleShard> shards = oneShard(spec, data);
    ModelWeights initial = ModelWeights.initial(spec, 1);
    Path script = extractScript();
    if (config.warmupSteps() > 0 && config.methods().contains("semiweak")) {
      Probes.log("warming up semiweak: %d steps", config.warmupSteps());
      new InProcessTrainer().optLabel("bench-warmup").train(shards, spec, initial,
          options(config, config.warmupSteps(), 1));
    }
    Measurement bestSemiweak = null;
    Measurement bestTorch = null;
    Map<String, Measurement> bestSelfSupervised = new LinkedHashMap<>();
    for (int r = 0; r < Math.max(1, config.repeat()); r++) {
      if (config.methods().contains("semiweak")) {
        TrainOptions o = options(config, config.steps(), 1);
        Probes.Timed<TrainingResult> t = Probes.time(() ->
            new InProcessTrainer().optLabel("bench").train(shards, spec, initial, o));
        Measurement m = new Measurement("semiweak", 1, config.threads(), (long) config.steps() * config.batchSize(),
            t.timing().seconds(), t.timing().cpuSeconds(), t.timing().loadAverage(), String.format(Locale.ROOT,
                "InProcessTrainer, %d rounds of %d steps, final loss %.3f", o.rounds(), o.localStepsPerRound(),
                t.value().finalLoss()));
        log(m);
        bestSemiweak = Measurement.best(bestSemiweak, m);
      }
      for (String method : config.methods()) {
        SelfSupervised objective = selfSupervised(method);
        if (objective == null) {
          continue;
        }
        TrainOptions o = options(config, config.steps(), 1).toBuilder().optSelfSupervised(objective).build();
        ModelWeights start = ProjectionNet.initial(spec, objective.projectionHidden(), objective.projectionDim(),
            objective.hasTarget(), objective.prototypeCount(), 1);
        Probes.Timed<TrainingResult> t = Probes.time(() ->
            new InProcessTrainer().optLabel("bench-" + method).train(shards, spec, start, o));
        Measurement m = new Measurement(method, 1, config.threads(), (long) config.steps() * config.batchSize(),
            t.timing().seconds(), t.timing().cpuSeconds(), t.timing().loadAverage(), String.format(Locale.ROOT,
                "InProcessTrainer, %d views per image of the same images, final loss %.3f",
                2 + objective.smallCrops(), t.value().finalLoss()));
        log(m);
        bestSelfSupervised.merge(method, m, Measurement::best);
      }
      if (config.methods().contains("pytorch")) {
        Measurement m = pytorch(config, script);
        log(m);
        bestTorch = Measurement.best(bestTorch, m);
      }
    }
    List<Measurement> out = new ArrayList<>();
    if (bestSemiweak != null) {
      out.add(bestSemiweak);
    }
    out.addAll(bestSelfSupervised.values());
    if (bestTorch != null) {
      out.add(bestTorch);
    }
    return new Report(config, load0, Probes.loadAverage(), List.copyOf(out));
  }

  /**
   * The self-supervised objective a {@code --methods} name stands for, with train-teacher's defaults
   * (its ssl-* options), or null for the other methods.
   */
  static SelfSupervised selfSupervised(String method) {
    return switch (method) {
      case "simclr", "byol", "swav" -> SelfSupervised.defaults(method);
      // SwAV's multi-crop with 2 small views of train-teacher's default side for 28 px images.
      case "swav-multicrop" -> SelfSupervised.defaults(SelfSupervised.SWAV)
          .withSmallCrops(2, SelfSupervised.defaultSmallCropSize(28));
      default -> null;
    };
  }

  private static void log(Measurement m) {
    Probes.log("%-9s workers=%d %7.1f s  %6.1f images/s  %6.1f images/CPU s  load %.1f  %s", m.method(), m.workers(),
        m.seconds(), m.imagesPerSecond(), m.imagesPerCpuSecond(), m.loadAverage(), m.detail());
  }

  /** The reference script, copied from the classpath to a temporary file. */
  static Path extractScript() {
    try (InputStream in = TrainBenchmark.class.getResourceAsStream("/train_reference.py")) {
      if (in == null) {
        throw new IllegalStateException("train_reference.py is not on the classpath (bench/src/main/python)");
      }
      Path file = Files.createTempFile("semiweak-train-reference-", ".py");
      Files.write(file, in.readAllBytes());
      file.toFile().deleteOnExit();
      return file;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot extract train_reference.py: " + e.getMessage(), e);
    }
  }


  /** Runs the PyTorch script once; its own timing excludes Python start-up and its warm-up steps. */
  static Measurement pytorch(Config config, Path script) {
    List<String> cmd = List.of(config.python(), script.toString(), "--idx", config.fashionMnist(),
        "--images", String.valueOf(config.images()), "--steps", String.valueOf(config.steps()),
        "--warmup", String.valueOf(config.warmupSteps()), "--batch-size", String.valueOf(config.batchSize()),
        "--threads", String.valueOf(config.threads()), "--widths",
        String.join(",", java.util.Arrays.stream(config.widths()).mapToObj(String::valueOf).toList()),
        "--blocks", String.valueOf(config.blocks()), "--crop-padding", "2");
    ReferenceScript.Result r = ReferenceScript.run(cmd, Duration.ofHours(1));
    return new Measurement("pytorch", 1, (int) r.number("threads"), (long) r.number("images"),
        r.number("seconds"), r.number("cpu_seconds"), Probes.loadAverage(), String.format(Locale.ROOT,
            "train_reference.py, torch %s, mean loss %.3f", r.string("torch"), r.number("mean_loss")));
  }

  /**
   * {@link DistributedTrainer} with 1 and then 2 workers on {@code spark} (each worker a task with
   * libtorch on one thread), the same steps per worker: 2 workers train on twice the images.
   */
  public static Report runDistributed(SparkSession spark, Config config) {
    double load0 = Probes.loadAverage();
    ModelSpec spec = spec(config);
    FashionMnist data = FashionMnist.load(Path.of(config.fashionMnist()), "train", config.images());
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < data.size(); i++) {
      rows.add(RowFactory.create("fmnist-train-" + i, data.png(i), data.label(i)));
    }
    StructType schema = new StructType().add(ImageSchema.IMAGE_ID, DataTypes.StringType)
        .add(ImageSchema.IMAGE, DataTypes.BinaryType).add(ImageSchema.LABEL, DataTypes.IntegerType);
    Dataset<Row> images = spark.createDataFrame(rows, schema).repartition(2).cache();
    images.count();
    ModelWeights initial = ModelWeights.initial(spec, 1);
    if (config.warmupSteps() > 0) {
      new DistributedTrainer(spark).optLabel("bench-warmup").train(images, spec, initial,
          options(config, config.warmupSteps(), 2));
    }
    // The same rounds in this JVM on one shard of the same images: what a round costs without Spark.
    List<ExampleShard> oneShard = oneShard(spec, data);
    // On a cluster the tasks' CPU is spent in executor JVMs, which the driver's CPU clock misses.
    java.util.concurrent.atomic.AtomicLong executorCpuNanos = new java.util.concurrent.atomic.AtomicLong();
    boolean cluster = !spark.sparkContext().isLocal();
    if (cluster) {
      spark.sparkContext().addSparkListener(new org.apache.spark.scheduler.SparkListener() {
        @Override
        public void onTaskEnd(org.apache.spark.scheduler.SparkListenerTaskEnd end) {
          if (end.taskMetrics() != null) {
            executorCpuNanos.addAndGet(end.taskMetrics().executorCpuTime());
          }
        }
      });
    }
    // Index 0: in process; 1 and 2: that many distributed workers.
    RoundsRun[] best = new RoundsRun[3];
    for (int r = 0; r < Math.max(1, config.repeat()); r++) {
      TrainOptions single = options(config, config.steps(), 1);
      Probes.Timed<TrainingResult> inProcess = Probes.time(() ->
          new InProcessTrainer().optLabel("bench-in-process").train(oneShard, spec, initial, single));
      Measurement ip = new Measurement("in-process", 1, 1, (long) config.steps() * config.batchSize(),
          inProcess.timing().seconds(), inProcess.timing().cpuSeconds(), inProcess.timing().loadAverage(),
          String.format(Locale.ROOT, "InProcessTrainer in the driver, %d rounds of %d steps (%.2f s per round),"
              + " final loss %.3f", single.rounds(), single.localStepsPerRound(),
              inProcess.value().seconds() / single.rounds(), inProcess.value().finalLoss()));
      log(ip);
      best[0] = RoundsRun.best(best[0], new RoundsRun(ip, inProcess));
      for (int workers : new int[] {1, 2}) {
        TrainOptions o = options(config, config.steps(), workers);
        long executorCpu0 = executorCpuNanos.get();
        Probes.Timed<TrainingResult> t = Probes.time(() ->
            new DistributedTrainer(spark).optLabel("bench").train(images, spec, initial, o));
        // The listener hears of a job's last tasks after the job returns: wait until it has heard
        // all (Spark-internal API, as Spark's own tests use it; bench code only).
        try {
          spark.sparkContext().listenerBus().waitUntilEmpty(10_000);
        } catch (java.util.concurrent.TimeoutException e) {
          Probes.log("the listener bus did not drain in 10 s: the executors' CPU may be undercounted");
        }
        double executorCpu = (executorCpuNanos.get() - executorCpu0) / 1e9;
        Measurement m = new Measurement("distributed", workers, 1,
            (long) config.steps() * config.batchSize() * workers, t.timing().seconds(),
            t.timing().cpuSeconds() + executorCpu, t.timing().loadAverage(), "");
        log(m);
        best[workers] = RoundsRun.best(best[workers], new RoundsRun(m, t));
      }
    }
    List<Measurement> out = new ArrayList<>(List.of(best[0].measurement()));
    double bestInProcessLoop = best[0].roundSeconds();
    for (int workers : new int[] {1, 2}) {
      Measurement m = best[workers].measurement();
      TrainOptions o = options(config, config.steps(), workers);
      double loop = best[workers].roundSeconds();
      // Building the shards (shuffle by worker, decode, cache) happens once per training; the rounds
      // repeat, and what each costs beyond the same local steps in process is the round's overhead.
      out.add(new Measurement(m.method(), m.workers(), m.threads(), m.images(), m.seconds(), m.cpuSeconds(),
          m.loadAverage(), String.format(Locale.ROOT, "DistributedTrainer on %s, %d rounds of %d steps: shards %.1f s,"
              + " rounds %.1f s (%.2f s per round, %+.2f s per round over in-process), driver heap peak %,d MiB%s",
              config.master(), o.rounds(), o.localStepsPerRound(), m.seconds() - loop, loop, loop / o.rounds(),
              (loop - bestInProcessLoop) / o.rounds(), best[workers].heapPeakBytes() >> 20,
              cluster ? "; CPU: the driver's and the executors' tasks'" : "")));
    }
    return new Report(config, load0, Probes.loadAverage(), List.copyOf(out));
  }

  /**
   * One timed training of the distributed comparison, with the seconds of its rounds (the trainer's
   * own clock, without building the shards) and its heap peak.
   */
  private record RoundsRun(Measurement measurement, double roundSeconds, long heapPeakBytes) {
    RoundsRun(Measurement measurement, Probes.Timed<TrainingResult> run) {
      this(measurement, run.value().seconds(), run.timing().heapPeakBytes());
    }

    /** The faster run, its measurement with the smaller CPU time of the two ({@link Measurement#best}). */
    static RoundsRun best(RoundsRun a, RoundsRun b) {
      if (a == null) {
        return b;
      }
      RoundsRun fast = a.measurement().seconds() <= b.measurement().seconds() ? a : b;
      return new RoundsRun(Measurement.best(a.measurement(), b.measurement()), fast.roundSeconds(),
          fast.heapPeakBytes());
    }
  }

  /** The images as one in-process shard of decoded pixels. */
  private static List<ExampleShard> oneShard(ModelSpec spec, FashionMnist data) {
    ExampleShard.Builder b = ExampleShard.builder(spec);
    for (int i = 0; i < data.size(); i++) {
      b.addPixels("fmnist-train-" + i, data.pixels(i), data.label(i));
    }
    return List.of(b.build());
  }

  /** The results as a Markdown table with ratios to the PyTorch script (or to 1 worker). */
  public static String markdown(Report report) {
    Config c = report.config();
    StringBuilder sb = new StringBuilder();
    sb.append(String.format(Locale.ROOT,
        "model %s, batch %d, %d timed steps per worker after %d warm-up steps, crop padding 2 + flip, SGD Nesterov, "
            + "%d training images, cores=%d, best of %d runs, load average %.1f at start, %.1f at end%n%n",
        spec(c), c.batchSize(), c.steps(), c.warmupSteps(), c.images(), Runtime.getRuntime().availableProcessors(),
        Math.max(1, c.repeat()), report.loadAtStart(), report.loadAtEnd()));
    // The PyTorch script, else the in-process trainer of the distributed runs (the goal of one
    // worker), else semiweak's supervised training (the reference of the self-supervised methods:
    // their cost per image against a supervised step).
    Measurement reference = report.measurements().stream()
        .filter(m -> m.method().equals("pytorch") || m.method().equals("in-process"))
        .findFirst()
        .or(() -> report.measurements().stream().filter(m -> m.method().equals("semiweak")).findFirst())
        .orElse(null);
    if (reference != null) {
      sb.append("reference: ").append(reference.method()).append("\n\n");
    }
    sb.append("| method | workers | libtorch threads | images | seconds | images/s | images/s per thread "
        + "| images per CPU s | vs reference (wall) | vs reference (CPU) | load | notes |\n");
    sb.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n");
    for (Measurement m : report.measurements()) {
      int threads = m.threads() * m.workers();
      String wall = reference == null ? "" : String.format(Locale.ROOT, "%.2fx",
          m.imagesPerSecond() / reference.imagesPerSecond());
      String cpu = reference == null ? "" : String.format(Locale.ROOT, "%.2fx",
          m.imagesPerCpuSecond() / reference.imagesPerCpuSecond());
      sb.append(String.format(Locale.ROOT, "| %s | %d | %d | %,d | %.1f | %.1f | %.1f | %.1f | %s | %s | %.1f | %s |%n",
          m.method(), m.workers(), m.threads(), m.images(), m.seconds(), m.imagesPerSecond(),
          m.imagesPerSecond() / threads, m.imagesPerCpuSecond(), wall, cpu, m.loadAverage(), m.detail()));
    }
    return sb.toString();
  }
}
