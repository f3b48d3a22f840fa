package org.semiweak.bench;

import ai.djl.Device;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import javax.imageio.ImageIO;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.semiweak.config.Options;
import org.semiweak.data.ImageSchema;
import org.semiweak.model.ImageTensors;
import org.semiweak.model.Inference;
import org.semiweak.model.ModelSpec;
import org.semiweak.model.ModelWeights;
import org.semiweak.prep.PrepareImages;
import org.semiweak.prep.image.ImageCodec;
import org.semiweak.prep.image.ImageRejectedException;
import org.semiweak.run.RunLayout;
import org.semiweak.run.Split;
import org.semiweak.run.StageExecution;
import org.semiweak.run.result.ScoreResult;
import org.semiweak.testing.CommittedModels;
import org.semiweak.run.RunDir;
import org.semiweak.run.StageManifest;
import org.semiweak.stage.PrepInfo;
import org.semiweak.run.SparkSessions;
import org.semiweak.teacher.ScoreImages;
import org.semiweak.testing.FashionMnist;
import org.semiweak.testing.IdxSubset;

/**
 * The overhead of the {@code score} stage: end-to-end throughput of {@link ScoreImages} (Parquet
 * read, PNG decode, batching, forward pass, top-P, Parquet write, the stage's counts) against raw
 * DJL forward passes ({@link Inference#probabilities}) on the same images already decoded into
 * float tensors, same model, same batch size, as many threads as Spark has cores. Also the
 * {@code prep} stage time at each size (for extrapolation) and the per-image cost of decoding PNG
 * and JPEG at 28 and 224 px.
 *
 * <p>Input: the first N Fashion-MNIST training images, through the real {@link PrepareImages} stage
 * (idx source) into a run directory; the teacher is a committed model stage holding the demo's
 * small ResNet with random weights ({@link ModelWeights#initial}): its cost does not depend on
 * training. Score and forward are measured alternately, {@code --repeat} times each, and the
 * fastest run of each is kept.
 *
 * <pre>
 * java -Xmx4g [spark.jvm.opens] -cp ... org.semiweak.bench.ScoreBenchmark --images 10000,20000,40000
 * </pre>
 */
public final class ScoreBenchmark {

  /** What to run; every field has a command-line flag of the same name in kebab case. */
  public record Config(int[] images, int batchSize, String dataDir, String fashionMnist, String master, int files,
      int repeat, boolean warmup, int decodeImages, List<String> methods, int[] widths, int blocks,
      int scorePartitions, int imageSize) {

    public static Config defaults() {
      return new Config(new int[] {10_000, 20_000, 40_000}, 0,
          System.getProperty("java.io.tmpdir") + "/semiweak-bench/score", FashionMnist.dir().toString(), "local[2]", 8, 2,
          true, 500, List.of("prep", "score", "forward", "decode"), new int[] {16, 32, 64}, 1, 0, 28);
    }

    /** Whether the inputs are 224 px RGB JPEG files scored by a ResNet-18 (else 28 px gray IDX images). */
    boolean large() {
      return imageSize == 224;
    }

    /** The batch of both methods: {@code --batch-size}, or with 0 the score stage's default on the CPU. */
    int batch() {
      return batchSize > 0 ? batchSize : Inference.defaultBatchSize(spec(this));
    }

    static Config parse(String[] args) {
      Config d = defaults();
      BenchFlags f = BenchFlags.parse(args, USAGE, List.of("--images", "--batch-size", "--data-dir", "--fashion-mnist",
          "--master", "--files", "--repeat", "--decode-images", "--methods", "--widths", "--blocks",
          "--score-partitions", "--image-size"), List.of("--no-warmup"));
      int imageSize = f.integer("--image-size", d.imageSize);
      if (imageSize != 28 && imageSize != 224) {
        throw new IllegalArgumentException("--image-size must be 28 or 224, found " + imageSize);
      }
      return new Config(f.ints("--images", d.images), f.integer("--batch-size", d.batchSize),
          f.string("--data-dir", d.dataDir), f.string("--fashion-mnist", d.fashionMnist), f.string("--master", d.master),
          f.integer("--files", d.files), f.integer("--repeat", d.repeat), d.warmup && !f.has("--no-warmup"),
          f.integer("--decode-images", d.decodeImages), f.strings("--methods", d.methods), f.ints("--widths", d.widths),
          f.integer("--blocks", d.blocks), f.integer("--score-partitions", d.scorePartitions), imageSize);
    }
  }

