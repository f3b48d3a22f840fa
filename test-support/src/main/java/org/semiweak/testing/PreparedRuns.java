package org.semiweak.testing;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.semiweak.data.ImageSchema;
import org.semiweak.data.Vocabulary;
import org.semiweak.run.RunDir;
import org.semiweak.run.RunLayout;
import org.semiweak.run.Split;
import org.semiweak.run.StageManifest;
import org.semiweak.run.StageOutput;
import org.semiweak.run.StagePlan;
import org.semiweak.run.StageWriter;
import org.semiweak.run.result.PrepResult;
import org.semiweak.run.result.Publication;
import org.semiweak.util.Fingerprint;
import org.semiweak.util.SeededRandom;
import scala.jdk.javaapi.CollectionConverters;

/**
 * Commits a small {@code prep} stage from the real Fashion-MNIST without data-prep, so that the
 * stages after it (teacher, student) can be tested in their own modules.
 *
 * <p>What it writes follows data-prep's idx source: Parquet shards with {@link ImageSchema#SCHEMA}
 * under {@code prep/{labeled,unlabeled,test}}, an empty {@code prep/quarantine}, and
 * {@code prep/vocabulary.json}; ids {@code fmnist-train-00042}, PNG images, the SHA-256 content hash
 * of {@code "28x28x1:" + pixels}, source file and {@code record N}. The labeled split is the first
 * {@code labeledPerClass} train images of each class, the unlabeled split the next train images
 * (keeping their true label, as the demo does), the test split the first test images. Train images
 * carry simulated weak tags: a hashtag of the true class with probability {@code tagAccuracy}, else
 * of another class; with probability {@code secondTagRate} a second hashtag of another class, so the
 * image has two tag classes; with probability {@code untaggedRate} only {@code #ootd}, which the
 * vocabulary does not know (no tag class). Test images carry no tags. It commits through
 * {@link RunDir#begin} and {@link StageWriter#commit}, the path of every real stage.
 *
 * <pre>{@code
 * PreparedRuns.Prepared p = PreparedRuns.commit(spark, tmp.resolve("run"), PreparedRuns.Spec.small());
 * new TrainTeacher(p.run(), options);   // plans against the committed prep
 * }</pre>
 */
public final class PreparedRuns {
  /** The tag no class of the vocabulary knows. */
  public static final String UNKNOWN_TAG = "#ootd";

  private static final long SALT_UNTAGGED = 0x51a7e0c2d9b3f481L;
  private static final long SALT_CORRECT = 0x2b6c1d0e9f8a7b65L;
  private static final long SALT_OTHER = 0x7c3e5a1b2d4f6e80L;
  private static final long SALT_SECOND = 0x0f1e2d3c4b5a6978L;
  private static final long SALT_SYNONYM = 0x6a5b4c3d2e1f0a99L;

  private PreparedRuns() {}

  /**
   * What to prepare.
   *
   * @param labeledPerClass labeled images per class
   * @param unlabeled unlabeled images
   * @param test test images
   * @param tagAccuracy probability that an image's (first) hashtag names its true class
   * @param secondTagRate probability that a tagged image has a second hashtag, of another class
   * @param untaggedRate probability that a train image has no tag the vocabulary knows
   * @param seed seed of the simulated tags
   * @param unlabeledFiles Parquet files the unlabeled split is written as
   */
  public record Spec(int labeledPerClass, int unlabeled, int test, double tagAccuracy, double secondTagRate,
      double untaggedRate, long seed, int unlabeledFiles) {

    /** With the unlabeled split in 2 files. */
    public Spec(int labeledPerClass, int unlabeled, int test, double tagAccuracy, double secondTagRate,
        double untaggedRate, long seed) {
      this(labeledPerClass, unlabeled, test, tagAccuracy, secondTagRate, untaggedRate, seed, 2);
    }

    /** 100 labeled, 300 unlabeled, 100 test images: seconds to train on with tiny schedules. */
    public static Spec small() {
      return new Spec(10, 300, 100, 0.7, 0.2, 0.2, 7);
    }

    /** This spec with the unlabeled split written as {@code files} Parquet files. */
    public Spec withUnlabeledFiles(int files) {
      return new Spec(labeledPerClass, unlabeled, test, tagAccuracy, secondTagRate, untaggedRate, seed, files);
    }
  }

  /**
   * A committed prep stage.
   *
   * @param run the run directory
   * @param manifest the prep stage's manifest
   * @param vocabulary the vocabulary written to {@code prep/vocabulary.json}
   * @param imageIds the image ids of each split, in the order written
   * @param taggedUnlabeled unlabeled images with at least one tag class
   * @param multiTagUnlabeled unlabeled images with two tag classes
   */
  public record Prepared(RunDir run, StageManifest manifest, Vocabulary vocabulary, Map<Split, List<String>> imageIds,
      long taggedUnlabeled, long multiTagUnlabeled) {

    public long count(Split split) {
      return imageIds.get(split).size();
    }

    public PrepResult result() {
      return manifest.result(PrepResult.class);
    }

    public Publication.Images images() {
      return result().publication();
    }
  }

