package org.semiweak.prep;

import static org.apache.spark.sql.functions.array_contains;
import static org.apache.spark.sql.functions.broadcast;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.concat;
import static org.apache.spark.sql.functions.concat_ws;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.first;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.row_number;
import static org.apache.spark.sql.functions.size;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.when;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.function.MapFunction;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.expressions.Window;
import org.apache.spark.sql.expressions.WindowSpec;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;
import org.semiweak.config.ConfigException;
import org.semiweak.config.OptionSpec;
import org.semiweak.config.Options;
import org.semiweak.data.ImageSchema;
import org.semiweak.data.Vocabulary;
import org.semiweak.prep.sim.FashionMnistVocabulary;
import org.semiweak.prep.sim.TagSimulator;
import org.semiweak.prep.source.FolderSource;
import org.semiweak.prep.source.IdxSource;
import org.semiweak.prep.source.ImageSource;
import org.semiweak.prep.source.WebDatasetSource;
import org.semiweak.run.RunLayout;
import org.semiweak.util.HadoopFiles;
import org.semiweak.run.SparkJobs;
import org.semiweak.run.Split;
import org.semiweak.run.StageId;
import org.semiweak.run.StageOutput;
import org.semiweak.run.StagePlan;
import org.semiweak.run.Upstream;
import org.semiweak.run.result.Publication;
import org.semiweak.run.result.PrepResult;
import org.semiweak.run.RunDir;
import org.semiweak.run.Stage;
import org.semiweak.run.StageWriter;
import org.semiweak.stage.SparkProgress;
import org.semiweak.util.Fingerprint;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The data-prep stage: weakly labeled raw images to canonical Parquet image shards.
 *
 * <p>Reads one source ({@code idx}, {@code folder} or {@code webdataset}, see the classes in
 * {@link org.semiweak.prep.source}), decodes and canonicalizes every image on Spark executors
 * ({@link org.semiweak.prep.image.ImageCodec}), maps tags through the vocabulary, removes exact
 * duplicates, and writes under the stage folder {@code prep/}:
 *
 * <ul>
 *   <li>{@code labeled/}, {@code unlabeled/}, {@code test/}: Parquet with exactly
 *       {@link ImageSchema#SCHEMA}, hash-partitioned by image id into files of about
 *       {@code shard-records} rows, sorted by image id within each file;
 *   <li>{@code quarantine/}: Parquet with {@link ImageSchema#QUARANTINE_SCHEMA}, one row per
 *       rejected record and its {@link Reason};
 *   <li>{@code vocabulary.json}: the effective vocabulary.
 * </ul>
 *
 * <p>Deduplication, deterministic and independent of partitioning: among records with the same
 * image id, the first by (split priority, record position) is kept; the others are counted as
 * {@code duplicates} when their pixels are equal, else quarantined as {@code duplicate-id}. Among the
 * remaining images with equal content hash, the first by (split priority, image id) is kept and the
 * others are {@code duplicates}. Split priority is test, then labeled (and idx train), then
 * unlabeled, so a train copy of a test image is dropped and the test set does not leak.
 *
 * <p>idx source (the Fashion-MNIST demo): after deduplication, the labeled subset is the
 * {@code labeled-per-class} train images of each class with the smallest seeded hash of their id;
 * the other train images are {@code unlabeled} and keep their true {@code label} (for measuring
 * pseudo-label precision; training never reads it). All train images, labeled and unlabeled, carry
 * simulated tags ({@link TagSimulator}); test images carry none.
 *
 * <p>The manifest is the result: counts {@code in = written + quarantined + duplicates}, with
 * {@code written.<split>}, {@code quarantined.<reason>}, {@code tags.known}, {@code tags.unknown}
 * (tags of written images that the vocabulary maps, or not); metrics per-class counts per split
 * ({@code classes.<split>}), {@code images_per_second}, and for idx the measured
 * {@code simulated_tag_accuracy} of the unlabeled split.
 *
 * <pre>{@code
 * Options o = Options.parse("prep", PrepareImages.OPTIONS, Map.of("input", "/data/fashion-mnist"));
 * PrepareImages prep = new PrepareImages(run, o);
 * StageManifest m = StageExecution.planAndRun(run, spark, prep);
 * m.count("written.labeled");   // 1000
 * }</pre>
 */
public final class PrepareImages implements Stage {
  private static final Logger LOG = LoggerFactory.getLogger(PrepareImages.class);

  public static final List<String> SPLITS = Split.names();

  public static final OptionSpec<String> SOURCE = OptionSpec.choiceOption("source", "idx",
      List.of("idx", "folder", "webdataset"),
      "kind of input: idx (MNIST-family IDX files), folder (images + metadata CSV/JSONL), webdataset (folder of .tar shards)");
  public static final OptionSpec<String> INPUT = OptionSpec.stringOption("input", null,
      "input folder (any Hadoop file system URI): IDX files, an image folder, or .tar shards");
  public static final OptionSpec<String> METADATA = OptionSpec.stringOption("metadata", "none",
      "folder source: metadata file, .csv (header path,tags,label,split) or .jsonl; none = every image is unlisted");
  public static final OptionSpec<String> VOCABULARY = OptionSpec.stringOption("vocabulary", FashionMnistVocabulary.BUILTIN,
      "tag vocabulary: a .json vocabulary ({classes, tags}) or a .csv of tag,class lines; "
          + FashionMnistVocabulary.BUILTIN + " = the ten Fashion-MNIST classes with several hashtags each");
  public static final OptionSpec<Integer> IMAGE_SIZE = OptionSpec.intOption("image-size", 28, 4, 4096,
      "side of the square images written: shorter side resized to this, then center-cropped");
  public static final OptionSpec<Integer> CHANNELS = OptionSpec.intOption("channels", 1, 1, 3,
      "channels of the images written: 1 (gray) or 3 (RGB)");
  public static final OptionSpec<Long> MAX_IMAGE_PIXELS = OptionSpec.longOption("max-image-pixels", 40_000_000L, 1,
      "images whose header declares more pixels are quarantined as too-large without decoding (decompression bombs)");
  public static final OptionSpec<Long> MAX_FILE_BYTES = OptionSpec.longOption("max-file-bytes", 64L << 20, 1,
      "files and tar entries larger than this are quarantined as too-large without reading them");
  public static final OptionSpec<Integer> SHARD_RECORDS = OptionSpec.intOption("shard-records", 20_000, 1, 100_000_000,
      "target rows per Parquet file of each split (files = ceil(rows / shard-records), at most this many rows each)");
  public static final OptionSpec<Integer> PARTITIONS = OptionSpec.intOption("partitions", 0, 0, 1_000_000,
      "Spark tasks that read the input; 0 = from the input size and the cluster (webdataset: always one per tar)");
  public static final OptionSpec<Long> SEED = OptionSpec.longOption("seed", 42L, 0,
      "seed of the labeled-subset draw and the simulated tags (idx)");
  public static final OptionSpec<String> ID_PREFIX = OptionSpec.stringOption("id-prefix", "auto",
      "idx source: image id prefix, ids are <prefix>-train-00042; auto = from the input folder name");
  public static final OptionSpec<Integer> LABELED_PER_CLASS = OptionSpec.intOption("labeled-per-class", 100, 0,
      1_000_000_000, "idx source: train images per class that form the labeled set; the rest is unlabeled");
  public static final OptionSpec<Boolean> SIMULATE_TAGS = OptionSpec.boolOption("simulate-tags", true,
      "idx source: give every train image one simulated hashtag (false: no tags)");
  public static final OptionSpec<Double> SIMULATE_TAGS_ACCURACY = OptionSpec.doubleOption("simulate-tags-accuracy", 0.6,
      0, 1, "idx source: probability that the simulated hashtag names the true class (else a random other class)");
  public static final OptionSpec<Double> SIMULATE_NOISE_TAGS = OptionSpec.doubleOption("simulate-noise-tags", 0.2, 0, 1,
      "idx source: probability of an extra off-vocabulary hashtag such as #ootd (ignored by the vocabulary)");
  public static final OptionSpec<String> DEFAULT_SPLIT = OptionSpec.choiceOption("default-split", SourceRecords.UNLABELED,
      SPLITS, "folder/webdataset sources: split of records whose metadata names none");
  public static final OptionSpec<String> UNLISTED_FILES = OptionSpec.choiceOption("unlisted-files", "quarantine",
      List.of("quarantine", "unlabeled"),
      "folder source: image files without a metadata row are quarantined (no-metadata) or become unlabeled without tags");

  public static final List<OptionSpec<?>> OPTIONS = List.of(SOURCE, INPUT, METADATA, VOCABULARY, IMAGE_SIZE, CHANNELS,
      MAX_IMAGE_PIXELS, MAX_FILE_BYTES, SHARD_RECORDS, PARTITIONS, SEED, ID_PREFIX, LABELED_PER_CLASS, SIMULATE_TAGS,
      SIMULATE_TAGS_ACCURACY, SIMULATE_NOISE_TAGS, DEFAULT_SPLIT, UNLISTED_FILES);

  private static final List<OptionSpec<?>> IDX_ONLY = List.of(ID_PREFIX, LABELED_PER_CLASS, SIMULATE_TAGS,
      SIMULATE_TAGS_ACCURACY, SIMULATE_NOISE_TAGS);
  private static final List<OptionSpec<?>> FOLDER_ONLY = List.of(METADATA, UNLISTED_FILES);
  private static final List<OptionSpec<?>> FOLDER_OR_WEBDATASET = List.of(DEFAULT_SPLIT);

  private final RunDir run;
  private final Options options;
  private Validated validated;

  /** What {@link #validate()} found: the source, the vocabulary and the settings without Hadoop conf. */
  private record Validated(String source, ImageSource input, Vocabulary vocabulary, String vocabularyPath,
      String idPrefix, TagSimulator simulator) {}

  public PrepareImages(RunDir run, Options options) {
    this.run = run;
    this.options = options;
  }

  @Override
  public StageId id() {
    return RunLayout.prep();
  }

  /** Checks options and inputs (existence, headers, vocabulary); no Spark job. */
  @Override
  public synchronized void validate() {
    if (validated != null) {
      return;
    }
    String source = options.get(SOURCE);
    String input = options.get(INPUT);
    int channels = options.get(CHANNELS);
    if (channels == 2) {
      throw new ConfigException("prep.channels: expected 1 (gray) or 3 (RGB), found '2'");
    }
    List<OptionSpec<?>> notFor = new ArrayList<>();
    if (!source.equals("idx")) {
      notFor.addAll(IDX_ONLY);
    }
    if (!source.equals("folder")) {
      notFor.addAll(FOLDER_ONLY);
    }
    if (source.equals("idx")) {
      notFor.addAll(FOLDER_OR_WEBDATASET);
    }
    for (OptionSpec<?> spec : notFor) {
      Object v = options.getOrNull(spec);
      if (v != null && !v.equals(spec.defaultValue())) {
        throw new ConfigException("prep." + spec.key() + ": applies to another source than '" + source
            + "' (" + spec.doc() + "); remove it or change 'source'");
      }
    }
    String idPrefix = options.get(ID_PREFIX);
    if (!idPrefix.equals("auto") && !idPrefix.matches("[A-Za-z0-9][A-Za-z0-9._-]*")) {
      throw new ConfigException("prep.id-prefix: expected letters, digits, '.', '_' or '-', found '" + idPrefix + "'");
    }
    Configuration conf = run.fs().getConf();
    Path inputPath = new Path(input);
    FileSystem fs = fileSystem(inputPath, conf);
    String vocabularyOption = options.get(VOCABULARY);
    Vocabulary vocabulary = loadVocabulary(vocabularyOption, conf);
    TagSimulator simulator = null;
    ImageSource src;
    switch (source) {
      case "idx" -> {
        if (idPrefix.equals("auto")) {
          idPrefix = IdxSource.defaultIdPrefix(inputPath);
        }
        if (options.get(SIMULATE_TAGS)) {
          try {
            simulator = new TagSimulator(vocabulary, options.get(SEED), options.get(SIMULATE_TAGS_ACCURACY),
                options.get(SIMULATE_NOISE_TAGS));
          } catch (IllegalArgumentException e) {
            throw new ConfigException("prep.vocabulary: " + e.getMessage());
          }
        }
        src = new IdxSource(fs, inputPath, vocabulary);
      }
      case "folder" -> {
        String metadata = options.get(METADATA);
        boolean none = metadata.equals("none");
        if (none && options.get(UNLISTED_FILES).equals("quarantine")) {
          throw new ConfigException("prep.metadata: the folder source needs a metadata file (.csv or .jsonl); "
              + "without one every image would be quarantined as no-metadata. Set 'metadata', or set "
              + "unlisted-files: unlabeled to take every image as unlabeled without tags");
        }
        src = new FolderSource(fs, inputPath, none ? null : new Path(metadata));
      }
      case "webdataset" -> src = new WebDatasetSource(fs, inputPath);
      default -> throw new ConfigException("prep.source: unknown source '" + source + "'");
    }
    src.inspect();
    validated = new Validated(source, src, vocabulary, vocabularyOption, idPrefix, simulator);
  }

  private static FileSystem fileSystem(Path p, Configuration conf) {
    try {
      return p.getFileSystem(conf);
    } catch (IOException e) {
      throw new ConfigException("prep.input: cannot open the file system of " + p + ": " + e.getMessage());
    }
  }

  /** Loads the vocabulary option: the built-in one, a JSON vocabulary, or a tag,class CSV. */
  static Vocabulary loadVocabulary(String option, Configuration conf) {
    if (option.equals(FashionMnistVocabulary.BUILTIN)) {
      return FashionMnistVocabulary.vocabulary();
    }
    Path p = new Path(option);
    String text;
    try {
      FileSystem fs = p.getFileSystem(conf);
      if (!fs.exists(p)) {
        throw new ConfigException("prep.vocabulary: " + p + " does not exist; give a .json or .csv vocabulary, or "
            + FashionMnistVocabulary.BUILTIN);
      }
      try (var in = fs.open(p)) {
        text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      }
    } catch (IOException e) {
      throw new ConfigException("prep.vocabulary: cannot read " + p + ": " + e.getMessage());
    }
    String name = p.getName().toLowerCase(Locale.ROOT);
    try {
      if (name.endsWith(".json")) {
        return Vocabulary.fromJson(text);
      }
      if (name.endsWith(".csv")) {
        return Vocabulary.fromTagCsv(text, null);
      }
    } catch (IllegalArgumentException e) {
      throw new ConfigException("prep.vocabulary: " + p + ": " + e.getMessage());
    }
    throw new ConfigException("prep.vocabulary: " + p + " must end in .json (a vocabulary {\"classes\": [...], "
        + "\"tags\": {...}}) or .csv (tag,class lines)");
  }

  @Override
  public StagePlan plan(Upstream upstream) {
    validate();
    Map<String, Object> effective = new TreeMap<>(options.effective());
    if (validated.source().equals("idx")) {
      effective.put(ID_PREFIX.key(), validated.idPrefix());
    }
    StagePlan.Builder m = StagePlan.builder(id(), effective);
    for (ImageSource.InputFingerprint in : validated.input().inspect()) {
      m.input(in.name(), in.path(), in.fingerprint());
    }
    m.input("vocabulary", validated.vocabularyPath(), Fingerprint.of(validated.vocabulary().toJson()));
    return m.publishes(new Publication.Images(options.get(IMAGE_SIZE), options.get(CHANNELS),
        validated.vocabulary().classes())).build();
  }

  @Override
  public StageOutput execute(SparkSession spark, StagePlan plan, StageWriter writer) {
    validate();
    long started = System.nanoTime();
    Validated v = validated;
    PrepSettings settings = new PrepSettings(options.get(IMAGE_SIZE), options.get(CHANNELS),
        options.get(MAX_IMAGE_PIXELS), options.get(MAX_FILE_BYTES), options.get(SEED), v.vocabulary(),
        options.get(DEFAULT_SPLIT), options.get(UNLISTED_FILES).equals("unlabeled"), v.idPrefix(), v.simulator(),
        new HadoopConf(spark.sparkContext().hadoopConfiguration()));
    LOG.info("prep: source {} from {}, image {}x{}x{}, vocabulary {} ({} classes, {} tags), options {}",
        v.source(), options.get(INPUT), settings.imageSize(), settings.imageSize(), settings.channels(),
        v.vocabularyPath(), v.vocabulary().numClasses(), v.vocabulary().tagToClass().size(), plan.options());

    List<Dataset<Row>> cached = new ArrayList<>();
    try {
      Decoded decoded = readAndDecode(spark, v, settings, cached);
      double readSeconds = (System.nanoTime() - started) / 1e9;
      Deduplicated dedup = deduplicate(spark, decoded, cached);
      SplitCounts counts = assignSplitsAndCount(spark, v, dedup, cached);
      double dedupSeconds = (System.nanoTime() - started) / 1e9 - readSeconds;
      Written written = write(spark, writer, v, decoded, dedup, counts);
      double seconds = (System.nanoTime() - started) / 1e9;
      return account(v, decoded, dedup, counts, written, readSeconds, dedupSeconds, seconds);
    } finally {
      cached.forEach(Dataset::unpersist);
    }
  }

  /** Phase 1: every input record read and decoded once, cached; the counts by status. */
  private record Decoded(Dataset<Row> records, Map<String, Long> byStatus) {}

  /** Phase 2: the decoded images, the duplicate decisions (cached) and their counts, the images kept. */
  private record Deduplicated(Dataset<Row> ok, Dataset<Row> decisions, Map<String, Long> byDecision,
      Dataset<Row> kept) {}

  /** Phase 3: the kept images with their final split (cached), counted per split and class. */
  private record SplitCounts(Dataset<Row> kept, Map<String, Long> written, Map<String, Map<String, Long>> perClass,
      long tagsKnown, long tagsUnknown, long unlabeledTagHits, long unlabeledWithLabel, long unlabeledTagged) {}

  /** Phase 4: what the quarantine holds by reason, and the shard files of each split. */
  private record Written(Map<String, Long> quarantined, long quarantinedTotal, Map<String, Long> shardFiles) {}

  /** 1. Reads and decodes every record once; everything after works on the cached rows. */
  private Decoded readAndDecode(SparkSession spark, Validated v, PrepSettings settings, List<Dataset<Row>> cached) {
    try (SparkProgress progress = new SparkProgress(spark, "prep " + v.source(), v.input().expectedRecords())) {
      Dataset<Row> records = spark.createDataFrame(
          v.input().candidates(spark, settings, options.get(PARTITIONS), progress.accumulator()), SourceRecords.SCHEMA)
          .persist(StorageLevel.MEMORY_AND_DISK());
      cached.add(records);
      Map<String, Long> byStatus = new TreeMap<>();
      SparkJobs.describe(spark, "prep: read and decode the " + v.source() + " input " + options.get(INPUT));
      for (Row r : records.groupBy(SourceRecords.STATUS).count().collectAsList()) {
        byStatus.put(r.getString(0), r.getLong(1));
      }
      return new Decoded(records, byStatus);
    }
  }

  /** 2. Deduplicates the decoded images by image id, then by content. */
  private static Deduplicated deduplicate(SparkSession spark, Decoded decoded, List<Dataset<Row>> cached) {
    SparkJobs.describe(spark, "prep: find duplicate ids and duplicate pixels");
    Dataset<Row> ok = decoded.records().filter(col(SourceRecords.STATUS).equalTo(SourceRecords.OK));
    Dataset<Row> decisions = decisions(ok).persist(StorageLevel.MEMORY_AND_DISK());
    cached.add(decisions);
    Map<String, Long> byDecision = new TreeMap<>();
    for (Row r : decisions.groupBy("decision").count().collectAsList()) {
      byDecision.put(r.getString(0), r.getLong(1));
    }
    Dataset<Row> kept = ok.join(decisions, ok.col(SourceRecords.RECORD_KEY).equalTo(decisions.col("decided_key")),
        "left_anti");
    return new Deduplicated(ok, decisions, byDecision, kept);
  }

  /**
   * 3. Draws the labeled subset (idx; other sources and the simulated tags decided their split while
   * reading), caches the kept images and counts what will be written per split and class.
   */
  private SplitCounts assignSplitsAndCount(SparkSession spark, Validated v, Deduplicated dedup,
      List<Dataset<Row>> cached) {
    Dataset<Row> kept = dedup.kept();
    if (v.source().equals("idx")) {
      kept = assignLabeledSubset(kept, options.get(LABELED_PER_CLASS));
    }
    kept = kept.persist(StorageLevel.MEMORY_AND_DISK());
    cached.add(kept);

    SparkJobs.describe(spark, "prep: count images per split and class");
    Map<String, Long> written = new LinkedHashMap<>();
    Map<String, Map<String, Long>> perClass = new LinkedHashMap<>();
    SPLITS.forEach(s -> {
      written.put(s, 0L);
      perClass.put(s, new LinkedHashMap<>());
    });
    long tagsKnown = 0;
    long tagsUnknown = 0;
    long unlabeledTagHits = 0;
    long unlabeledWithLabel = 0;
    long unlabeledTagged = 0;
    List<Row> agg = kept.groupBy(SourceRecords.SPLIT, ImageSchema.LABEL)
        .agg(count(lit(1)).as("n"),
            sum(size(col(ImageSchema.TAGS)).minus(col(SourceRecords.TAGS_UNKNOWN))).as("known"),
            sum(col(SourceRecords.TAGS_UNKNOWN)).as("unknown"),
            sum(when(array_contains(col(ImageSchema.TAG_CLASSES), col(ImageSchema.LABEL)), 1).otherwise(0)).as("hits"),
            sum(when(size(col(ImageSchema.TAG_CLASSES)).gt(0), 1).otherwise(0)).as("tagged"))
        .orderBy(SourceRecords.SPLIT, ImageSchema.LABEL)
        .collectAsList();
    for (Row r : agg) {
      String split = r.getString(0);
      long n = r.getLong(2);
      if (!written.containsKey(split)) {
        throw new IllegalStateException("prep produced images of unexpected split '" + split + "'");
      }
      written.merge(split, n, Long::sum);
      String cls = r.isNullAt(1) ? "(no label)" : v.vocabulary().classes().get(r.getInt(1));
      perClass.get(split).put(cls, n);
      tagsKnown += r.getLong(3);
      tagsUnknown += r.getLong(4);
      if (split.equals(SourceRecords.UNLABELED)) {
        unlabeledTagged += r.getLong(6);
        if (!r.isNullAt(1)) {
          unlabeledWithLabel += n;
          unlabeledTagHits += r.getLong(5);
        }
      }
    }
    return new SplitCounts(kept, written, perClass, tagsKnown, tagsUnknown, unlabeledTagHits, unlabeledWithLabel,
        unlabeledTagged);
  }

  /**
   * 4. Writes the quarantine first, so that the cached records can be dropped before the splits are
   * written from the cached kept images; then the vocabulary.
   */
  private Written write(SparkSession spark, StageWriter writer, Validated v, Decoded decoded, Deduplicated dedup,
      SplitCounts counts) {
    int shardRecords = options.get(SHARD_RECORDS);
    FileSystem fs = run.fs();
    Dataset<Row> ok = dedup.ok();
    Dataset<Row> duplicateIdDecisions = dedup.decisions().filter(col("decision").equalTo(Reason.DUPLICATE_ID.code()));
    Dataset<Row> duplicateIds = ok.join(duplicateIdDecisions,
            ok.col(SourceRecords.RECORD_KEY).equalTo(duplicateIdDecisions.col("decided_key")))
        .select(col(ImageSchema.SOURCE_FILE), col(ImageSchema.SOURCE_ENTRY), col(ImageSchema.IMAGE_ID),
            lit(Reason.DUPLICATE_ID.code()).as(ImageSchema.REASON), col("decision_detail").as(ImageSchema.DETAIL));
    Dataset<Row> quarantine = decoded.records().filter(col(SourceRecords.STATUS).notEqual(SourceRecords.OK))
        .select(col(ImageSchema.SOURCE_FILE), col(ImageSchema.SOURCE_ENTRY), col(ImageSchema.IMAGE_ID),
            col(SourceRecords.STATUS).as(ImageSchema.REASON), col(SourceRecords.DETAIL).as(ImageSchema.DETAIL))
        .unionByName(duplicateIds);
    Map<String, Long> quarantined = new LinkedHashMap<>();
    for (Reason r : Reason.values()) {
      quarantined.put(r.code(), r == Reason.DUPLICATE_ID ? dedup.byDecision().getOrDefault(r.code(), 0L)
          : decoded.byStatus().getOrDefault(r.code(), 0L));
    }
    for (String status : decoded.byStatus().keySet()) {
      if (!status.equals(SourceRecords.OK) && !quarantined.containsKey(status)) {
        throw new IllegalStateException("prep produced an unknown quarantine reason '" + status + "'");
      }
    }
    long quarantinedTotal = quarantined.values().stream().mapToLong(Long::longValue).sum();
    SparkJobs.describe(spark, "prep: write " + quarantinedTotal + " quarantine records");
    writeShards(quarantine, ImageSchema.QUARANTINE_SCHEMA, quarantinedTotal, shardRecords,
        new Column[] {col(ImageSchema.SOURCE_FILE), col(ImageSchema.SOURCE_ENTRY)}, writer.temp(RunLayout.QUARANTINE));
    decoded.records().unpersist();
    Map<String, Long> shardFiles = new LinkedHashMap<>();
    String[] imageColumns = Arrays.stream(ImageSchema.SCHEMA.fieldNames()).toArray(String[]::new);
    for (String split : SPLITS) {
      SparkJobs.describe(spark, "prep: write " + counts.written().get(split) + " " + split + " images");
      Dataset<Row> rows = counts.kept().filter(col(SourceRecords.SPLIT).equalTo(split)).select(columns(imageColumns));
      writeShards(rows, ImageSchema.SCHEMA, counts.written().get(split), shardRecords,
          new Column[] {col(ImageSchema.IMAGE_ID)}, writer.temp(split));
      shardFiles.put(split, countParts(fs, writer.temp(split)));
    }
    HadoopFiles.writeAtomically(fs, writer.temp(RunLayout.VOCABULARY_FILE), v.vocabulary().toJson());
    return new Written(quarantined, quarantinedTotal, shardFiles);
  }

  /** 5. Accounts for every record (in = written + quarantined + duplicates): the counts and the result to commit. */
  private StageOutput account(Validated v, Decoded decoded,
      Deduplicated dedup, SplitCounts counts, Written out, double readSeconds, double dedupSeconds, double seconds) {
    Map<String, Long> written = counts.written();
    long in = decoded.byStatus().values().stream().mapToLong(Long::longValue).sum();
    long duplicates = dedup.byDecision().getOrDefault("duplicate", 0L);
    long writtenTotal = written.values().stream().mapToLong(Long::longValue).sum();
    long quarantinedTotal = out.quarantinedTotal();
    if (in != writtenTotal + quarantinedTotal + duplicates) {
      throw new IllegalStateException("prep accounting does not add up: in " + in + " != written " + writtenTotal
          + " + quarantined " + quarantinedTotal + " + duplicates " + duplicates + " (a bug; nothing was committed)");
    }
    Map<String, Long> recordCounts = new LinkedHashMap<>();
    recordCounts.put("in", in);
    recordCounts.put("written", writtenTotal);
    written.forEach((s, n) -> recordCounts.put("written." + s, n));
    recordCounts.put("quarantined", quarantinedTotal);
    out.quarantined().forEach((r, n) -> recordCounts.put("quarantined." + r, n));
    recordCounts.put("duplicates", duplicates);
    recordCounts.put("tags.known", counts.tagsKnown());
    recordCounts.put("tags.unknown", counts.tagsUnknown());
    PrepResult result = new PrepResult(options.get(IMAGE_SIZE), options.get(CHANNELS), v.vocabulary().classes(),
        counts.perClass(), out.shardFiles(), Math.round(in / Math.max(seconds, 1e-9) * 10) / 10.0,
        Map.of("read", round1(readSeconds), "dedup_and_count", round1(dedupSeconds),
            "write", round1(seconds - readSeconds - dedupSeconds)),
        ratio(counts.unlabeledTagged(), written.get(SourceRecords.UNLABELED)),
        v.source().equals("idx") && v.simulator() != null
            ? ratio(counts.unlabeledTagHits(), counts.unlabeledWithLabel()) : null,
        v.input() instanceof FolderSource folder ? folder.ignoredFiles() : null);
    LOG.info(String.format(Locale.ROOT,
        "prep: in %,d = written %,d (labeled %,d, unlabeled %,d, test %,d) + quarantined %,d + duplicates %,d; "
            + "%.1f s, %,.0f images/s -> %s",
        in, writtenTotal, written.get(SourceRecords.LABELED), written.get(SourceRecords.UNLABELED),
        written.get(SourceRecords.TEST), quarantinedTotal, duplicates, seconds, in / Math.max(seconds, 1e-9),
        run.stagePath(id())));
    return new StageOutput(recordCounts, result);
  }

  /**
   * The records that are not kept, by {@code decided_key} (their record key): {@code decision} is
   * {@code duplicate} or {@code duplicate-id}, with a {@code decision_detail} naming the record kept.
   */
  static Dataset<Row> decisions(Dataset<Row> ok) {
    Column priority = when(col(SourceRecords.SPLIT).equalTo(SourceRecords.TEST), 0)
        .when(col(SourceRecords.SPLIT).equalTo(SourceRecords.UNLABELED), 2)
        .otherwise(1);
    Dataset<Row> keys = ok.select(col(SourceRecords.RECORD_KEY), col(ImageSchema.IMAGE_ID), col(ImageSchema.CONTENT_HASH),
        priority.as("priority"), concat_ws(" ", col(ImageSchema.SOURCE_FILE), col(ImageSchema.SOURCE_ENTRY)).as("origin"));
    WindowSpec byId = Window.partitionBy(ImageSchema.IMAGE_ID).orderBy(col("priority"), col(SourceRecords.RECORD_KEY));
    Dataset<Row> ranked = keys
        .withColumn("id_rank", row_number().over(byId))
        .withColumn("id_first_hash", first(col(ImageSchema.CONTENT_HASH)).over(byId))
        .withColumn("id_first_origin", first(col("origin")).over(byId));
    Column samePixels = col(ImageSchema.CONTENT_HASH).equalTo(col("id_first_hash"));
    Dataset<Row> idLosers = ranked.filter(col("id_rank").gt(1)).select(col(SourceRecords.RECORD_KEY).as("decided_key"),
        when(samePixels, lit("duplicate")).otherwise(lit(Reason.DUPLICATE_ID.code())).as("decision"),
        when(samePixels, concat(lit("same image id and pixels as "), col("id_first_origin")))
            .otherwise(concat(lit("image id is also used by "), col("id_first_origin"),
                lit(" with different pixels; that record was kept"))).as("decision_detail"));
    WindowSpec byHash = Window.partitionBy(ImageSchema.CONTENT_HASH)
        .orderBy(col("priority"), col(ImageSchema.IMAGE_ID), col(SourceRecords.RECORD_KEY));
    Dataset<Row> hashLosers = ranked.filter(col("id_rank").equalTo(1))
        .withColumn("hash_rank", row_number().over(byHash))
        .withColumn("hash_first_id", first(col(ImageSchema.IMAGE_ID)).over(byHash))
        .filter(col("hash_rank").gt(1))
        .select(col(SourceRecords.RECORD_KEY).as("decided_key"), lit("duplicate").as("decision"),
            concat(lit("same pixels as "), col("hash_first_id")).as("decision_detail"));
    return idLosers.unionByName(hashLosers);
  }

  /** idx: the {@code n} train images per class with the smallest seeded hash become labeled, the rest unlabeled. */
  static Dataset<Row> assignLabeledSubset(Dataset<Row> kept, int n) {
    WindowSpec byClass = Window.partitionBy(ImageSchema.LABEL).orderBy(col(SourceRecords.SELECT_KEY), col(ImageSchema.IMAGE_ID));
    Dataset<Row> labeledIds = kept.filter(col(SourceRecords.SPLIT).equalTo(SourceRecords.TRAIN))
        .select(col(ImageSchema.IMAGE_ID), col(ImageSchema.LABEL), col(SourceRecords.SELECT_KEY))
        .withColumn("class_rank", row_number().over(byClass))
        .filter(col("class_rank").leq(n))
        .select(col(ImageSchema.IMAGE_ID).as("labeled_id"));
    Dataset<Row> joined = kept.join(broadcast(labeledIds), kept.col(ImageSchema.IMAGE_ID).equalTo(col("labeled_id")), "left");
    Column split = when(col(SourceRecords.SPLIT).equalTo(SourceRecords.TRAIN),
        when(col("labeled_id").isNotNull(), lit(SourceRecords.LABELED)).otherwise(lit(SourceRecords.UNLABELED)))
        .otherwise(col(SourceRecords.SPLIT));
    return joined.withColumn(SourceRecords.SPLIT, split).drop("labeled_id");
  }

  /**
   * Writes rows as Parquet with exactly {@code schema}: hash-partitioned by {@code by} into
   * ceil(rows / shardRecords) files, sorted within each file, so the files do not depend on how the
   * input was partitioned.
   */
  private static void writeShards(Dataset<Row> rows, StructType schema, long count, int shardRecords, Column[] by, Path dir) {
    int files = (int) Math.max(1, Math.min(100_000, (count + shardRecords - 1) / shardRecords));
    Dataset<Row> ordered = rows.select(columns(schema.fieldNames()))
        .repartition(files, by)
        .sortWithinPartitions(sortColumns(schema, by));
    // The identity map re-types the rows with the declared schema, nullability included.
    ordered.map((MapFunction<Row, Row>) r -> r, Encoders.row(schema))
        .write()
        .option("maxRecordsPerFile", shardRecords)
        .parquet(dir.toString());
    if (count == 0) {
      // An empty result may be written as no file at all (adaptive execution drops empty partitions);
      // one empty file keeps the schema readable without Spark and without a schema hint.
      try {
        if (countParts(dir.getFileSystem(rows.sparkSession().sparkContext().hadoopConfiguration()), dir) == 0) {
          rows.sparkSession().createDataFrame(List.<Row>of(), schema).write().mode(SaveMode.Overwrite).parquet(dir.toString());
        }
      } catch (IOException e) {
        throw new UncheckedIOException("cannot list " + dir + ": " + e.getMessage(), e);
      }
    }
  }

  private static Column[] sortColumns(StructType schema, Column[] by) {
    List<Column> out = new ArrayList<>(Arrays.asList(by));
    // Ties are possible only in the quarantine (e.g. two unsafe entries with one name): sort by all columns.
    for (String f : schema.fieldNames()) {
      if (schema.apply(f).dataType() instanceof org.apache.spark.sql.types.AtomicType
          && !(schema.apply(f).dataType() instanceof org.apache.spark.sql.types.BinaryType)) {
        out.add(col(f));
      }
    }
    return out.toArray(new Column[0]);
  }

  private static Column[] columns(String[] names) {
    return Arrays.stream(names).map(org.apache.spark.sql.functions::col).toArray(Column[]::new);
  }

  private static long countParts(FileSystem fs, Path dir) {
    try {
      long n = 0;
      for (FileStatus st : fs.listStatus(dir)) {
        if (st.getPath().getName().startsWith("part-")) {
          n++;
        }
      }
      return n;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list " + dir + ": " + e.getMessage(), e);
    }
  }


  private static double round1(double x) {
    return Math.round(x * 10) / 10.0;
  }

  private static double ratio(long a, long b) {
    return b == 0 ? 0.0 : Math.round(1e6 * a / (double) b) / 1e6;
  }

}
