package org.semiweak.teacher.select;

import static org.apache.spark.sql.functions.col;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import org.apache.spark.rdd.RDD;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.util.ArrayData;
import org.semiweak.data.ScoreSchema;

/**
 * The candidates of each score row, read straight from Spark's internal rows: what {@link
 * SelectTopK} runs on, with the semantics of {@link ClassCandidates} (the same outcomes, checked in
 * the same order) but without a row per candidate.
 *
 * <p>Why not the SQL of {@link ClassCandidates}: exploding every image into P candidate rows, then
 * aggregating or filtering them, costs per candidate (a row, a boxed UDF call, a hash-aggregation
 * probe) and dominated selection at 10^7 candidates (docs/BENCHMARKS.md, "Selection"). Here a row's
 * arrays are read in place ({@link ArrayData#getInt}, {@link ArrayData#getFloat}): pass 1 adds each
 * candidate to a dense per-partition histogram, pass 2 emits only the survivors of the thresholds.
 * {@code SelectTopKTest} compares both implementations with a brute-force selection on every
 * outcome, so they cannot drift apart unnoticed.
 */
final class CandidateScan implements Serializable {
  private static final long serialVersionUID = 1L;

  /** Invalid outcomes are {@code FIRST_INVALID .. LAST_INVALID}. */
  static final int LAST_INVALID = ClassCandidates.PROB_OUT_OF_RANGE;

  private final int p;
  private final int classesPerImage;
  private final int numClasses;
  private final double minScore;
  private final boolean tagConsistent;

  // Ordinals of the columns in the projection made by rows().
  private final int imageIdOrdinal;
  private final int classesOrdinal;
  private final int probsOrdinal;
  private final int tagsOrdinal;

  private CandidateScan(TopKOptions o, int numClasses, boolean withImageId) {
    this.p = o.p();
    this.classesPerImage = o.classesPerImage();
    this.numClasses = numClasses;
    this.minScore = o.minScore();
    this.tagConsistent = o.tagConsistent();
    int next = 0;
    this.imageIdOrdinal = withImageId ? next++ : -1;
    this.classesOrdinal = next++;
    this.probsOrdinal = next++;
    this.tagsOrdinal = tagConsistent ? next : -1;
  }

  /** A scan of rows projected by {@link #rows}: pass 1 (no image ids) or pass 2 (with them). */
  static CandidateScan of(TopKOptions o, int numClasses, boolean withImageId) {
    return new CandidateScan(o, numClasses, withImageId);
  }

  /**
   * The score rows as Spark's internal rows, holding only the columns this scan reads, in its
   * ordinal order: no conversion to {@link Row} per image, and Parquet reads only those columns.
   */
  RDD<InternalRow> rows(Dataset<Row> scores) {
    List<Column> columns = new ArrayList<>();
    if (imageIdOrdinal >= 0) {
      columns.add(col(ScoreSchema.IMAGE_ID));
    }
    columns.add(col(ScoreSchema.CLASSES));
    columns.add(col(ScoreSchema.PROBS));
    if (tagConsistent) {
      columns.add(col(ScoreSchema.TAG_CLASSES));
    }
    return scores.select(columns.toArray(Column[]::new)).queryExecution().toRdd();
  }

  /** The array at {@code ordinal}, or null: fetched once per row (each fetch makes a view object). */
  private static ArrayData arrayOrNull(InternalRow row, int ordinal) {
    return row.isNullAt(ordinal) ? null : row.getArray(ordinal);
  }

