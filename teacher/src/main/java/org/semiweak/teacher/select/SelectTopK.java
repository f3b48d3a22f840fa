package org.semiweak.teacher.select;

import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.floor;
import static org.apache.spark.sql.functions.input_file_name;
import static org.apache.spark.sql.functions.least;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.max;
import static org.apache.spark.sql.functions.min;
import static org.apache.spark.sql.functions.raise_error;
import static org.apache.spark.sql.functions.row_number;
import static org.apache.spark.sql.functions.size;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.try_element_at;
import static org.apache.spark.sql.functions.when;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.TreeMap;
import java.util.function.Supplier;
import org.apache.spark.SparkContext;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.expressions.Window;
import org.apache.spark.sql.expressions.WindowSpec;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;
import org.semiweak.data.ScoreSchema;
import org.semiweak.data.SelectionSchema;
import org.semiweak.run.SparkJobs;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Selects pseudo-labels: for every class, the K images with the highest teacher score among the
 * images that have the class in their top-P predictions (Yalniz et al. 2019, "Billion-scale
 * semi-supervised learning for image classification", section 3).
 *
 * <p>Semantics. For class {@code c}, the candidates are the images with {@code c} among the first
 * {@code min(p, maxClassesPerImage)} entries of their {@code classes} (the scores are ordered by
 * probability descending), whose probability for {@code c} is not NaN, is at least {@code
 * minScore}, and, with {@code tagConsistent}, whose {@code tag_classes} contain {@code c}. A
 * candidate's score is its probability for {@code c}. Candidates are ranked by score descending,
 * ties by {@code image_id} ascending in UTF-8 byte order; the first {@code k} are kept (all of them
 * when there are fewer, flagged in {@link ClassStats#fewerThanK()}). An image may be selected for
 * several classes.
 *
 * <p>Algorithm: two passes over the scores (the test measures the rows read), no sort of all
 * candidates, and no row per candidate: {@link CandidateScan} reads each image's arrays in place.
 *
 * <ol>
 *   <li>Pass 1 validates every row and counts, per partition, a dense histogram of candidate
 *       scores by class over fixed monotone bins ({@link ScoreBins}, at most 2^17 cells for all
 *       classes), plus the rejection counts; a tree reduce merges the partitions' counts. The
 *       driver then finds, per class, the bin where the count from the top reaches K: every
 *       candidate of the top K lies in it or above.
 *   <li>Pass 2 emits only the candidates whose score is at least their class's threshold (the
 *       lowest score of the threshold bin; the C thresholds travel with the task), shuffles these
 *       survivors by class and ranks them exactly with a window over the survivors only. The
 *       selection is persisted, and the per-class statistics are computed from it in the same job.
 * </ol>
 *
 * <p>Survivors are about {@code K} per class plus the candidates sharing the threshold bin (a few
 * percent of K on teacher-like scores; all of them when more than K candidates have the very same
 * score). Memory per task is bounded by the histogram (at most {@code 2^17} longs) in pass 1 and by
 * Spark's spillable sort and window buffers of the survivors in pass 2. The output is
 * deterministic: the same rows, ranks and statistics whatever the input partitioning.
 *
 * <pre>{@code
 * TopKOptions options = TopKOptions.defaults().withK(16_000).withP(10);
 * try (TopKResult r = SelectTopK.withOptions(options).execute(scores, classNames)) {
 *   r.selection().write().parquet(out);              // already computed: no third pass
 *   r.classStats().forEach(s -> ...);                // candidates, selected, threshold, ...
 * }                                                  // close() releases the persisted selection
 * }</pre>
 */
public final class SelectTopK {
  private static final Logger LOG = LoggerFactory.getLogger(SelectTopK.class);

  /** Depth of the tree that merges pass 1's per-partition histograms. */
  static final int TREE_DEPTH = 3;

  /** The rows pass 2 ranks: {@link SelectionSchema}'s first three columns. */
  static final StructType SURVIVOR_SCHEMA = new StructType()
      .add(SelectionSchema.IMAGE_ID, DataTypes.StringType, false)
      .add(SelectionSchema.CLASS_INDEX, DataTypes.IntegerType, false)
      .add(SelectionSchema.SCORE, DataTypes.FloatType, false);

  /** Survivors per output partition of pass 2 (each partition sorts its survivors). */
  static final long SURVIVORS_PER_PARTITION = 2_000_000L;

  private final TopKOptions options;

  private SelectTopK(TopKOptions options) {
    this.options = Objects.requireNonNull(options, "options");
  }

  public static SelectTopK withOptions(TopKOptions options) {
    return new SelectTopK(options);
  }

  public TopKOptions options() {
    return options;
  }

  /**
   * Checks, without running a Spark job, that the options fit the class count and that the scores
   * have the columns selection reads; throws {@link IllegalArgumentException} naming what is wrong.
   */
  public void validate(StructType scoresSchema, int numClasses) {
    options.checkFor(numClasses);
    ClassCandidates.checkSchema(scoresSchema, options);
  }

  /**
   * Selects the top K images per class.
   *
   * <p>Reads the scores twice (see the class comment; Spark may split each pass into several
   * jobs). Fails with {@link IllegalArgumentException} before the second pass when any row is
   * invalid (null or mismatched arrays, fewer than {@code p} classes, duplicate or out-of-range
   * class, probability outside [0, 1]); the message counts each problem and names example images
   * and files. NaN probabilities are not errors: they are never selected and are counted in {@link
   * ClassStats#nanRejected()}.
   *
   * @param scores rows of {@link ScoreSchema}; only image_id, classes, probs and (with
   *     tag-consistent selection) tag_classes are read
   * @param classNames the classes of the run, in index order: class indexes must be in {@code [0,
   *     classNames.size())}, and each selected row gets the name of its class
   * @return the materialized selection (persisted, {@link SelectionSchema}) and its statistics
   */
  public TopKResult execute(Dataset<Row> scores, List<String> classNames) {
    int numClasses = classNames.size();
    validate(scores.schema(), numClasses);
    SparkSession spark = scores.sparkSession();
    ScoreBins bins = ScoreBins.forClasses(numClasses);
    LOG.info("select: {} over {} classes, {} score bins per class", options, numClasses, bins.count());

    long start = System.nanoTime();
    FirstPass first = firstPass(scores, numClasses, bins);
    double pass1Seconds = (System.nanoTime() - start) / 1e9;
    if (first.invalidTotal() > 0) {
      throw invalidScores(scores, numClasses, first);
    }
    long totalCandidates = Arrays.stream(first.candidates).sum();
    long totalSurvivors = Arrays.stream(first.survivors).sum();
    LOG.info(String.format(Locale.ROOT,
        "select: pass 1 done in %.1f s: %,d images, %,d candidates; thresholds leave %,d survivors to rank (%.2f%%)",
        pass1Seconds, first.images, totalCandidates, totalSurvivors,
        totalCandidates == 0 ? 0.0 : 100.0 * totalSurvivors / totalCandidates));

    start = System.nanoTime();
    // Persisted without the class names: the cache builds no string column for them (building the
    // in-memory columns is a large part of pass 2), and each reader adds them by a lookup.
    Dataset<Row> ranked = job(spark, pass2Description(), () -> rankSurvivors(spark, scores, first));
    Runnable release = ranked::unpersist;
    Dataset<Row> selection = withClassNames(ranked, classNames);
    // Cached uncompressed: compressing the in-memory columns took a quarter of pass 2's time at 10^8
    // candidates, and the cache holds only the survivors (about 1.1 x K x C rows) while the
    // statistics and the write read it (docs/BENCHMARKS.md, "the selection cached uncompressed").
    List<ClassStats> stats = SparkJobs.withSqlConf(spark, "spark.sql.inMemoryColumnarStorage.compressed", "false",
        () -> {
          ranked.persist(StorageLevel.MEMORY_AND_DISK());
          try {
            return statistics(spark, ranked, numClasses, first);
          } catch (RuntimeException e) {
            release.run();
            throw e;
          }
        });
    double pass2Seconds = (System.nanoTime() - start) / 1e9;
    TopKResult result = new TopKResult(selection, release, stats, options, numClasses, first.images, bins.count(),
        pass1Seconds, pass2Seconds);
    LOG.info(String.format(Locale.ROOT, "select: pass 2 done in %.1f s: selected %,d (%d classes had fewer than k=%d)",
        pass2Seconds, result.selected(), result.classesWithFewerThanK(), options.k()));
    return result;
  }

  /** Counts of pass 1, indexed by class (and by outcome code for invalid input). */
  private static final class FirstPass {
    long images;
    final long[][] histogram;
    final long[] candidates;
    final long[] nanRejected;
    final long[] belowMinScore;
    final long[] notInTags;
    final long[] thresholdBin;
    /** Per class, the lowest score of its threshold bin: pass 2 ranks the candidates at or above it. */
    final float[] thresholdScore;
    final long[] survivors;
    final TreeMap<Integer, Long> invalid = new TreeMap<>();

    FirstPass(int numClasses, int numBins) {
      histogram = new long[numClasses][numBins];
      candidates = new long[numClasses];
      nanRejected = new long[numClasses];
      belowMinScore = new long[numClasses];
      notInTags = new long[numClasses];
      thresholdBin = new long[numClasses];
      thresholdScore = new float[numClasses];
      survivors = new long[numClasses];
    }

    long invalidTotal() {
      return invalid.values().stream().mapToLong(Long::longValue).sum();
    }
  }

  private FirstPass firstPass(Dataset<Row> scores, int numClasses, ScoreBins bins) {
    CandidateScan scan = CandidateScan.of(options, numClasses, false);
    // One dense histogram per partition (at most 2^17 cells), merged up a tree: the driver receives
    // a few partial sums whatever the number of partitions, and no candidate row is ever made.
    CandidateScan.Counts counts = job(spark(scores), "select top-" + options.k() + " pass 1/2: validate scores, histogram of "
        + "candidate scores per class (" + numClasses + " classes x " + bins.count() + " bins)",
        // rows() is inside the job: with adaptive execution, planning the scan may already run jobs.
        () -> scan.rows(scores).toJavaRDD()
            .mapPartitions(partition -> List.of(scan.count(partition, bins)).iterator())
            .treeAggregate(new CandidateScan.Counts(numClasses, bins.count()), CandidateScan.Counts::merge,
                CandidateScan.Counts::merge, TREE_DEPTH));

    FirstPass first = new FirstPass(numClasses, bins.count());
    first.images = counts.images;
    for (int c = 0; c < numClasses; c++) {
      for (int b = 0; b < bins.count(); b++) {
        first.histogram[c][b] = counts.histogram(c, b);
      }
      first.nanRejected[c] = counts.rejected(ClassCandidates.NAN_PROB, c);
      first.belowMinScore[c] = counts.rejected(ClassCandidates.BELOW_MIN_SCORE, c);
      first.notInTags[c] = counts.rejected(ClassCandidates.NOT_IN_TAGS, c);
    }
    for (int o = ClassCandidates.FIRST_INVALID; o <= CandidateScan.LAST_INVALID; o++) {
      if (counts.invalid(o) > 0) {
        first.invalid.put(o, counts.invalid(o));
      }
    }
    for (int c = 0; c < numClasses; c++) {
      first.candidates[c] = Arrays.stream(first.histogram[c]).sum();
      long[] t = ScoreBins.threshold(first.histogram[c], options.k());
      first.thresholdBin[c] = t[0];
      first.thresholdScore[c] = bins.lowerEdge((int) t[0]);
      first.survivors[c] = t[1];
    }
    return first;
  }

  private IllegalArgumentException invalidScores(Dataset<Row> scores, int numClasses, FirstPass first) {
    StringBuilder msg = new StringBuilder("scores are invalid, nothing was selected:");
    first.invalid.forEach((o, n) -> msg.append(String.format(Locale.ROOT, "%n  %,d %s: %s", n,
        o <= ClassCandidates.DUPLICATE_CLASS ? "rows" : "candidates", ClassCandidates.describe(o, options, numClasses))));
    // Examples need image ids and files, which pass 1 did not read: look them up now, on failure only.
    Dataset<Row> annotated = scores
        .withColumn("source_file", input_file_name())
        .withColumn("classes_length", size(col(ScoreSchema.CLASSES)))
        .withColumn("probs_length", size(col(ScoreSchema.PROBS)));
    List<Row> examples = job(spark(scores), "select: find examples of invalid scores",
        () -> ClassCandidates.explode(annotated, options, numClasses, true,
                List.of(ScoreSchema.IMAGE_ID, "source_file", "classes_length", "probs_length"))
            .filter(col(ClassCandidates.OUTCOME).geq(ClassCandidates.FIRST_INVALID))
            .limit(5)
            .collectAsList());
    msg.append(System.lineSeparator()).append("Examples:");
    for (Row r : examples) {
      String file = r.getString(r.fieldIndex("source_file"));
      msg.append(String.format(Locale.ROOT, "%n  image '%s'%s: %s (classes has %s entries, probs %s; class %s, prob %s)",
          r.getString(r.fieldIndex(ScoreSchema.IMAGE_ID)),
          file == null || file.isEmpty() ? "" : " in " + file,
          ClassCandidates.describe(r.getInt(r.fieldIndex(ClassCandidates.OUTCOME)), options, numClasses),
          r.get(r.fieldIndex("classes_length")), r.get(r.fieldIndex("probs_length")),
          r.get(r.fieldIndex(ClassCandidates.CLASS)), r.get(r.fieldIndex(ClassCandidates.PROB))));
    }
    msg.append(System.lineSeparator()).append("Fix the scores (or the options: p, tag-consistent) and rerun.");
    return new IllegalArgumentException(msg.toString());
  }

  private Dataset<Row> rankSurvivors(SparkSession spark, Dataset<Row> scores, FirstPass first) {
    int numClasses = first.candidates.length;
    long totalSurvivors = Arrays.stream(first.survivors).sum();
    long classesWithSurvivors = Arrays.stream(first.survivors).filter(s -> s > 0).count();
    int partitions = (int) Math.max(1, Math.min(classesWithSurvivors,
        Math.max(spark.sparkContext().defaultParallelism(),
            (totalSurvivors + SURVIVORS_PER_PARTITION - 1) / SURVIVORS_PER_PARTITION)));

    // Only the survivors become rows: the C thresholds travel with the task closure (a few
    // kilobytes), and a candidate below its class's threshold is never materialized.
    CandidateScan scan = CandidateScan.of(options, numClasses, true);
    float[] thresholds = first.thresholdScore;
    JavaRDD<Row> survivorRows = scan.rows(scores).toJavaRDD()
        .mapPartitions(partition -> scan.survivors(partition, thresholds));
    Dataset<Row> survivors = spark.createDataFrame(survivorRows, SURVIVOR_SCHEMA);
    // Partitioned by the window's class column (no second shuffle), pre-sorted by one double that
    // orders by class then score so Spark's sort stays on its prefix fast path: docs/NOTES.md.
    Column presortKey = col(SelectionSchema.CLASS_INDEX).cast(DataTypes.DoubleType).multiply(4.0)
        .minus(col(SelectionSchema.SCORE).cast(DataTypes.DoubleType));
    return rankWithoutNames(survivors.repartition(partitions, col(SelectionSchema.CLASS_INDEX))
        .sortWithinPartitions(presortKey, col(SelectionSchema.IMAGE_ID)), options.k());
  }

  /**
   * The (image_id, class_index, score) columns of selectable candidates, declared non-null as {@link
   * SelectionSchema} says. Apply it before partitioning by class: the window then reuses that
   * partitioning.
   */
  static Dataset<Row> selectionColumns(Dataset<Row> candidates) {
    return candidates.select(
        // A null id cannot be ranked or written: fail loudly rather than drop the candidate. The last
        // fallbacks are never used (selectable candidates have a class and a score); they only make
        // the columns non-nullable.
        coalesce(col(ScoreSchema.IMAGE_ID), raise_error(lit(
            "scores: a row with a null image_id is a candidate for selection; every score row needs an id")),
            lit("")).as(SelectionSchema.IMAGE_ID),
        coalesce(col(ClassCandidates.CLASS), lit(-1)).as(SelectionSchema.CLASS_INDEX),
        coalesce(col(ClassCandidates.SCORE), lit(Float.NaN)).as(SelectionSchema.SCORE));
  }

  /**
   * Ranks {@link #selectionColumns} rows per class by score descending, then image_id ascending, and
   * keeps ranks 1..k: rows of {@link SelectionSchema}, sorted by class and rank within partitions.
   * The class name is added last, so that only the class index is shuffled and sorted.
   */
  static Dataset<Row> rank(Dataset<Row> candidates, int k, List<String> classNames) {
    return withClassNames(rankWithoutNames(candidates, k), classNames);
  }

  /** {@link #rank} without the class name: image_id, class_index, score, rank. */
  static Dataset<Row> rankWithoutNames(Dataset<Row> candidates, int k) {
    WindowSpec byClass = Window.partitionBy(col(SelectionSchema.CLASS_INDEX))
        .orderBy(col(SelectionSchema.SCORE).desc(), col(SelectionSchema.IMAGE_ID).asc());
    return candidates
        .withColumn(SelectionSchema.RANK, row_number().over(byClass))
        .filter(col(SelectionSchema.RANK).leq(k))
        .select(col(SelectionSchema.IMAGE_ID), col(SelectionSchema.CLASS_INDEX), col(SelectionSchema.SCORE),
            col(SelectionSchema.RANK).cast(DataTypes.IntegerType).as(SelectionSchema.RANK));
  }

  /** Ranked rows as {@link SelectionSchema}: the class name added after the class index. */
  static Dataset<Row> withClassNames(Dataset<Row> ranked, List<String> classNames) {
    return ranked.select(col(SelectionSchema.IMAGE_ID), col(SelectionSchema.CLASS_INDEX),
        className(col(SelectionSchema.CLASS_INDEX), classNames).as(SelectionSchema.CLASS_NAME),
        col(SelectionSchema.SCORE), col(SelectionSchema.RANK));
  }

  /**
   * The name of a class index: a lookup in the names, which travel with the query plan. Indexes
   * are checked in pass 1, so the error is never raised; it only makes the column non-nullable.
   */
  static Column className(Column classIndex, List<String> classNames) {
    return coalesce(try_element_at(lit(classNames.toArray(String[]::new)), classIndex.plus(1)),
        raise_error(lit("select: a class index outside the " + classNames.size() + " classes of the vocabulary")),
        lit(""));
  }

  private List<ClassStats> statistics(SparkSession spark, Dataset<Row> selection, int numClasses, FirstPass first) {
    Column score = col(SelectionSchema.SCORE);
    Column histogramBin = least(floor(score.cast(DataTypes.DoubleType).multiply(ClassStats.HISTOGRAM_BINS)),
        lit((long) ClassStats.HISTOGRAM_BINS - 1));
    List<Column> aggregates = new ArrayList<>();
    aggregates.add(min(score));
    aggregates.add(max(score));
    // Within its partition a class's rows are in rank order, so the sum is the same on every run.
    aggregates.add(sum(score.cast(DataTypes.DoubleType)));
    for (int b = 0; b < ClassStats.HISTOGRAM_BINS; b++) {
      aggregates.add(sum(when(histogramBin.equalTo(b), 1L).otherwise(0L)));
    }
    List<Row> rows = job(spark, pass2Description(),
        () -> selection.groupBy(col(SelectionSchema.CLASS_INDEX))
            .agg(count(lit(1)), aggregates.toArray(Column[]::new))
            .collectAsList());
    Row[] byClass = new Row[numClasses];
    for (Row r : rows) {
      byClass[r.getInt(0)] = r;
    }
    List<ClassStats> stats = new ArrayList<>(numClasses);
    List<String> inconsistent = new ArrayList<>();
    for (int c = 0; c < numClasses; c++) {
      Row r = byClass[c];
      long selected = r == null ? 0 : r.getLong(1);
      long expected = Math.min(options.k(), first.candidates[c]);
      if (selected != expected) {
        inconsistent.add("class " + c + ": selected " + selected + ", expected " + expected);
      }
      List<Long> histogram = new ArrayList<>();
      for (int b = 0; b < ClassStats.HISTOGRAM_BINS; b++) {
        histogram.add(r == null ? 0L : r.getLong(5 + b));
      }
      float threshold = first.candidates[c] == 0 ? Float.NaN : first.thresholdScore[c];
      stats.add(new ClassStats(c, first.candidates[c], selected, first.candidates[c] < options.k(), threshold,
          r == null ? Float.NaN : r.getFloat(2), r == null ? Float.NaN : r.getFloat(3), r == null ? Double.NaN : r.getDouble(4) / selected,
          histogram, first.nanRejected[c], first.belowMinScore[c], first.notInTags[c], first.survivors[c]));
    }
    if (!inconsistent.isEmpty()) {
      throw new IllegalStateException("select: the two passes over the scores disagree ("
          + String.join("; ", inconsistent.subList(0, Math.min(5, inconsistent.size())))
          + "): did the scores change while selecting? Rerun on unchanged scores.");
    }
    return List.copyOf(stats);
  }

  private String pass2Description() {
    return "select top-" + options.k() + " pass 2/2: rank the survivors of the thresholds, persist the selection, "
        + "per-class statistics";
  }

  private static SparkSession spark(Dataset<Row> scores) {
    return scores.sparkSession();
  }

  /** Spark's local property holding the job description ({@code SparkContext.SPARK_JOB_DESCRIPTION}). */
  static final String JOB_DESCRIPTION = "spark.job.description";

  /** Runs {@code body} with a Spark job description, so the Spark UI says what each job is. */
  static <T> T job(SparkSession spark, String description, Supplier<T> body) {
    SparkContext sc = spark.sparkContext();
    String previous = sc.getLocalProperty(JOB_DESCRIPTION);
    sc.setJobDescription(description);
    try {
      return body.get();
    } finally {
      sc.setJobDescription(previous);
    }
  }
}