  static final String USAGE = """
      usage: ScoreBenchmark [--images N1,N2,N3] [--batch-size 0] [--data-dir DIR] [--fashion-mnist DIR]
                            [--master local[2]] [--files 8] [--repeat 2] [--no-warmup] [--decode-images 500]
                            [--methods prep,score,forward,decode] [--widths 16,32,64] [--blocks 1]
                            [--score-partitions 0] [--image-size 28]
        --images         training images of Fashion-MNIST given to prep (at most 60,000 each); the
                         unlabeled split that score reads is N minus 10 labeled per class
        --batch-size     images per forward pass, in the stage and the bare forward pass; 0: the stage's
                         default on the CPU (256 at 28 px, 10 for ResNet-18 at 224 px)
        --files          Parquet files per split written by prep (Spark reads one task per file)
        --decode-images  images per format and size in the decode table
        --score-partitions  the score stage's partitions option (0: one task per Parquet file)
        --image-size     28: Fashion-MNIST's IDX images (28 px gray) and the small ResNet of --widths/--blocks;
                         224: the same images upscaled to 224 px RGB with photo-like noise, written as JPEG
                         files to a folder that prep reads (folder source, every image unlabeled), scored by
                         a ResNet-18 (--widths and --blocks do not apply)""";

  /**
   * One measured stage or method at one input size.
   *
   * @param images images processed (scored, forwarded, or prepared)
   */
  public record Measurement(int inputImages, String method, long images, Probes.Timing timing, String detail) {
    public double imagesPerSecond() {
      return images / timing.seconds();
    }

    /** Images per second of this JVM's CPU time (all its threads): less sensitive to other processes. */
    public double imagesPerCpuSecond() {
      return images / timing.cpuSeconds();
    }

    /** The faster of two runs, with the smaller CPU time of the two ({@link Probes.Timing#best}). */
    static Measurement best(Measurement a, Measurement b) {
      if (a == null) {
        return b;
      }
      Measurement fast = a.timing().seconds() <= b.timing().seconds() ? a : b;
      return new Measurement(fast.inputImages(), fast.method(), fast.images(), Probes.Timing.best(a.timing(),
          b.timing()), fast.detail());
    }
  }

  /**
   * Per-image decode cost of one format and size.
   *
   * @param decodeMicros {@link ImageTensors#decodePixels} per image, microseconds, one thread
   * @param prepMicros data-prep's {@link ImageCodec#canonicalize} per image (checks, decode, PNG encode, hash)
   */
  public record DecodeCost(String format, int size, int channels, double meanBytes, double decodeMicros,
      double prepMicros) {}

  /** Everything a run produced. */
  public record Report(Config config, int threads, double loadAtStart, double loadAtEnd, List<Measurement> measurements,
      List<DecodeCost> decode) {}

  private ScoreBenchmark() {}

  public static void main(String[] args) {
    Config config = BenchFlags.parseOrExit(() -> Config.parse(args));
    SparkSession spark = SparkSessions.getOrCreate("semiweak-score-benchmark", config.master());
    try {
      System.out.println(markdown(run(spark, config)));
    } finally {
      spark.stop();
    }
  }

  /**
   * The model scored with: the demo's small ResNet for 28 px gray images, or ResNet-18 for 224 px RGB;
   * 10 classes.
   */
  static ModelSpec spec(Config c) {
    if (c.large()) {
      return ModelSpec.resNet18(10);
    }
    return ModelSpec.smallResNet(1, 28, 10, c.blocks(), c.widths()).withNormalization(new float[] {0.286f},
        new float[] {0.353f});
  }

