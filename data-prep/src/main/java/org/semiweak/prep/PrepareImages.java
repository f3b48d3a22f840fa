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
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.function.MapFunction;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.expressions.Window;
import org.apache.spark.sql.expressions.WindowSpec;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;
import org.apache.spark.util.LongAccumulator;
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
import org.semiweak.prep.source.Metadata;
import org.semiweak.prep.source.ReadCounters;
import org.semiweak.prep.source.SplitRule;
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
import org.semiweak.util.Json;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The data-prep stage: weakly labeled raw images to canonical Parquet image shards.
 *
 * <p>Reads one input ({@code source}, {@code input}, ...) or several ({@code inputs}, see {@link
 * PrepInput}), each of one source kind ({@code idx}, {@code folder} or {@code webdataset}, see the
 * classes in {@link org.semiweak.prep.source}), decodes and canonicalizes every image on Spark executors
 * ({@link org.semiweak.prep.image.ImageCodec}), maps tags through the vocabulary, removes exact
 * duplicates, and writes under the stage folder {@code prep/}:
 *
 * <ul>
 *   <li>{@code labeled/}, {@code unlabeled/}, {@code validation/} (possibly empty), {@code test/}: Parquet with exactly
 *       {@link ImageSchema#SCHEMA}, hash-partitioned by image id into files of about
 *       {@code shard-records} rows, sorted by image id within each file;
 *   <li>{@code quarantine/}: Parquet with {@link ImageSchema#QUARANTINE_SCHEMA}, one row per
 *       rejected record and its {@link Reason};
 *   <li>{@code duplicates/}: Parquet with {@link ImageSchema#DUPLICATES_SCHEMA}, one row per exact
 *       duplicate dropped, with the image id it duplicated;
 *   <li>{@code vocabulary.json}: the effective vocabulary.
 * </ul>
 *
 * <p>Deduplication, across inputs, deterministic and independent of partitioning: among records with
 * the same image id, the first by (split priority, input, record position) is kept; the others are
 * {@code duplicates} when their pixels are equal, else quarantined as {@code duplicate-id}. Among the
 * remaining images with equal content hash, the first by (split priority, input, record position)
 * is kept and the others are {@code duplicates}. Split priority is test, then validation, then labeled
 * (and idx train), then unlabeled, so a train copy of a test or validation image is dropped and the
 * held-out sets do not leak;
 * then the input listed first, then reading order (metadata line, tar and entry), so the first copy
 * read is the one kept. Every duplicate dropped is written to {@code duplicates/}.
 *
 * <p>idx source (the Fashion-MNIST demo): after deduplication, the labeled subset is the
 * {@code labeled-per-class} train images of each class with the smallest seeded hash of their id;
 * the next {@code validation-per-class} (default 0) of each class in the same order form the
 * {@code validation} split (so the labeled subset does not depend on that option); the other train
 * images are {@code unlabeled} and keep their true {@code label} (for measuring pseudo-label
 * precision; training never reads it). All train images, labeled, validation and unlabeled, carry
 * simulated tags ({@link TagSimulator}; validation images keep theirs, no stage reads them); test
 * images carry none.
 *
 * <p>The manifest is the result: counts {@code in = written + quarantined + duplicates}, with
 * {@code written.<split>}, {@code quarantined.<reason>}, {@code tags.known}, {@code tags.unknown}
 * (tags of written images that the vocabulary maps, or not), {@code skipped-files} (files of the
 * inputs that hold no data); the typed {@link PrepResult} with per-class counts per split, tag
 * coverage, the same accounting per input (checked per input too), and for idx the measured
 * simulated tag accuracy. {@link PrepSummary} prints it at the end and in {@code semiweak status}.
 *
 * <p>With several inputs, a vocabulary class that no labeled image has is refused (a header line
 * read as a class, a class list of another data set); so is a labeled folder input whose metadata
 * names a label the vocabulary does not have, before any Spark job.
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
      "input folder (any Hadoop file system URI): IDX files, an image folder, or .tar shards; required unless"
          + " 'inputs' lists the inputs").optional();
  public static final OptionSpec<String> METADATA = OptionSpec.stringOption("metadata", "none",
      "folder source: metadata file, .csv (header path,tags,label,split) or .jsonl; none = every image is unlisted");
  public static final OptionSpec<String> VOCABULARY = OptionSpec.stringOption("vocabulary", FashionMnistVocabulary.BUILTIN,
      "tag vocabulary: a .csv of tag,class lines (a header such as tag,class_name is recognized), or a .json/.yaml "
          + "document {classes, tags}; " + FashionMnistVocabulary.BUILTIN
          + " = the ten Fashion-MNIST classes with several hashtags each");
  public static final OptionSpec<String> VOCABULARY_HEADER = OptionSpec.choiceOption("vocabulary-header", "auto",
      List.of("auto", "yes", "no"), "vocabulary .csv: is the first line a header? auto = when its fields are column "
          + "names like tag/hashtag and class/class_name/label (never a class)");
  public static final OptionSpec<List<Map<String, Object>>> INPUTS = OptionSpec.mappingListOption("inputs",
      "several inputs in one prep instead of source/input/metadata: a list of {source: folder|webdataset, path, "
          + "split or split-column, metadata, default-split, unlisted-files, name}; see 'Inputs and formats' below");
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
  public static final OptionSpec<Integer> VALIDATION_PER_CLASS = OptionSpec.intOption("validation-per-class", 0, 0,
      1_000_000_000, "idx source: train images per class, drawn after the labeled ones (which do not change), that "
          + "form the validation split: labeled, never trained on, evaluated besides test; removed from unlabeled");
  public static final OptionSpec<Boolean> SIMULATE_TAGS = OptionSpec.boolOption("simulate-tags", true,
      "idx source: give every train image one simulated hashtag (false: no tags)");
  public static final OptionSpec<Double> SIMULATE_TAGS_ACCURACY = OptionSpec.doubleOption("simulate-tags-accuracy", 0.6,
      0, 1, "idx source: probability that the simulated hashtag names the true class (else a random other class)");
  public static final OptionSpec<Double> SIMULATE_NOISE_TAGS = OptionSpec.doubleOption("simulate-noise-tags", 0.2, 0, 1,
      "idx source: probability of an extra off-vocabulary hashtag such as #ootd (ignored by the vocabulary)");
  public static final OptionSpec<String> DEFAULT_SPLIT = OptionSpec.choiceOption("default-split", SourceRecords.UNLABELED,
      SPLITS, "folder/webdataset sources: split of records whose metadata names none (a .csv with a label column "
          + "and no split column needs it set explicitly)");
  public static final OptionSpec<String> UNLISTED_FILES = OptionSpec.choiceOption("unlisted-files", "quarantine",
      List.of("quarantine", "unlabeled"),
      "folder source: image files without a metadata row are quarantined (no-metadata) or become unlabeled without tags");

  public static final List<OptionSpec<?>> OPTIONS = List.of(SOURCE, INPUT, METADATA, INPUTS, VOCABULARY,
      VOCABULARY_HEADER, IMAGE_SIZE, CHANNELS, MAX_IMAGE_PIXELS, MAX_FILE_BYTES, SHARD_RECORDS, PARTITIONS, SEED,
      ID_PREFIX, LABELED_PER_CLASS, VALIDATION_PER_CLASS, SIMULATE_TAGS, SIMULATE_TAGS_ACCURACY, SIMULATE_NOISE_TAGS, DEFAULT_SPLIT,
      UNLISTED_FILES);

  private static final List<OptionSpec<?>> IDX_ONLY = List.of(ID_PREFIX, LABELED_PER_CLASS, VALIDATION_PER_CLASS,
      SIMULATE_TAGS,
      SIMULATE_TAGS_ACCURACY, SIMULATE_NOISE_TAGS);
  private static final List<OptionSpec<?>> FOLDER_ONLY = List.of(METADATA, UNLISTED_FILES);
  private static final List<OptionSpec<?>> FOLDER_OR_WEBDATASET = List.of(DEFAULT_SPLIT);
  /** The single-source options that {@code inputs} replaces. */
  private static final List<OptionSpec<?>> SINGLE_SOURCE = List.of(SOURCE, INPUT, METADATA, DEFAULT_SPLIT,
      UNLISTED_FILES);

  private final RunDir run;
  private final Options options;
  private Validated validated;

  /** An input and the source that reads it. */
  private record ReadInput(PrepInput spec, ImageSource source) {}

  /** What {@link #validate()} found: the inputs and their sources, the vocabulary, the idx settings. */
  private record Validated(List<ReadInput> inputs, boolean severalInputs, Vocabulary vocabulary, String vocabularyPath,
      String idPrefix, TagSimulator simulator) {
    boolean idx() {
      return !severalInputs && inputs.get(0).spec().source().equals("idx");
    }

    String sourceKinds() {
      return String.join("+", inputs.stream().map(i -> i.spec().source()).distinct().toList());
    }
  }

  public PrepareImages(RunDir run, Options options) {
    this.run = run;
    this.options = options;
  }

  @Override
  public StageId id() {
    return RunLayout.prep();
  }

  /** Checks options and inputs (existence, headers, vocabulary, labels of labeled inputs); no Spark job. */
  @Override
  public synchronized void validate() {
    if (validated != null) {
      return;
    }
    int channels = options.get(CHANNELS);
    if (channels == 2) {
      throw new ConfigException("prep.channels: expected 1 (gray) or 3 (RGB), found '2'");
    }
    boolean several = !options.get(INPUTS).isEmpty();
    String source = several ? null : options.get(SOURCE);
    List<OptionSpec<?>> notFor = new ArrayList<>();
    if (several) {
      for (OptionSpec<?> spec : SINGLE_SOURCE) {
        if (options.isSet(spec)) {
          throw new ConfigException("prep." + spec.key() + ": with 'inputs' each input sets its own source, path, "
              + "metadata and split; remove prep." + spec.key() + " or move it into an input");
        }
      }
      notFor.addAll(IDX_ONLY);
    } else {
      if (!source.equals("idx")) {
        notFor.addAll(IDX_ONLY);
      }
      if (!source.equals("folder")) {
        notFor.addAll(FOLDER_ONLY);
      }
      if (source.equals("idx")) {
        notFor.addAll(FOLDER_OR_WEBDATASET);
      }
    }
    for (OptionSpec<?> spec : notFor) {
      Object v = options.getOrNull(spec);
      if (v != null && !v.equals(spec.defaultValue())) {
        throw new ConfigException("prep." + spec.key() + ": applies to another source than '"
            + (several ? "folder or webdataset inputs" : source) + "' (" + spec.doc() + "); remove it"
            + (several ? "" : " or change 'source'"));
      }
    }
    String idPrefix = options.get(ID_PREFIX);
    if (!idPrefix.equals("auto") && !idPrefix.matches("[A-Za-z0-9][A-Za-z0-9._-]*")) {
      throw new ConfigException("prep.id-prefix: expected letters, digits, '.', '_' or '-', found '" + idPrefix + "'");
    }
    Configuration conf = run.fs().getConf();
    String vocabularyOption = options.get(VOCABULARY);
    Vocabulary vocabulary = loadVocabulary(vocabularyOption, options.get(VOCABULARY_HEADER), conf);
    TagSimulator simulator = null;
    List<PrepInput> specs;
    if (several) {
      specs = PrepInput.parseList(options.get(INPUTS));
    } else {
      String metadata = options.get(METADATA);
      specs = List.of(PrepInput.single(source, options.get(INPUT), metadata.equals("none") ? null : metadata,
          options.get(DEFAULT_SPLIT), options.get(UNLISTED_FILES).equals("unlabeled")));
    }
    List<ReadInput> inputs = new ArrayList<>();
    for (PrepInput spec : specs) {
      Path inputPath = new Path(spec.path());
      FileSystem fs = fileSystem(inputPath, conf);
      ImageSource src;
      switch (spec.source()) {
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
          if (!spec.hasMetadata() && !spec.unlistedAsUnlabeled()) {
            throw new ConfigException("prep.metadata: the folder source needs a metadata file (.csv or .jsonl); "
                + "without one every image would be quarantined as no-metadata. Set 'metadata', or set "
                + "unlisted-files: unlabeled to take every image as unlabeled without tags");
          }
          src = new FolderSource(fs, inputPath, spec.hasMetadata() ? new Path(spec.metadata()) : null,
              spec.splitRule(), spec.unlistedAsUnlabeled());
        }
        case "webdataset" -> src = new WebDatasetSource(fs, inputPath, spec.splitRule());
        default -> throw new ConfigException(spec.scope() + ".source: unknown source '" + spec.source() + "'");
      }
      src.inspect();
      if (src instanceof FolderSource folder && folder.metadata() != null) {
        checkSplitColumn(spec, folder.metadata());
      }
      inputs.add(new ReadInput(spec, src));
    }
    if (several) {
      checkLabelsOfLabeledInputs(inputs, vocabulary, conf);
    }
    validated = new Validated(List.copyOf(inputs), several, vocabulary, vocabularyOption, idPrefix, simulator);
  }

  /**
   * A metadata .csv without the split column would send every row to one split: refused where that
   * cannot be what is meant (rows with labels, and nobody said where they go).
   */
  private void checkSplitColumn(PrepInput spec, Metadata md) {
    if (!md.isCsv() || spec.splitRule().forced() != null) {
      return;
    }
    String column = spec.splitRule().column();
    if (md.columns().contains(column.toLowerCase(Locale.ROOT))) {
      return;
    }
    if (spec.prefixIds()) {
      if (spec.splitRule().defaultSplit() != null) {
        return;
      }
      throw new ConfigException(spec.scope() + ".split-column: " + spec.metadata() + " has no column '" + column
          + "' (its columns: " + md.columns() + "); name an existing column, give the input a 'split', or a "
          + "'default-split'");
    }
    if (md.columns().contains("label") && !options.isSet(DEFAULT_SPLIT)) {
      throw new ConfigException("prep.metadata: " + spec.metadata() + " has a 'label' column but no '" + column
          + "' column, so every row would go to the default split '" + options.get(DEFAULT_SPLIT)
          + "' and none would be labeled or test. Add a split column (labeled, unlabeled, validation or test), set "
          + "default-split explicitly, or list the labeled and unlabeled images as separate 'inputs', each with its "
          + "own split");
    }
  }

  /**
   * With several inputs, the labels in the metadata of labeled folder inputs ({@code split: labeled})
   * must be classes of the vocabulary, and, when every input that may hold labeled images is such an
   * input, every class needs a labeled image. Read on the driver: labeled sets are small; the metadata
   * of other inputs (a split column may list billions of unlabeled rows) is not read here, and
   * {@link #checkClasses} checks the classes after reading instead.
   */
  private static void checkLabelsOfLabeledInputs(List<ReadInput> inputs, Vocabulary vocabulary, Configuration conf) {
    Map<String, Long> labels = new TreeMap<>();
    boolean allKnown = true;
    boolean anyLabeled = false;
    for (ReadInput in : inputs) {
      SplitRule rule = in.spec().splitRule();
      boolean mayHoldLabeled = rule.forced() == null || rule.forced().equals(SourceRecords.LABELED);
      if (!mayHoldLabeled) {
        continue;
      }
      anyLabeled = true;
      if (rule.forced() == null || !(in.source() instanceof FolderSource folder) || folder.metadata() == null) {
        allKnown = false;
        continue;
      }
      Path p = new Path(in.spec().metadata());
      folder.metadata().labelsOf(fileSystem(p, conf), p, SourceRecords.LABELED).forEach((l, n) -> labels.merge(l, n, Long::sum));
    }
    if (!anyLabeled) {
      return;
    }
    Map<String, Long> unknown = new TreeMap<>();
    Set<Integer> seen = new TreeSet<>();
    labels.forEach((label, n) -> {
      Integer c = Metadata.classIndex(label, vocabulary);
      if (c == null) {
        unknown.put(label, n);
      } else {
        seen.add(c);
      }
    });
    List<String> withoutLabels = new ArrayList<>();
    for (int c = 0; c < vocabulary.numClasses(); c++) {
      if (!seen.contains(c)) {
        withoutLabels.add(vocabulary.classes().get(c));
      }
    }
    if (!unknown.isEmpty() || (allKnown && !withoutLabels.isEmpty())) {
      throw new ConfigException(classMismatch(vocabulary, unknown, allKnown ? withoutLabels : List.of()));
    }
  }

  /** The message of a vocabulary that does not match the labeled set, naming the difference both ways. */
  static String classMismatch(Vocabulary vocabulary, Map<String, Long> unknownLabels, List<String> classesWithoutLabels) {
    StringBuilder sb = new StringBuilder("prep.vocabulary: its classes do not match the labeled set's labels:");
    if (!unknownLabels.isEmpty()) {
      sb.append(" labels not in the vocabulary (with their labeled rows): ").append(unknownLabels).append(';');
    }
    if (!classesWithoutLabels.isEmpty()) {
      sb.append(" vocabulary classes without a labeled image: ").append(classesWithoutLabels).append(';');
    }
    sb.append(" the vocabulary's ").append(vocabulary.numClasses()).append(" classes are ").append(vocabulary.classes())
        .append(". Fix the vocabulary (a header line read as a mapping becomes a class: see vocabulary-header) or the "
            + "labels");
    return sb.toString();
  }

  private static FileSystem fileSystem(Path p, Configuration conf) {
    try {
      return p.getFileSystem(conf);
    } catch (IOException e) {
      throw new ConfigException("prep.input: cannot open the file system of " + p + ": " + e.getMessage());
    }
  }

  /** Loads the vocabulary option: the built-in one, a tag,class CSV, or a JSON or YAML document. */
  static Vocabulary loadVocabulary(String option, String header, Configuration conf) {
    if (option.equals(FashionMnistVocabulary.BUILTIN)) {
      return FashionMnistVocabulary.vocabulary();
    }
    Path p = new Path(option);
    String text;
    try {
      FileSystem fs = p.getFileSystem(conf);
      if (!fs.exists(p)) {
        throw new ConfigException("prep.vocabulary: " + p + " does not exist; give a .csv, .json or .yaml vocabulary, or "
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
      if (name.endsWith(".csv")) {
        return Vocabulary.fromTagCsv(text, null, Vocabulary.Header.valueOf(header.toUpperCase(Locale.ROOT)));
      }
      if (name.endsWith(".json") || name.endsWith(".yaml") || name.endsWith(".yml")) {
        Object doc = (name.endsWith(".json") ? Json.MAPPER : Json.YAML).readValue(text, Object.class);
        return Vocabulary.fromDocument(doc);
      }
    } catch (IOException e) {
      throw new ConfigException("prep.vocabulary: " + p + " is not valid " + (name.endsWith(".json") ? "JSON" : "YAML")
          + ": " + e.getMessage().split("\n")[0]);
    } catch (IllegalArgumentException e) {
      throw new ConfigException("prep.vocabulary: " + p + ": " + e.getMessage());
    }
    throw new ConfigException("prep.vocabulary: " + p + " must end in .csv (tag,class lines), .json or .yaml "
        + "(a document {classes: [...], tags: {tag: class}})");
  }

  @Override
  public StagePlan plan(Upstream upstream) {
    validate();
    Map<String, Object> effective = new TreeMap<>(options.effective());
    if (validated.idx()) {
      effective.put(ID_PREFIX.key(), validated.idPrefix());
    }
    if (options.get(VALIDATION_PER_CLASS) == 0) {
      // Added after runs existed: without a validation split, a prep keeps the fingerprint it had before.
      effective.remove(VALIDATION_PER_CLASS.key());
    }
    StagePlan.Builder m = StagePlan.builder(id(), effective);
    for (ReadInput in : validated.inputs()) {
      for (ImageSource.InputFingerprint f : in.source().inspect()) {
        // One input keeps the names it always had (input, metadata); several are told apart by name.
        m.input(validated.severalInputs() ? f.name() + ":" + in.spec().name() : f.name(), f.path(), f.fingerprint());
      }
    }
    m.input("vocabulary", validated.vocabularyPath(), Fingerprint.of(validated.vocabulary().toJson()));
    return m.publishes(new Publication.Images(options.get(IMAGE_SIZE), options.get(CHANNELS),
        validated.vocabulary().classes())).build();
  }

  /** The effective options that apply to this prep's inputs: what the log shows (the manifest keeps all). */
  Map<String, Object> applicableOptions(Map<String, Object> effective) {
    validate();
    Map<String, Object> out = new TreeMap<>(effective);
    List<OptionSpec<?>> drop = new ArrayList<>();
    if (validated.severalInputs()) {
      drop.addAll(SINGLE_SOURCE);
    } else {
      drop.add(INPUTS);
      String source = validated.inputs().get(0).spec().source();
      if (!source.equals("folder")) {
        drop.addAll(FOLDER_ONLY);
      }
      if (source.equals("idx")) {
        drop.addAll(FOLDER_OR_WEBDATASET);
      }
    }
    if (!validated.idx()) {
      drop.addAll(IDX_ONLY);
      drop.add(SEED);
    }
    if (validated.vocabularyPath().equals(FashionMnistVocabulary.BUILTIN)
        || !validated.vocabularyPath().toLowerCase(Locale.ROOT).endsWith(".csv")) {
      drop.add(VOCABULARY_HEADER);
    }
    drop.forEach(spec -> out.remove(spec.key()));
    return out;
  }

  @Override
  public StageOutput execute(SparkSession spark, StagePlan plan, StageWriter writer) {
    validate();
    long started = System.nanoTime();
    Validated v = validated;
    PrepSettings settings = new PrepSettings(options.get(IMAGE_SIZE), options.get(CHANNELS),
        options.get(MAX_IMAGE_PIXELS), options.get(MAX_FILE_BYTES), options.get(SEED), v.vocabulary(),
        v.idPrefix(), v.simulator(), new HadoopConf(spark.sparkContext().hadoopConfiguration()));
    for (ReadInput in : v.inputs()) {
      PrepInput spec = in.spec();
      LOG.info("prep: input {} ({} from {}{}, split {})", spec.name(), spec.source(), spec.path(),
          spec.hasMetadata() ? ", metadata " + spec.metadata() : "", describe(spec.splitRule()));
    }
    LOG.info("prep: image {}x{}x{}, vocabulary {} ({} classes: {}; {} tags), options {}",
        settings.imageSize(), settings.imageSize(), settings.channels(), v.vocabularyPath(),
        v.vocabulary().numClasses(), v.vocabulary().classes(), v.vocabulary().tagToClass().size(),
        applicableOptions(plan.options()));

    List<Dataset<Row>> cached = new ArrayList<>();
    try {
      Decoded decoded = readAndDecode(spark, v, settings, cached);
      double readSeconds = (System.nanoTime() - started) / 1e9;
      Deduplicated dedup = deduplicate(spark, decoded, cached);
      SplitCounts counts = assignSplitsAndCount(spark, v, dedup, cached);
      checkClasses(v, counts);
      double dedupSeconds = (System.nanoTime() - started) / 1e9 - readSeconds;
      Written written = write(spark, writer, v, decoded, dedup, counts);
      double seconds = (System.nanoTime() - started) / 1e9;
      return account(v, decoded, dedup, counts, written, readSeconds, dedupSeconds, seconds);
    } finally {
      cached.forEach(Dataset::unpersist);
    }
  }

  private static String describe(SplitRule rule) {
    if (rule.forced() != null) {
      return rule.forced();
    }
    return "from column '" + rule.column() + "'" + (rule.defaultSplit() == null ? "" : ", else " + rule.defaultSplit());
  }

  /**
   * Phase 1: every row of every input read and decoded once ({@code cached}), the records among them
   * (skipped files are no records), counts by input and status, the skipped files listed per input.
   */
  private record Decoded(Dataset<Row> cached, Dataset<Row> records, Map<String, Long> byStatus,
      Map<Integer, Map<String, Long>> byInput, Map<Integer, List<String>> skipped) {
    long skippedFiles(int input) {
      return byInput.getOrDefault(input, Map.of()).getOrDefault(SourceRecords.SKIPPED, 0L);
    }
  }

  /** Phase 2: the decoded images, the duplicate decisions (cached) and their counts, the images kept. */
  private record Deduplicated(Dataset<Row> ok, Dataset<Row> decisions, Map<String, Long> byDecision,
      Map<Integer, Map<String, Long>> byInput, Dataset<Row> kept) {}

  /** Phase 3: the kept images with their final split (cached), counted per split and class (and per input). */
  private record SplitCounts(Dataset<Row> kept, Map<String, Long> written, Map<String, Map<String, Long>> perClass,
      Map<Integer, Map<String, Long>> writtenByInput, long tagsKnown, long tagsUnknown, long unlabeledTagHits,
      long unlabeledWithLabel, long unlabeledTagged) {}

  /** Phase 4: what the quarantine holds by reason, and the shard files of each split. */
  private record Written(Map<String, Long> quarantined, long quarantinedTotal, Map<String, Long> shardFiles) {}

  /** Skipped files listed per input in the result (all are counted). */
  private static final int SKIPPED_LISTED = 20;

  /** 1. Reads and decodes every record of every input once; everything after works on the cached rows. */
  private Decoded readAndDecode(SparkSession spark, Validated v, PrepSettings settings, List<Dataset<Row>> cached) {
    long expectedRecords = 0;
    long expectedBytes = 0;
    for (ReadInput in : v.inputs()) {
      long r = in.source().expectedRecords();
      long b = in.source().expectedBytes();
      expectedRecords = expectedRecords < 0 || r < 0 ? -1 : expectedRecords + r;
      expectedBytes = expectedBytes < 0 || b < 0 ? -1 : expectedBytes + b;
    }
    try (SparkProgress progress = new SparkProgress(spark, "prep read " + v.sourceKinds(), expectedRecords,
        expectedBytes)) {
      ReadCounters counters = new ReadCounters(progress.accumulator(), progress.bytes());
      Dataset<Row> all = null;
      for (ReadInput in : v.inputs()) {
        Dataset<Row> rows = spark.createDataFrame(in.source().candidates(spark, settings, options.get(PARTITIONS),
            counters), SourceRecords.SCHEMA);
        rows = ofInput(rows, in.spec());
        all = all == null ? rows : all.unionByName(rows);
      }
      all = all.persist(StorageLevel.MEMORY_AND_DISK());
      cached.add(all);
      SparkJobs.describe(spark, "prep: read and decode " + v.inputs().size() + " input(s): " + String.join(", ",
          v.inputs().stream().map(i -> i.spec().name() + " (" + i.spec().source() + " " + i.spec().path() + ")").toList()));
      Map<String, Long> byStatus = new TreeMap<>();
      Map<Integer, Map<String, Long>> byInput = new TreeMap<>();
      for (Row r : all.groupBy(SourceRecords.INPUT, SourceRecords.STATUS).count().collectAsList()) {
        byInput.computeIfAbsent(r.getInt(0), k -> new TreeMap<>()).put(r.getString(1), r.getLong(2));
        if (!r.getString(1).equals(SourceRecords.SKIPPED)) {
          byStatus.merge(r.getString(1), r.getLong(2), Long::sum);
        }
      }
      Map<Integer, List<String>> skipped = new TreeMap<>();
      for (Row r : all.filter(col(SourceRecords.STATUS).equalTo(SourceRecords.SKIPPED))
          .select(SourceRecords.INPUT, ImageSchema.SOURCE_FILE).orderBy(SourceRecords.INPUT, ImageSchema.SOURCE_FILE)
          .limit(SKIPPED_LISTED * v.inputs().size()).collectAsList()) {
        List<String> list = skipped.computeIfAbsent(r.getInt(0), k -> new ArrayList<>());
        if (list.size() < SKIPPED_LISTED) {
          list.add(r.getString(1));
        }
      }
      Dataset<Row> records = all.filter(col(SourceRecords.STATUS).notEqual(SourceRecords.SKIPPED));
      return new Decoded(all, records, byStatus, byInput, skipped);
    }
  }

  /**
   * The rows of one input, marked with its index; record keys made unique across inputs; with several
   * inputs, image ids and source files start with the input's name so that equal relative paths of
   * two inputs stay apart.
   */
  private static Dataset<Row> ofInput(Dataset<Row> rows, PrepInput spec) {
    Dataset<Row> out = rows.withColumn(SourceRecords.INPUT, lit(spec.index()))
        .withColumn(SourceRecords.RECORD_KEY, concat(lit(String.format(Locale.ROOT, "%04d/", spec.index())),
            col(SourceRecords.RECORD_KEY)));
    if (spec.prefixIds()) {
      String prefix = spec.name() + "/";
      out = out.withColumn(ImageSchema.IMAGE_ID, concat(lit(prefix), col(ImageSchema.IMAGE_ID)))
          .withColumn(ImageSchema.SOURCE_FILE, when(col(SourceRecords.STATUS).equalTo(SourceRecords.SKIPPED),
              col(ImageSchema.SOURCE_FILE)).otherwise(concat(lit(prefix), col(ImageSchema.SOURCE_FILE))));
    }
    return out;
  }

  /** 2. Deduplicates the decoded images by image id, then by content, across inputs. */
  private static Deduplicated deduplicate(SparkSession spark, Decoded decoded, List<Dataset<Row>> cached) {
    long images = decoded.byStatus().getOrDefault(SourceRecords.OK, 0L);
    LOG.info(String.format(Locale.ROOT, "prep: deduplicating %,d decoded images by image id, then by pixels "
        + "(kept: test before validation before labeled before unlabeled, then the input listed first, then the first read)", images));
    long t0 = System.nanoTime();
    SparkJobs.describe(spark, "prep: find duplicate ids and duplicate pixels among " + images + " images");
    Dataset<Row> ok = decoded.records().filter(col(SourceRecords.STATUS).equalTo(SourceRecords.OK));
    Dataset<Row> decisions = decisions(ok).persist(StorageLevel.MEMORY_AND_DISK());
    cached.add(decisions);
    Map<String, Long> byDecision = new TreeMap<>();
    Map<Integer, Map<String, Long>> byInput = new TreeMap<>();
    for (Row r : decisions.groupBy("decided_input", "decision").count().collectAsList()) {
      byDecision.merge(r.getString(1), r.getLong(2), Long::sum);
      byInput.computeIfAbsent(r.getInt(0), k -> new TreeMap<>()).put(r.getString(1), r.getLong(2));
    }
    Dataset<Row> kept = ok.join(decisions, ok.col(SourceRecords.RECORD_KEY).equalTo(decisions.col("decided_key")),
        "left_anti");
    LOG.info(String.format(Locale.ROOT, "prep: deduplicated in %.1f s: %,d exact duplicates, %,d duplicate ids "
        + "with other pixels", (System.nanoTime() - t0) / 1e9, byDecision.getOrDefault(DUPLICATE, 0L),
        byDecision.getOrDefault(Reason.DUPLICATE_ID.code(), 0L)));
    return new Deduplicated(ok, decisions, byDecision, byInput, kept);
  }

  /** The decision of a dropped exact duplicate. */
  private static final String DUPLICATE = "duplicate";

  /**
   * 3. Draws the labeled subset (idx; other sources and the simulated tags decided their split while
   * reading), caches the kept images and counts what will be written per split and class.
   */
  private SplitCounts assignSplitsAndCount(SparkSession spark, Validated v, Deduplicated dedup,
      List<Dataset<Row>> cached) {
    Dataset<Row> kept = dedup.kept();
    if (v.idx()) {
      kept = assignLabeledSubset(kept, options.get(LABELED_PER_CLASS), options.get(VALIDATION_PER_CLASS));
    }
    kept = kept.persist(StorageLevel.MEMORY_AND_DISK());
    cached.add(kept);

    LOG.info("prep: counting images per split, class and input");
    SparkJobs.describe(spark, "prep: count images per split and class");
    Map<String, Long> written = new LinkedHashMap<>();
    Map<String, Map<String, Long>> perClass = new LinkedHashMap<>();
    SPLITS.forEach(s -> {
      written.put(s, 0L);
      perClass.put(s, new LinkedHashMap<>());
    });
    Map<Integer, Map<String, Long>> writtenByInput = new TreeMap<>();
    long tagsKnown = 0;
    long tagsUnknown = 0;
    long unlabeledTagHits = 0;
    long unlabeledWithLabel = 0;
    long unlabeledTagged = 0;
    List<Row> agg = kept.groupBy(SourceRecords.SPLIT, ImageSchema.LABEL, SourceRecords.INPUT)
        .agg(count(lit(1)).as("n"),
            sum(size(col(ImageSchema.TAGS)).minus(col(SourceRecords.TAGS_UNKNOWN))).as("known"),
            sum(col(SourceRecords.TAGS_UNKNOWN)).as("unknown"),
            sum(when(array_contains(col(ImageSchema.TAG_CLASSES), col(ImageSchema.LABEL)), 1).otherwise(0)).as("hits"),
            sum(when(size(col(ImageSchema.TAG_CLASSES)).gt(0), 1).otherwise(0)).as("tagged"))
        .orderBy(SourceRecords.SPLIT, ImageSchema.LABEL, SourceRecords.INPUT)
        .collectAsList();
    for (Row r : agg) {
      String split = r.getString(0);
      long n = r.getLong(3);
      if (!written.containsKey(split)) {
        throw new IllegalStateException("prep produced images of unexpected split '" + split + "'");
      }
      written.merge(split, n, Long::sum);
      writtenByInput.computeIfAbsent(r.getInt(2), k -> new LinkedHashMap<>()).merge(split, n, Long::sum);
      String cls = r.isNullAt(1) ? PrepSummary.NO_LABEL : v.vocabulary().classes().get(r.getInt(1));
      perClass.get(split).merge(cls, n, Long::sum);
      tagsKnown += r.getLong(4);
      tagsUnknown += r.getLong(5);
      if (split.equals(SourceRecords.UNLABELED)) {
        unlabeledTagged += r.getLong(7);
        if (!r.isNullAt(1)) {
          unlabeledWithLabel += n;
          unlabeledTagHits += r.getLong(6);
        }
      }
    }
    return new SplitCounts(kept, written, perClass, writtenByInput, tagsKnown, tagsUnknown, unlabeledTagHits,
        unlabeledWithLabel, unlabeledTagged);
  }

  /**
   * A vocabulary class without any labeled image cannot be learned from the labeled set: with
   * several inputs it is refused before anything is written (the usual cause is a header line or a
   * class list of another data set); with one input it is a warning, as it always was.
   */
  private void checkClasses(Validated v, SplitCounts counts) {
    if (counts.written().get(SourceRecords.LABELED) == 0) {
      return;
    }
    List<String> without = classesWithoutLabeledImages(v.vocabulary().classes(), counts.perClass());
    if (without.isEmpty()) {
      return;
    }
    if (v.severalInputs()) {
      throw new ConfigException(classMismatch(v.vocabulary(), Map.of(), without) + "; nothing was written");
    }
    LOG.warn("prep: vocabulary classes without a labeled image: {} (the vocabulary's classes: {})", without,
        v.vocabulary().classes());
  }

  static List<String> classesWithoutLabeledImages(List<String> classes, Map<String, Map<String, Long>> perClass) {
    Map<String, Long> labeled = perClass.getOrDefault(SourceRecords.LABELED, Map.of());
    return classes.stream().filter(c -> labeled.getOrDefault(c, 0L) == 0).toList();
  }

  /**
   * 4. Writes the quarantine and the list of dropped duplicates first, so that the cached records can
   * be dropped before the splits are written from the cached kept images; then the vocabulary.
   */
  private Written write(SparkSession spark, StageWriter writer, Validated v, Decoded decoded, Deduplicated dedup,
      SplitCounts counts) {
    int shardRecords = options.get(SHARD_RECORDS);
    FileSystem fs = run.fs();
    Dataset<Row> ok = dedup.ok();
    Dataset<Row> decided = ok.join(dedup.decisions(), ok.col(SourceRecords.RECORD_KEY).equalTo(col("decided_key")));
    Dataset<Row> duplicateIds = decided.filter(col("decision").equalTo(Reason.DUPLICATE_ID.code()))
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
    writeShards("quarantine", quarantine, ImageSchema.QUARANTINE_SCHEMA, quarantinedTotal, shardRecords,
        new Column[] {col(ImageSchema.SOURCE_FILE), col(ImageSchema.SOURCE_ENTRY)}, writer.temp(RunLayout.QUARANTINE));
    long duplicatesTotal = dedup.byDecision().getOrDefault(DUPLICATE, 0L);
    Dataset<Row> duplicates = decided.filter(col("decision").equalTo(DUPLICATE))
        .select(col(ImageSchema.SOURCE_FILE), col(ImageSchema.SOURCE_ENTRY), col(ImageSchema.IMAGE_ID),
            col(ImageSchema.DUPLICATE_OF), col("decision_detail").as(ImageSchema.DETAIL));
    SparkJobs.describe(spark, "prep: write the " + duplicatesTotal + " duplicates dropped");
    writeShards("duplicates", duplicates, ImageSchema.DUPLICATES_SCHEMA, duplicatesTotal, shardRecords,
        new Column[] {col(ImageSchema.IMAGE_ID), col(ImageSchema.SOURCE_FILE)}, writer.temp(RunLayout.DUPLICATES));
    decoded.cached().unpersist();
    Map<String, Long> shardFiles = new LinkedHashMap<>();
    String[] imageColumns = Arrays.stream(ImageSchema.SCHEMA.fieldNames()).toArray(String[]::new);
    for (String split : SPLITS) {
      SparkJobs.describe(spark, "prep: write " + counts.written().get(split) + " " + split + " images");
      Dataset<Row> rows = counts.kept().filter(col(SourceRecords.SPLIT).equalTo(split)).select(columns(imageColumns));
      writeShards(split, rows, ImageSchema.SCHEMA, counts.written().get(split), shardRecords,
          new Column[] {col(ImageSchema.IMAGE_ID)}, writer.temp(split));
      shardFiles.put(split, countParts(fs, writer.temp(split)));
    }
    HadoopFiles.writeAtomically(fs, writer.temp(RunLayout.VOCABULARY_FILE), v.vocabulary().toJson());
    return new Written(quarantined, quarantinedTotal, shardFiles);
  }

  /**
   * 5. Accounts for every record (in = written + quarantined + duplicates), in total and per input:
   * the counts and the result to commit.
   */
  private StageOutput account(Validated v, Decoded decoded,
      Deduplicated dedup, SplitCounts counts, Written out, double readSeconds, double dedupSeconds, double seconds) {
    Map<String, Long> written = counts.written();
    long in = decoded.byStatus().values().stream().mapToLong(Long::longValue).sum();
    long duplicates = dedup.byDecision().getOrDefault(DUPLICATE, 0L);
    long writtenTotal = written.values().stream().mapToLong(Long::longValue).sum();
    long quarantinedTotal = out.quarantinedTotal();
    if (in != writtenTotal + quarantinedTotal + duplicates) {
      throw new IllegalStateException("prep accounting does not add up: in " + in + " != written " + writtenTotal
          + " + quarantined " + quarantinedTotal + " + duplicates " + duplicates + " (a bug; nothing was committed)");
    }
    List<PrepResult.InputAccount> inputs = new ArrayList<>();
    long skippedFiles = 0;
    for (ReadInput ri : v.inputs()) {
      int i = ri.spec().index();
      Map<String, Long> statuses = decoded.byInput().getOrDefault(i, Map.of());
      Map<String, Long> decisions = dedup.byInput().getOrDefault(i, Map.of());
      long inputIn = 0;
      Map<String, Long> quarantinedHere = new TreeMap<>();
      for (Map.Entry<String, Long> e : statuses.entrySet()) {
        if (e.getKey().equals(SourceRecords.SKIPPED)) {
          continue;
        }
        inputIn += e.getValue();
        if (!e.getKey().equals(SourceRecords.OK)) {
          quarantinedHere.put(e.getKey(), e.getValue());
        }
      }
      if (decisions.containsKey(Reason.DUPLICATE_ID.code())) {
        quarantinedHere.put(Reason.DUPLICATE_ID.code(), decisions.get(Reason.DUPLICATE_ID.code()));
      }
      Map<String, Long> writtenHere = new LinkedHashMap<>();
      SPLITS.forEach(s -> writtenHere.put(s, counts.writtenByInput().getOrDefault(i, Map.of()).getOrDefault(s, 0L)));
      long dupHere = decisions.getOrDefault(DUPLICATE, 0L);
      long sum = writtenHere.values().stream().mapToLong(Long::longValue).sum()
          + quarantinedHere.values().stream().mapToLong(Long::longValue).sum() + dupHere;
      if (inputIn != sum) {
        throw new IllegalStateException("prep accounting of input " + ri.spec().name() + " does not add up: in "
            + inputIn + " != written + quarantined + duplicates " + sum + " (a bug; nothing was committed)");
      }
      skippedFiles += decoded.skippedFiles(i);
      inputs.add(new PrepResult.InputAccount(ri.spec().name(), ri.spec().source(), ri.spec().path(), inputIn,
          writtenHere, quarantinedHere, dupHere, Math.max(0, ri.source().expectedBytes()), decoded.skippedFiles(i),
          decoded.skipped().getOrDefault(i, List.of())));
    }
    Map<String, Long> recordCounts = new LinkedHashMap<>();
    recordCounts.put("in", in);
    recordCounts.put("written", writtenTotal);
    written.forEach((s, n) -> recordCounts.put("written." + s, n));
    recordCounts.put("quarantined", quarantinedTotal);
    out.quarantined().forEach((r, n) -> recordCounts.put("quarantined." + r, n));
    recordCounts.put("duplicates", duplicates);
    recordCounts.put("skipped-files", skippedFiles);
    recordCounts.put("tags.known", counts.tagsKnown());
    recordCounts.put("tags.unknown", counts.tagsUnknown());
    recordCounts.put("unlabeled.with-eval-label", counts.unlabeledWithLabel());
    PrepResult result = new PrepResult(options.get(IMAGE_SIZE), options.get(CHANNELS), v.vocabulary().classes(),
        counts.perClass(), out.shardFiles(), Math.round(in / Math.max(seconds, 1e-9) * 10) / 10.0,
        Map.of("read", round1(readSeconds), "dedup_and_count", round1(dedupSeconds),
            "write", round1(seconds - readSeconds - dedupSeconds)),
        ratio(counts.unlabeledTagged(), written.get(SourceRecords.UNLABELED)),
        v.idx() && v.simulator() != null ? ratio(counts.unlabeledTagHits(), counts.unlabeledWithLabel()) : null,
        skippedFiles, List.copyOf(inputs));
    LOG.info(String.format(Locale.ROOT,
        "prep: in %,d = written %,d (labeled %,d, unlabeled %,d, validation %,d, test %,d) + quarantined %,d"
            + " + duplicates %,d; %.1f s, %,.0f images/s -> %s",
        in, writtenTotal, written.get(SourceRecords.LABELED), written.get(SourceRecords.UNLABELED),
        written.get(SourceRecords.VALIDATION), written.get(SourceRecords.TEST), quarantinedTotal, duplicates, seconds, in / Math.max(seconds, 1e-9),
        run.stagePath(id())));
    LOG.info("prep summary\n{}", PrepSummary.text(recordCounts, result));
    return new StageOutput(recordCounts, result);
  }

  /**
   * The records that are not kept, by {@code decided_key} (their record key) and {@code decided_input}:
   * {@code decision} is {@code duplicate} or {@code duplicate-id}, with a {@code decision_detail}
   * naming the record kept and {@code duplicate_of}, the image id kept.
   */
  static Dataset<Row> decisions(Dataset<Row> ok) {
    Column priority = when(col(SourceRecords.SPLIT).equalTo(SourceRecords.TEST), 0)
        .when(col(SourceRecords.SPLIT).equalTo(SourceRecords.VALIDATION), 1)
        .when(col(SourceRecords.SPLIT).equalTo(SourceRecords.UNLABELED), 3)
        .otherwise(2);
    Dataset<Row> keys = ok.select(col(SourceRecords.RECORD_KEY), col(SourceRecords.INPUT), col(ImageSchema.IMAGE_ID),
        col(ImageSchema.CONTENT_HASH), priority.as("priority"),
        concat_ws(" ", col(ImageSchema.SOURCE_FILE), col(ImageSchema.SOURCE_ENTRY)).as("origin"));
    WindowSpec byId = Window.partitionBy(ImageSchema.IMAGE_ID)
        .orderBy(col("priority"), col(SourceRecords.INPUT), col(SourceRecords.RECORD_KEY));
    Dataset<Row> ranked = keys
        .withColumn("id_rank", row_number().over(byId))
        .withColumn("id_first_hash", first(col(ImageSchema.CONTENT_HASH)).over(byId))
        .withColumn("id_first_origin", first(col("origin")).over(byId));
    Column samePixels = col(ImageSchema.CONTENT_HASH).equalTo(col("id_first_hash"));
    Dataset<Row> idLosers = ranked.filter(col("id_rank").gt(1)).select(col(SourceRecords.RECORD_KEY).as("decided_key"),
        col(SourceRecords.INPUT).as("decided_input"),
        when(samePixels, lit(DUPLICATE)).otherwise(lit(Reason.DUPLICATE_ID.code())).as("decision"),
        when(samePixels, concat(lit("same image id and pixels as "), col("id_first_origin")))
            .otherwise(concat(lit("image id is also used by "), col("id_first_origin"),
                lit(" with different pixels; that record was kept"))).as("decision_detail"),
        col(ImageSchema.IMAGE_ID).as(ImageSchema.DUPLICATE_OF));
    WindowSpec byHash = Window.partitionBy(ImageSchema.CONTENT_HASH)
        .orderBy(col("priority"), col(SourceRecords.INPUT), col(SourceRecords.RECORD_KEY));
    Dataset<Row> hashLosers = ranked.filter(col("id_rank").equalTo(1))
        .withColumn("hash_rank", row_number().over(byHash))
        .withColumn("hash_first_id", first(col(ImageSchema.IMAGE_ID)).over(byHash))
        .withColumn("hash_first_origin", first(col("origin")).over(byHash))
        .filter(col("hash_rank").gt(1))
        .select(col(SourceRecords.RECORD_KEY).as("decided_key"), col(SourceRecords.INPUT).as("decided_input"),
            lit(DUPLICATE).as("decision"),
            concat(lit("same pixels as "), col("hash_first_id"), lit(" ("), col("hash_first_origin"), lit(")"))
                .as("decision_detail"),
            col("hash_first_id").as(ImageSchema.DUPLICATE_OF));
    return idLosers.unionByName(hashLosers);
  }

  /**
   * idx: per class, the train images ordered by seeded hash (then id): the first {@code n} become
   * labeled, the next {@code validation} validation, the rest unlabeled. The labeled subset is the
   * same whatever {@code validation} is.
   */
  static Dataset<Row> assignLabeledSubset(Dataset<Row> kept, int n, int validation) {
    WindowSpec byClass = Window.partitionBy(ImageSchema.LABEL).orderBy(col(SourceRecords.SELECT_KEY), col(ImageSchema.IMAGE_ID));
    long held = (long) n + validation;
    Dataset<Row> drawnIds = kept.filter(col(SourceRecords.SPLIT).equalTo(SourceRecords.TRAIN))
        .select(col(ImageSchema.IMAGE_ID), col(ImageSchema.LABEL), col(SourceRecords.SELECT_KEY))
        .withColumn("class_rank", row_number().over(byClass))
        .filter(col("class_rank").leq(held))
        .select(col(ImageSchema.IMAGE_ID).as("drawn_id"),
            when(col("class_rank").leq(n), lit(SourceRecords.LABELED)).otherwise(lit(SourceRecords.VALIDATION))
                .as("drawn_split"));
    Dataset<Row> joined = kept.join(broadcast(drawnIds), kept.col(ImageSchema.IMAGE_ID).equalTo(col("drawn_id")), "left");
    Column split = when(col(SourceRecords.SPLIT).equalTo(SourceRecords.TRAIN),
        when(col("drawn_id").isNotNull(), col("drawn_split")).otherwise(lit(SourceRecords.UNLABELED)))
        .otherwise(col(SourceRecords.SPLIT));
    return joined.withColumn(SourceRecords.SPLIT, split).drop("drawn_id", "drawn_split");
  }

  /**
   * Writes rows as Parquet with exactly {@code schema}: hash-partitioned by {@code by} into
   * ceil(rows / shardRecords) files, sorted within each file, so the files do not depend on how the
   * input was partitioned.
   */
  private static void writeShards(String what, Dataset<Row> rows, StructType schema, long count, int shardRecords,
      Column[] by, Path dir) {
    if (count == 0) {
      // One empty file keeps the schema readable without Spark and without a schema hint. Written
      // directly: a write of empty partitions may leave no file at all (adaptive execution drops
      // them), and a job that wrote nothing commits from a folder that only a directory marker holds.
      rows.sparkSession().createDataFrame(List.<Row>of(), schema).write().parquet(dir.toString());
      return;
    }
    int files = (int) Math.max(1, Math.min(100_000, (count + shardRecords - 1) / shardRecords));
    Dataset<Row> ordered = rows.select(columns(schema.fieldNames()))
        .repartition(files, by)
        .sortWithinPartitions(sortColumns(schema, by));
    try (SparkProgress progress = new SparkProgress(rows.sparkSession(), "prep write " + what, count)) {
      LongAccumulator written = progress.accumulator();
      // The identity map re-types the rows with the declared schema, nullability included, and counts them.
      ordered.map((MapFunction<Row, Row>) r -> {
        written.add(1);
        return r;
      }, Encoders.row(schema))
          .write()
          .option("maxRecordsPerFile", shardRecords)
          .parquet(dir.toString());
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