  /** Two hashtags per Fashion-MNIST class, e.g. {@code #trouser} and {@code #trouser-look}. */
  public static Vocabulary vocabulary() {
    Map<String, Integer> tags = new LinkedHashMap<>();
    for (int c = 0; c < FashionMnist.CLASSES; c++) {
      tags.put(synonym(c, 0), c);
      tags.put(synonym(c, 1), c);
    }
    return new Vocabulary(FashionMnist.CLASS_NAMES, tags);
  }

  private static String synonym(int cls, int which) {
    String base = "#" + FashionMnist.CLASS_NAMES.get(cls).toLowerCase(java.util.Locale.ROOT).replaceAll("[^a-z]", "");
    return which == 0 ? base : base + "-look";
  }

  /** Opens a new run directory at {@code runDir} and commits a prep stage in it. */
  public static Prepared commit(SparkSession spark, Path runDir, Spec spec) {
    return commit(spark, RunDir.open(runDir.toUri().toString(), new Configuration()), spec);
  }

  /** Commits a prep stage in {@code run}, which must not have one. */
  public static Prepared commit(SparkSession spark, RunDir run, Spec spec) {
    Vocabulary vocabulary = vocabulary();
    FashionMnist train = FashionMnist.load("train", spec.labeledPerClass() * FashionMnist.CLASSES * 3 + spec.unlabeled());
    FashionMnist test = FashionMnist.load("t10k", spec.test());
    if (test.size() < spec.test()) {
      throw new IllegalArgumentException("Fashion-MNIST has only " + test.size() + " test images");
    }

    Map<Split, List<Row>> rows = new EnumMap<>(Split.class);
    for (Split s : Split.values()) {
      rows.put(s, new ArrayList<>());
    }
    int[] labeledOfClass = new int[FashionMnist.CLASSES];
    long tagged = 0;
    long multiTag = 0;
    long tagsKnown = 0;
    long tagsUnknown = 0;
    long unlabeledTagHits = 0;
    for (int i = 0; i < train.size() && rows.get(Split.UNLABELED).size() < spec.unlabeled(); i++) {
      int label = train.label(i);
      Split split = labeledOfClass[label] < spec.labeledPerClass() ? Split.LABELED : Split.UNLABELED;
      if (split == Split.LABELED) {
        labeledOfClass[label]++;
      }
      List<String> tags = tags(spec, train.id(i), label);
      int[] tagClasses = vocabulary.classesOf(tags);
      for (String t : tags) {
        if (vocabulary.classOf(t) >= 0) {
          tagsKnown++;
        } else {
          tagsUnknown++;
        }
      }
      if (split == Split.UNLABELED) {
        tagged += tagClasses.length > 0 ? 1 : 0;
        multiTag += tagClasses.length > 1 ? 1 : 0;
        unlabeledTagHits += java.util.Arrays.stream(tagClasses).anyMatch(c -> c == label) ? 1 : 0;
      }
      rows.get(split).add(row(train, i, "train-images-idx3-ubyte.gz", tags, tagClasses));
    }
    for (int c = 0; c < FashionMnist.CLASSES; c++) {
      if (labeledOfClass[c] < spec.labeledPerClass()) {
        throw new IllegalArgumentException("not enough train images of class " + c + " for " + spec);
      }
    }
    if (rows.get(Split.UNLABELED).size() < spec.unlabeled()) {
      throw new IllegalArgumentException("not enough train images for " + spec);
    }
    for (int i = 0; i < spec.test(); i++) {
      rows.get(Split.TEST).add(row(test, i, "t10k-images-idx3-ubyte.gz", List.of(), new int[0]));
    }

    Map<String, Object> options = new java.util.TreeMap<>();
    options.put("fixture", PreparedRuns.class.getSimpleName());
    options.put("labeled-per-class", spec.labeledPerClass());
    options.put("unlabeled", spec.unlabeled());
    options.put("test", spec.test());
    options.put("tag-accuracy", spec.tagAccuracy());
    options.put("second-tag-rate", spec.secondTagRate());
    options.put("untagged-rate", spec.untaggedRate());
    options.put("seed", spec.seed());
    StagePlan plan = StagePlan.builder(RunLayout.prep(), options)
        .input("fashion-mnist", FashionMnist.dir().toString(), "real Fashion-MNIST")
        .publishes(new Publication.Images(FashionMnist.SIZE, 1, vocabulary.classes()))
        .build();

    Map<Split, List<String>> ids = new EnumMap<>(Split.class);
    Map<String, Map<String, Long>> perClass = new LinkedHashMap<>();
    Map<String, Long> shardFiles = new LinkedHashMap<>();
    Map<String, Long> counts = new LinkedHashMap<>();
    long written = rows.values().stream().mapToLong(List::size).sum();
    counts.put("in", written);
    counts.put("written", written);
    try (StageWriter w = run.begin(RunLayout.prep())) {
      for (Split s : Split.values()) {
        List<Row> r = rows.get(s);
        ids.put(s, r.stream().map(x -> x.getString(0)).toList());
        Map<String, Long> byClass = new LinkedHashMap<>();
        for (Row x : r) {
          String cls = x.isNullAt(7) ? "(no label)" : vocabulary.classes().get(x.getInt(7));
          byClass.merge(cls, 1L, Long::sum);
        }
        perClass.put(s.dirName(), byClass);
        String dir = w.temp(s.dirName()).toString();
        spark.createDataFrame(r, ImageSchema.SCHEMA).repartition(s == Split.UNLABELED ? spec.unlabeledFiles() : 1).write().parquet(dir);
        shardFiles.put(s.dirName(), parquetFiles(run, w, s.dirName()));
        counts.put("written." + s.dirName(), (long) r.size());
      }
      spark.createDataFrame(List.of(), ImageSchema.QUARANTINE_SCHEMA).coalesce(1).write()
          .parquet(w.temp(RunLayout.QUARANTINE).toString());
      try (OutputStream out = run.fs().create(w.temp(RunLayout.VOCABULARY_FILE), false)) {
        out.write(vocabulary.toJson().getBytes(StandardCharsets.UTF_8));
      }
      counts.put("quarantined", 0L);
      counts.put("duplicates", 0L);
      counts.put("tags.known", tagsKnown);
      counts.put("tags.unknown", tagsUnknown);
      long unlabeled = rows.get(Split.UNLABELED).size();
      PrepResult result = new PrepResult(FashionMnist.SIZE, 1, vocabulary.classes(), perClass, shardFiles, 0.0,
          Map.of("read", 0.0, "dedup_and_count", 0.0, "write", 0.0), (double) tagged / unlabeled,
          (double) unlabeledTagHits / unlabeled, null);
      StageManifest manifest = w.commit(plan, new StageOutput(counts, result));
      return new Prepared(run, manifest, vocabulary, ids, tagged, multiTag);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the prepared run " + run + ": " + e.getMessage(), e);
    }
  }