  /** Runs the benchmark on a session; the same code the smoke test runs at a tiny size. */
  public static Report run(SparkSession spark, Config config) {
    double load0 = Probes.loadAverage();
    int threads = spark.sparkContext().defaultParallelism();
    ModelSpec spec = spec(config);
    ModelWeights weights = ModelWeights.initial(spec, 1);
    List<Measurement> out = new ArrayList<>();
    if (config.warmup() && (config.methods().contains("score") || config.methods().contains("forward"))) {
      int most = config.large() ? 200 : 2_000; // a ResNet-18 at 224 px scores about 50 images/s on 2 cores
      int n = Math.min(most, Arrays.stream(config.images()).min().orElse(most));
      Probes.log("warming up on %,d images", n);
      RunDir run = preparedRun(spark, config, n, spec, weights, new ArrayList<>(), 1);
      score(spark, run, config, n);
      forward(spec, weights, decoded(spark, run, spec).tensors(), config.batch(), threads);
    }
    for (int n : config.images()) {
      RunDir run = preparedRun(spark, config, n, spec, weights, out, config.repeat());
      Decoded pre = config.methods().contains("forward") ? decoded(spark, run, spec) : new Decoded(List.of(), 0);
      List<float[]> tensors = pre.tensors();
      Measurement bestScore = null;
      Measurement bestForward = null;
      // Alternate the two, so that a change in the machine's load hits both alike.
      for (int r = 0; r < Math.max(1, config.repeat()); r++) {
        if (config.methods().contains("score")) {
          Measurement m = score(spark, run, config, n);
          bestScore = Measurement.best(bestScore, m);
        }
        if (config.methods().contains("forward")) {
          Probes.Timed<Long> t = Probes.time(() -> forward(spec, weights, tensors, config.batch(), threads));
          Measurement m = new Measurement(n, "forward", t.value(), t.timing(), String.format(Locale.ROOT,
              "Inference.probabilities on pre-decoded float tensors, %d threads, batch %d (decoding and normalizing"
                  + " them took %.2f ms per image on one thread, untimed)", threads, config.batch(), pre.msPerImage()));
          log(m);
          bestForward = Measurement.best(bestForward, m);
        }
      }
      if (bestScore != null) {
        // What the stage decodes per image: prep's PNG, whatever the input format was.
        double pngBytes = PrepInfo.read(run).read(spark, Split.UNLABELED)
            .selectExpr("avg(length(" + ImageSchema.IMAGE + "))").first().getDouble(0);
        out.add(new Measurement(bestScore.inputImages(), bestScore.method(), bestScore.images(), bestScore.timing(),
            bestScore.detail() + String.format(Locale.ROOT, ", %d px PNG of %,.0f bytes on average", config.imageSize(),
                pngBytes)));
      }
      if (bestForward != null) {
        out.add(bestForward);
      }
    }
    List<DecodeCost> decode = config.methods().contains("decode") ? decodeCosts(config) : List.of();
    return new Report(config, threads, load0, Probes.loadAverage(), List.copyOf(out), decode);
  }

  private static void log(Measurement m) {
    Probes.log("%-8s n=%-6d %7.2f s  %8.0f images/s  cpu %6.1f s  heap peak %,5d MiB  load %.1f", m.method(),
        m.inputImages(), m.timing().seconds(), m.imagesPerSecond(), m.timing().cpuSeconds(),
        m.timing().heapPeakBytes() >> 20, m.timing().loadAverage());
  }

  private static void writeIdxSubset(Path source, Path idx, int n) {
    try {
      IdxSubset.write(source, idx, n, 100);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write an IDX subset to " + idx + ": " + e.getMessage(), e);
    }
  }