  /**
   * The outcome of a whole row ({@code ClassCandidates}' row error), or -1 when its candidates are
   * checked one by one; {@code classes} and {@code probs} are the row's arrays, null where null.
   */
  private int rowError(InternalRow row, ArrayData classes, ArrayData probs) {
    if (classes == null || probs == null) {
      return ClassCandidates.NULL_ARRAYS;
    }
    int length = classes.numElements();
    if (length != probs.numElements()) {
      return ClassCandidates.LENGTH_MISMATCH;
    }
    if (length < p) {
      return ClassCandidates.TOO_FEW_CLASSES;
    }
    if (tagConsistent && row.isNullAt(tagsOrdinal)) {
      return ClassCandidates.NULL_TAG_CLASSES;
    }
    if (hasDuplicate(classes, Math.min(classesPerImage, length))) {
      return ClassCandidates.DUPLICATE_CLASS;
    }
    return -1;
  }

  /** Whether the first {@code m} entries repeat a value; two nulls count as a repeat, as in SQL's array_distinct. */
  private static boolean hasDuplicate(ArrayData classes, int m) {
    for (int i = 1; i < m; i++) {
      boolean nullI = classes.isNullAt(i);
      int valueI = nullI ? 0 : classes.getInt(i);
      for (int j = 0; j < i; j++) {
        boolean nullJ = classes.isNullAt(j);
        if (nullI ? nullJ : !nullJ && classes.getInt(j) == valueI) {
          return true;
        }
      }
    }
    return false;
  }

  /** The class at a candidate position, or -1 when it is null. */
  private static int classAt(ArrayData classes, int pos) {
    return classes.isNullAt(pos) ? -1 : classes.getInt(pos);
  }

  /** The outcome of the candidate at {@code pos} of a row without a row error ({@code tags} null unless tag-consistent). */
  private int outcome(ArrayData probs, ArrayData tags, int pos, int cls) {
    if (cls < 0 || cls >= numClasses) {
      return ClassCandidates.CLASS_OUT_OF_RANGE;
    }
    if (probs.isNullAt(pos)) {
      return ClassCandidates.PROB_OUT_OF_RANGE;
    }
    float prob = probs.getFloat(pos);
    if (Float.isNaN(prob)) {
      return ClassCandidates.NAN_PROB;
    }
    if (prob < 0f || prob > 1f) {
      return ClassCandidates.PROB_OUT_OF_RANGE;
    }
    if ((double) prob < minScore) {
      return ClassCandidates.BELOW_MIN_SCORE;
    }
    if (tagConsistent && !contains(tags, cls)) {
      return ClassCandidates.NOT_IN_TAGS;
    }
    return ClassCandidates.SELECTABLE;
  }

  private static boolean contains(ArrayData tags, int cls) {
    for (int i = 0, n = tags.numElements(); i < n; i++) {
      if (!tags.isNullAt(i) && tags.getInt(i) == cls) {
        return true;
      }
    }
    return false;
  }

  /** The score of a selectable candidate: its probability, with -0.0 made 0.0 so equal scores have equal bytes. */
  private static float score(ArrayData probs, int pos) {
    float prob = probs.getFloat(pos);
    return prob == 0f ? 0f : prob;
  }

  /**
   * Pass 1 over one partition: the counts of every outcome, and the histogram of selectable scores
   * by class and {@link ScoreBins} bin.
   */
  Counts count(Iterator<InternalRow> rows, ScoreBins bins) {
    Counts counts = new Counts(numClasses, bins.count());
    int numBins = bins.count();
    while (rows.hasNext()) {
      InternalRow row = rows.next();
      counts.images++;
      ArrayData classes = arrayOrNull(row, classesOrdinal);
      ArrayData probs = arrayOrNull(row, probsOrdinal);
      int error = rowError(row, classes, probs);
      if (error >= 0) {
        counts.invalid[error - ClassCandidates.FIRST_INVALID]++;
        continue;
      }
      ArrayData tags = tagConsistent ? row.getArray(tagsOrdinal) : null;
      for (int pos = 0, n = Math.min(classesPerImage, classes.numElements()); pos < n; pos++) {
        int cls = classAt(classes, pos);
        int outcome = outcome(probs, tags, pos, cls);
        if (outcome == ClassCandidates.SELECTABLE) {
          counts.histogram[cls * numBins + bins.binOf(score(probs, pos))]++;
        } else if (outcome < ClassCandidates.FIRST_INVALID) {
          counts.rejected[(outcome - 1) * numClasses + cls]++;
        } else {
          counts.invalid[outcome - ClassCandidates.FIRST_INVALID]++;
        }
      }
    }
    return counts;
  }