  /** The simulated tags of a train image: a pure function of (seed, id, label). */
  static List<String> tags(Spec spec, String id, int label) {
    if (SeededRandom.unit(SeededRandom.hash(spec.seed() ^ SALT_UNTAGGED, id)) < spec.untaggedRate()) {
      return List.of(UNKNOWN_TAG);
    }
    int k = FashionMnist.CLASSES;
    int cls = label;
    if (SeededRandom.unit(SeededRandom.hash(spec.seed() ^ SALT_CORRECT, id)) >= spec.tagAccuracy()) {
      cls = (label + 1 + (int) (SeededRandom.unit(SeededRandom.hash(spec.seed() ^ SALT_OTHER, id)) * (k - 1))) % k;
    }
    int synonym = SeededRandom.unit(SeededRandom.hash(spec.seed() ^ SALT_SYNONYM, id)) < 0.5 ? 0 : 1;
    List<String> out = new ArrayList<>(List.of(synonym(cls, synonym)));
    double u = SeededRandom.unit(SeededRandom.hash(spec.seed() ^ SALT_SECOND, id));
    if (u < spec.secondTagRate()) {
      out.add(synonym((cls + 1 + (int) (u / spec.secondTagRate() * (k - 1))) % k, 1 - synonym));
    }
    return out;
  }

  private static Row row(FashionMnist data, int i, String sourceFile, List<String> tags, int[] tagClasses) {
    List<Integer> classes = java.util.Arrays.stream(tagClasses).boxed().toList();
    return RowFactory.create(data.id(i), data.png(i), FashionMnist.SIZE, FashionMnist.SIZE, 1,
        CollectionConverters.asScala(tags).toSeq(), CollectionConverters.asScala(classes).toSeq(), data.label(i),
        sourceFile, "record " + i, contentHash(data.pixels(i)));
  }

  /** SHA-256 (hex) of the dimensions and the raw pixels, as data-prep computes it. */
  static String contentHash(byte[] pixels) {
    MessageDigest sha = Fingerprint.sha256();
    sha.update((FashionMnist.SIZE + "x" + FashionMnist.SIZE + "x1:").getBytes(StandardCharsets.US_ASCII));
    return HexFormat.of().formatHex(sha.digest(pixels));
  }

  private static long parquetFiles(RunDir run, StageWriter w, String split) throws IOException {
    long n = 0;
    for (FileStatus st : run.fs().listStatus(w.temp(split))) {
      if (st.getPath().getName().endsWith(".parquet")) {
        n++;
      }
    }
    return n;
  }
}