  /**
   * A run directory with a committed {@code prep} of the first {@code n} Fashion-MNIST training
   * images (as IDX files, or as 224 px JPEG files) and a committed teacher {@code teacher/bench}
   * (random weights); prep is timed when it runs and {@code prep} is among the methods
   * ({@code repeat} times, the fastest kept).
   */
  static RunDir preparedRun(SparkSession spark, Config config, int n, ModelSpec spec, ModelWeights weights,
      List<Measurement> out, int repeat) {
    Path root = Path.of(config.dataDir(), (config.large() ? "run-224-n" : "run-n") + n);
    RunDir run = RunDir.open(root.toUri().toString(), new Configuration());
    Options prepOptions = config.large() ? jpegFolderPrep(config, n) : idxPrep(config, n);
    boolean measure = config.methods().contains("prep") && out != null;
    if (run.committed(RunLayout.prep()).isEmpty() || measure) {
      Measurement best = null;
      for (int r = 0; r < (measure ? Math.max(1, repeat) : 1); r++) {
        run.delete(RunLayout.prep());
        PrepareImages prep = new PrepareImages(run, prepOptions);
        Probes.Timed<StageManifest> t = Probes.time(() -> StageExecution.planAndRun(run, spark, prep));
        long written = t.value().count("written.labeled") + t.value().count("written.unlabeled")
            + t.value().count("written.test");
        Measurement m = new Measurement(n, "prep", t.value().count("in"), t.timing(), String.format(Locale.ROOT,
            "PrepareImages (%s): %,d written, %,d in %d unlabeled files", config.large() ? "folder of JPEG" : "idx",
            written, t.value().count("written.unlabeled"), config.files()));
        log(m);
        best = Measurement.best(best, m);
      }
      if (measure) {
        out.add(best);
      }
    }
    // An untrained teacher (random weights) costs the same to score as a trained one.
    if (run.committed(RunLayout.teacher("bench")).isEmpty()) {
      CommittedModels.commit(run, RunLayout.teacher("bench"), spec, weights);
    }
    return run;
  }

  /** prep of the first {@code n} Fashion-MNIST training images as IDX files: 10 labeled per class, 100 test. */
  private static Options idxPrep(Config config, int n) {
    Path idx = Path.of(config.dataDir(), "idx-n" + n);
    if (!Files.exists(idx.resolve("t10k-labels-idx1-ubyte.gz"))) {
      writeIdxSubset(Path.of(config.fashionMnist()), idx, n);
    }
    int unlabeled = Math.max(1, n - 100);
    return Options.parse("prep", PrepareImages.OPTIONS, Map.of(
        "source", "idx", "input", idx.toString(), "labeled-per-class", 10,
        "shard-records", (unlabeled + config.files() - 1) / config.files()));
  }

  /**
   * prep of a folder of {@code n} 224 px RGB JPEG files without metadata, as a user's folder of
   * resized web images: every image becomes unlabeled (prep decodes each JPEG and stores it as PNG).
   */
  private static Options jpegFolderPrep(Config config, int n) {
    Path folder = Path.of(config.dataDir(), "jpeg224-n" + n);
    if (!Files.exists(folder.resolve("_complete"))) {
      writeJpegFolder(Path.of(config.fashionMnist()), folder, n);
    }
    return Options.parse("prep", PrepareImages.OPTIONS, Map.of(
        "source", "folder", "input", folder.toString(), "unlisted-files", "unlabeled", "image-size", 224,
        "channels", 3, "shard-records", (n + config.files() - 1) / config.files()));
  }

  /** Writes {@link #photoLike} versions of the first {@code n} training images as JPEG files, then {@code _complete}. */
  static void writeJpegFolder(Path fashionMnist, Path folder, int n) {
    FashionMnist source = FashionMnist.load(fashionMnist, "train", n);
    try {
      Files.createDirectories(folder);
      for (int i = 0; i < source.size(); i++) {
        Files.write(folder.resolve(String.format(Locale.ROOT, "img-%06d.jpg", i)),
            jpeg(photoLike(source.pixels(i), 224, i), 224, 3));
      }
      Files.writeString(folder.resolve("_complete"), source.size() + " images\n");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write benchmark JPEG files to " + folder + ": " + e.getMessage(), e);
    }
  }