  /**
   * Pass 2 over one partition of rows that pass 1 found valid: {@code (image_id, class_index,
   * score)} for every selectable candidate whose score is at least its class's threshold.
   */
  Iterator<Row> survivors(Iterator<InternalRow> rows, float[] thresholdScore) {
    if (imageIdOrdinal < 0) {
      throw new IllegalStateException("survivors need a scan made with image ids");
    }
    return new Iterator<>() {
      private InternalRow row;
      private ArrayData classes;
      private ArrayData probs;
      private ArrayData tags;
      private int pos;
      private int end;
      private Row next;

      @Override
      public boolean hasNext() {
        while (next == null) {
          if (row == null || pos >= end) {
            if (!rows.hasNext()) {
              return false;
            }
            row = rows.next();
            classes = row.getArray(classesOrdinal);
            probs = row.getArray(probsOrdinal);
            tags = tagConsistent ? row.getArray(tagsOrdinal) : null;
            pos = 0;
            end = Math.min(classesPerImage, classes.numElements());
          }
          int at = pos++;
          int cls = classAt(classes, at);
          if (outcome(probs, tags, at, cls) == ClassCandidates.SELECTABLE && score(probs, at) >= thresholdScore[cls]) {
            if (row.isNullAt(imageIdOrdinal)) {
              throw new IllegalArgumentException(
                  "scores: a row with a null image_id is a candidate for selection; every score row needs an id");
            }
            next = RowFactory.create(row.getUTF8String(imageIdOrdinal).toString(), cls, score(probs, at));
          }
        }
        return true;
      }

      @Override
      public Row next() {
        if (!hasNext()) {
          throw new NoSuchElementException();
        }
        Row out = next;
        next = null;
        return out;
      }
    };
  }

  /**
   * Pass 1's counts of one partition, merged up a tree to the driver: at most 2^17 + 3C + 7 longs
   * (about 1 MB). Plain fields, no custom serialization: Spark copies the zero value of an
   * aggregation with its configured serializer (Kryo in the cluster templates), which ignores
   * Java's writeObject hooks and transient fields.
   */
  static final class Counts implements Serializable {
    private static final long serialVersionUID = 2L;

    long images;
    /** Selectable candidates by {@code class * bins + bin}. */
    long[] histogram;
    /** NaN, below min-score and not-in-tags candidates by {@code (outcome - 1) * classes + class}. */
    long[] rejected;
    /** Invalid rows or candidates by {@code outcome - FIRST_INVALID}. */
    long[] invalid;
    private final int numClasses;
    private final int numBins;

    Counts(int numClasses, int numBins) {
      this.numClasses = numClasses;
      this.numBins = numBins;
      histogram = new long[numClasses * numBins];
      rejected = new long[3 * numClasses];
      invalid = new long[LAST_INVALID - ClassCandidates.FIRST_INVALID + 1];
    }

    /** Adds {@code other} into this and returns this. */
    Counts merge(Counts other) {
      images += other.images;
      add(histogram, other.histogram);
      add(rejected, other.rejected);
      add(invalid, other.invalid);
      return this;
    }

    private static void add(long[] into, long[] from) {
      for (int i = 0; i < into.length; i++) {
        into[i] += from[i];
      }
    }

    long histogram(int cls, int bin) {
      return histogram[cls * numBins + bin];
    }

    long rejected(int outcome, int cls) {
      return rejected[(outcome - 1) * numClasses + cls];
    }

    long invalid(int outcome) {
      return invalid[outcome - ClassCandidates.FIRST_INVALID];
    }
  }
}