  /**
   * {@link #tintedRgb} with uniform noise of +-12 per value (deterministic per {@code seed}): an
   * upscaled image alone is much smoother than a photograph and so cheaper to compress and decode;
   * the noise brings its PNG closer to a photograph's size.
   */
  static byte[] photoLike(byte[] gray28, int size, long seed) {
    byte[] rgb = tintedRgb(gray28, size);
    java.util.SplittableRandom random = new java.util.SplittableRandom(seed);
    for (int i = 0; i < rgb.length; i++) {
      rgb[i] = (byte) Math.max(0, Math.min(255, (rgb[i] & 0xff) + random.nextInt(-12, 13)));
    }
    return rgb;
  }

  /** Runs the real score stage once (deleting an earlier output first) and times it. */
  static Measurement score(SparkSession spark, RunDir run, Config config, int n) {
    ScoreImages stage = new ScoreImages(run, Options.parse("score", ScoreImages.OPTIONS,
        Map.of("teacher", "bench", "batch-size", config.batchSize(), "partitions", config.scorePartitions())));
    run.delete(stage.id());
    Probes.Timed<StageManifest> t = Probes.time(() -> StageExecution.planAndRun(run, spark, stage));
    ScoreResult result = t.value().result(ScoreResult.class);
    Measurement m = new Measurement(n, "score", t.value().count("scored"), t.timing(), String.format(Locale.ROOT,
        "ScoreImages.execute: %d tasks, batch %d, pmax 10, model loads in this run %s", result.partitions(),
        config.batch(), result.modelLoads()));
    log(m);
    return m;
  }

  /** Images decoded for the bare forward pass, and what decoding them cost per image. */
  record Decoded(List<float[]> tensors, double msPerImage) {}

  /**
   * The unlabeled images the score stage reads, decoded and normalized into one float array per
   * forward thread (contiguous CHW images), outside the forward pass's time; how long decoding and
   * normalizing took per image, on one thread.
   */
  static Decoded decoded(SparkSession spark, RunDir run, ModelSpec spec) {
    List<Row> rows = PrepInfo.read(run).read(spark, Split.UNLABELED)
        .select(ImageSchema.IMAGE_ID, ImageSchema.IMAGE).collectAsList();
    int threads = spark.sparkContext().defaultParallelism();
    int values = spec.imageValues();
    List<float[]> out = new ArrayList<>();
    long start = System.nanoTime();
    int per = (rows.size() + threads - 1) / threads;
    for (int t = 0; t < threads; t++) {
      int from = Math.min(rows.size(), t * per);
      int to = Math.min(rows.size(), from + per);
      float[] a = new float[(to - from) * values];
      for (int i = from; i < to; i++) {
        Row r = rows.get(i);
        ImageTensors.normalize(ImageTensors.decodePixels((byte[]) r.get(1), spec, r.getString(0)), spec, a,
            (i - from) * values);
      }
      out.add(a);
    }
    return new Decoded(out, (System.nanoTime() - start) / 1e6 / Math.max(1, rows.size()));
  }

  /**
   * Forward passes over pre-decoded images: one thread per array, each with its own model (libtorch
   * with one thread each, as in a Spark task), in batches of {@code batchSize}. Returns the images done.
   */
  static long forward(ModelSpec spec, ModelWeights weights, List<float[]> tensors, int batchSize, int threads) {
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      List<Future<Long>> done = new ArrayList<>();
      for (float[] images : tensors) {
        done.add(pool.submit(() -> {
          int count = images.length / spec.imageValues();
          try (Inference model = Inference.open(spec, weights, Device.cpu(), batchSize)) {
            float[][] probs = model.probabilities(images, count);
            if (probs.length != count) {
              throw new IllegalStateException("forward returned " + probs.length + " rows for " + count + " images");
            }
          }
          return (long) count;
        }));
      }
      long total = 0;
      for (Future<Long> f : done) {
        total += f.get();
      }
      return total;
    } catch (Exception e) {
      throw new IllegalStateException("forward pass failed: " + e.getMessage(), e);
    } finally {
      pool.shutdown();
    }
  }

  /**
   * Decode costs: PNG (as data-prep writes it) and JPEG (ImageIO, quality 0.75) of Fashion-MNIST
   * images at 28 px gray and upscaled to 224 px RGB (bilinear, tinted per channel so that the three
   * channels differ), {@code decode-images} of each, best of {@code repeat} passes.
   */
  static List<DecodeCost> decodeCosts(Config config) {
    FashionMnist source = FashionMnist.load(Path.of(config.fashionMnist()), "train", config.decodeImages());
    List<DecodeCost> out = new ArrayList<>();
    for (int size : new int[] {28, 224}) {
      int channels = size == 28 ? 1 : 3;
      ImageCodec codec = new ImageCodec(size, channels, 40_000_000L);
      ModelSpec spec = ModelSpec.smallResNet(channels, size, 10, 1, 8);
      List<byte[]> pixels = new ArrayList<>();
      for (int i = 0; i < source.size(); i++) {
        pixels.add(size == 28 ? source.pixels(i) : tintedRgb(source.pixels(i), size));
      }
      for (String format : List.of("png", "jpeg")) {
        List<byte[]> encoded = new ArrayList<>();
        for (byte[] p : pixels) {
          encoded.add(format.equals("png") ? codec.fromPixels(p, size, size, channels).png()
              : jpeg(p, size, channels));
        }
        double bytes = encoded.stream().mapToInt(b -> b.length).average().orElse(0);
        double decode = Double.MAX_VALUE;
        double prep = Double.MAX_VALUE;
        for (int r = 0; r < Math.max(2, config.repeat() + 1); r++) { // the first pass warms the JIT up
          long t0 = System.nanoTime();
          long check = 0;
          for (int i = 0; i < encoded.size(); i++) {
            check += ImageTensors.decodePixels(encoded.get(i), spec, "decode-" + i).length;
          }
          decode = Math.min(decode, (System.nanoTime() - t0) / 1e3 / encoded.size());
          t0 = System.nanoTime();
          for (byte[] e : encoded) {
            try {
              check += codec.canonicalize(e).png().length;
            } catch (ImageRejectedException ex) {
              throw new IllegalStateException("data-prep rejected a benchmark " + format + ": " + ex.getMessage(), ex);
            }
          }
          prep = Math.min(prep, (System.nanoTime() - t0) / 1e3 / encoded.size());
          if (check <= 0) {
            throw new IllegalStateException("nothing decoded");
          }
        }
        DecodeCost d = new DecodeCost(format, size, channels, bytes, decode, prep);
        Probes.log("decode %-4s %3d px x%d: %,.0f bytes, decodePixels %.1f us, canonicalize %.1f us", format, size,
            channels, bytes, decode, prep);
        out.add(d);
      }
    }
    return out;
  }

  /** A 28 px gray image upscaled bilinearly to {@code size} px, as interleaved RGB with a colour gradient. */
  static byte[] tintedRgb(byte[] gray28, int size) {
    byte[] rgb = new byte[size * size * 3];
    double scale = 28.0 / size;
    for (int y = 0; y < size; y++) {
      double sy = Math.max(0, (y + 0.5) * scale - 0.5);
      int y0 = Math.min(27, (int) sy);
      int y1 = Math.min(27, y0 + 1);
      double fy = sy - y0;
      for (int x = 0; x < size; x++) {
        double sx = Math.max(0, (x + 0.5) * scale - 0.5);
        int x0 = Math.min(27, (int) sx);
        int x1 = Math.min(27, x0 + 1);
        double fx = sx - x0;
        double g = (1 - fy) * ((1 - fx) * u(gray28[y0 * 28 + x0]) + fx * u(gray28[y0 * 28 + x1]))
            + fy * ((1 - fx) * u(gray28[y1 * 28 + x0]) + fx * u(gray28[y1 * 28 + x1]));
        int i = (y * size + x) * 3;
        rgb[i] = (byte) Math.round(g);
        rgb[i + 1] = (byte) Math.round(0.75 * g + 0.25 * 255.0 * x / size);
        rgb[i + 2] = (byte) Math.round(0.5 * (255 - g) + 0.5 * 255.0 * y / size);
      }
    }
    return rgb;
  }

  private static int u(byte b) {
    return b & 0xff;
  }

  /** Interleaved pixels as a JPEG of ImageIO's default quality (0.75). */
  static byte[] jpeg(byte[] interleaved, int size, int channels) {
    BufferedImage img = new BufferedImage(size, size,
        channels == 1 ? BufferedImage.TYPE_BYTE_GRAY : BufferedImage.TYPE_3BYTE_BGR);
    int[] band = new int[size * size];
    for (int c = 0; c < channels; c++) {
      for (int i = 0; i < band.length; i++) {
        band[i] = interleaved[i * channels + c] & 0xff;
      }
      img.getRaster().setSamples(0, 0, size, size, channels == 3 ? 2 - c : c, band);
    }
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try {
      if (!ImageIO.write(img, "jpg", bytes)) {
        throw new IllegalStateException("no JPEG writer in this JVM");
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  /** The results as Markdown: throughput per size with the score/forward ratio, then decode costs. */
  public static String markdown(Report report) {
    StringBuilder sb = new StringBuilder();
    Config c = report.config();
    Runtime rt = Runtime.getRuntime();
    sb.append(String.format(Locale.ROOT,
        "model %s, batch %d, master %s (%d task threads), cores=%d, max-heap=%,d MiB, best of %d runs, "
            + "load average %.1f at start, %.1f at end%n%n",
        spec(c), c.batch(), c.master(), report.threads(), rt.availableProcessors(), rt.maxMemory() >> 20,
        Math.max(1, c.repeat()), report.loadAtStart(), report.loadAtEnd()));
    if (!report.measurements().isEmpty()) {
      sb.append("| input images | method | images | seconds | images/s | score / forward | CPU s | images per CPU s "
          + "| score / forward (CPU) | heap peak MiB | GC s | load | notes |\n");
      sb.append("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n");
      for (Measurement m : report.measurements()) {
        String ratio = "";
        String cpuRatio = "";
        Measurement f = m.method().equals("score") ? report.measurements().stream()
            .filter(x -> x.method().equals("forward") && x.inputImages() == m.inputImages()).findFirst().orElse(null)
            : null;
        if (f != null) {
          ratio = String.format(Locale.ROOT, "%.2fx", m.imagesPerSecond() / f.imagesPerSecond());
          cpuRatio = String.format(Locale.ROOT, "%.2fx", m.imagesPerCpuSecond() / f.imagesPerCpuSecond());
        }
        Probes.Timing t = m.timing();
        sb.append(String.format(Locale.ROOT,
            "| %,d | %s | %,d | %.2f | %,.0f | %s | %.1f | %,.0f | %s | %,d | %.1f | %.1f | %s |%n",
            m.inputImages(), m.method(), m.images(), t.seconds(), m.imagesPerSecond(), ratio, t.cpuSeconds(),
            m.imagesPerCpuSecond(), cpuRatio, t.heapPeakBytes() >> 20, t.gcSeconds(), t.loadAverage(), m.detail()));
      }
    }
    if (!report.decode().isEmpty()) {
      sb.append("\n| format | size | channels | bytes per image | decodePixels us/image | decode images/s (1 thread) "
          + "| prep canonicalize us/image |\n");
      sb.append("|---|---:|---:|---:|---:|---:|---:|\n");
      for (DecodeCost d : report.decode()) {
        sb.append(String.format(Locale.ROOT, "| %s | %d | %d | %,.0f | %.1f | %,.0f | %.1f |%n", d.format(), d.size(),
            d.channels(), d.meanBytes(), d.decodeMicros(), 1e6 / d.decodeMicros(), d.prepMicros()));
      }
    }
    return sb.toString();
  }
}
