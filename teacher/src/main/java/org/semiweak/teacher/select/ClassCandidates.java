package org.semiweak.teacher.select;

import static org.apache.spark.sql.functions.array_contains;
import static org.apache.spark.sql.functions.array_distinct;
import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.isnan;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.not;
import static org.apache.spark.sql.functions.posexplode;
import static org.apache.spark.sql.functions.posexplode_outer;
import static org.apache.spark.sql.functions.size;
import static org.apache.spark.sql.functions.slice;
import static org.apache.spark.sql.functions.try_element_at;
import static org.apache.spark.sql.functions.when;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.semiweak.data.ScoreSchema;

/**
 * The candidate (image, class, score) rows of the scores, with the outcome of each, in Spark SQL:
 * the definition the {@link WindowTopK} baseline builds on, and the one {@link SelectTopK} uses to
 * find examples of invalid rows. {@link CandidateScan} implements the same outcomes on Spark's
 * internal rows for {@link SelectTopK}'s two passes; {@code SelectTopKTest} holds both to a
 * brute-force selection.
 *
 * <p>A candidate is one of the first {@code min(p, maxClassesPerImage)} entries of an image's
 * {@code classes}/{@code probs}. Its outcome is {@link #SELECTABLE} or the first reason it cannot be
 * selected; reasons below {@link #FIRST_INVALID} are normal filtering, the others are bad input.
 */
final class ClassCandidates {
  // Outcome codes. The order of the checks in outcome() is the order listed here.
  static final int SELECTABLE = 0;
  static final int NAN_PROB = 1;
  static final int BELOW_MIN_SCORE = 2;
  static final int NOT_IN_TAGS = 3;
  static final int FIRST_INVALID = 10;
  static final int NULL_ARRAYS = 10;
  static final int LENGTH_MISMATCH = 11;
  static final int TOO_FEW_CLASSES = 12;
  static final int NULL_TAG_CLASSES = 13;
  static final int DUPLICATE_CLASS = 14;
  static final int CLASS_OUT_OF_RANGE = 15;
  static final int PROB_OUT_OF_RANGE = 16;

  static final String POS = "pos";
  static final String CLASS = "class";
  static final String PROB = "prob";
  static final String SCORE = "score";
  static final String OUTCOME = "outcome";
  static final String ROW_ERROR = "row_error";
  /** True on exactly one candidate row per input row, to count images. */
  static final String FIRST = "first";

  private ClassCandidates() {}

  /** What an invalid outcome means, for error messages. */
  static String describe(int outcome, TopKOptions o, int numClasses) {
    return switch (outcome) {
      case NULL_ARRAYS -> "'classes' or 'probs' is null";
      case LENGTH_MISMATCH -> "'classes' and 'probs' have different lengths";
      case TOO_FEW_CLASSES -> "fewer than p=" + o.p() + " classes per image (the scores keep only the top-"
          + "L classes; rescore with a larger top-P, or lower p)";
      case NULL_TAG_CLASSES -> "'tag_classes' is null but tag-consistent selection needs it";
      case DUPLICATE_CLASS -> "a class appears twice among the first " + o.classesPerImage() + " entries of 'classes'";
      case CLASS_OUT_OF_RANGE -> "a class index is null or outside [0, " + (numClasses - 1) + "] (numClasses="
          + numClasses + "; were the scores made with another vocabulary?)";
      case PROB_OUT_OF_RANGE -> "a probability is null or outside [0, 1] (NaN is allowed and counted)";
      default -> "outcome " + outcome;
    };
  }

  /** Checks the columns a selection reads before any job runs; throws naming the column and fix. */
  static void checkSchema(StructType schema, TopKOptions o) {
    List<String> problems = new ArrayList<>();
    expect(schema, ScoreSchema.IMAGE_ID, DataTypes.StringType, problems);
    expect(schema, ScoreSchema.CLASSES, DataTypes.createArrayType(DataTypes.IntegerType), problems);
    expect(schema, ScoreSchema.PROBS, DataTypes.createArrayType(DataTypes.FloatType), problems);
    if (o.tagConsistent()) {
      expect(schema, ScoreSchema.TAG_CLASSES, DataTypes.createArrayType(DataTypes.IntegerType), problems);
    }
    if (!problems.isEmpty()) {
      throw new IllegalArgumentException(
          "scores do not match org.semiweak.data.ScoreSchema: " + String.join("; ", problems)
              + ". Found schema: " + schema.simpleString());
    }
  }

  private static void expect(StructType schema, String name, DataType type, List<String> problems) {
    StructField field = null;
    for (StructField f : schema.fields()) {
      if (f.name().equals(name)) {
        field = f;
      }
    }
    if (field == null) {
      problems.add("column '" + name + "' is missing (expected " + type.simpleString() + ")");
      return;
    }
    DataType found = field.dataType();
    boolean ok = found instanceof ArrayType fa && type instanceof ArrayType ta
        ? fa.elementType().equals(ta.elementType())
        : found.equals(type);
    if (!ok) {
      problems.add(String.format(Locale.ROOT, "column '%s' has type %s, expected %s", name, found.simpleString(),
          type.simpleString()));
    }
  }

  /**
   * One row per candidate position with columns {@code carry..., class, prob, score, outcome,
   * first}.
   *
   * <p>With {@code validate}, whole rows are checked first (nulls, lengths, duplicates) and a bad row
   * yields a single row whose outcome is its error (class and prob null); without it the scores are
   * trusted (the second pass of {@link SelectTopK} after the first validated them, and {@link
   * WindowTopK}).
   *
   * <p>{@code score} is {@code prob} with -0.0 made 0.0, so that equal scores have equal bytes in the
   * output; {@code first} is true on exactly one row per input row, to count images.
   *
   * @param carry input columns copied onto every candidate row (e.g. image_id)
   */
  static Dataset<Row> explode(Dataset<Row> scores, TopKOptions o, int numClasses, boolean validate,
      List<String> carry) {
    int m = o.classesPerImage();
    Column classes = col(ScoreSchema.CLASSES);
    Column probs = col(ScoreSchema.PROBS);
    Column tags = col(ScoreSchema.TAG_CLASSES);

    List<Column> keep = new ArrayList<>();
    for (String c : carry) {
      keep.add(col(c));
    }
    keep.add(probs);
    if (o.tagConsistent()) {
      keep.add(tags);
    }
    List<Column> select = new ArrayList<>(keep);
    Dataset<Row> exploded;
    if (validate) {
      Column rowError = when(classes.isNull().or(probs.isNull()), lit(NULL_ARRAYS))
          .when(size(classes).notEqual(size(probs)), lit(LENGTH_MISMATCH))
          .when(size(classes).lt(o.p()), lit(TOO_FEW_CLASSES));
      if (o.tagConsistent()) {
        rowError = rowError.when(tags.isNull(), lit(NULL_TAG_CLASSES));
      }
      rowError = rowError.when(size(array_distinct(slice(classes, 1, m))).notEqual(m), lit(DUPLICATE_CLASS));
      List<Column> withError = new ArrayList<>(keep);
      withError.add(classes);
      withError.add(rowError.as(ROW_ERROR));
      select.add(col(ROW_ERROR));
      select.add(posexplode_outer(when(col(ROW_ERROR).isNull(), slice(classes, 1, m)))
          .as(new String[] {POS, CLASS}));
      exploded = scores.select(withError.toArray(Column[]::new)).select(select.toArray(Column[]::new));
    } else {
      select.add(lit(null).cast(DataTypes.IntegerType).as(ROW_ERROR));
      select.add(posexplode(slice(classes, 1, m)).as(new String[] {POS, CLASS}));
      exploded = scores.select(select.toArray(Column[]::new));
    }

    // The probability gets its own projection so that the checks below read it rather than repeat
    // the array lookup (the optimizer does not inline non-trivial expressions used several times).
    List<Column> withProb = new ArrayList<>();
    for (String c : carry) {
      withProb.add(col(c));
    }
    if (o.tagConsistent()) {
      withProb.add(tags);
    }
    withProb.add(col(ROW_ERROR));
    withProb.add(col(CLASS));
    // try_element_at: never an ANSI out-of-bounds error; a missing prob is reported as invalid.
    withProb.add(try_element_at(probs, col(POS).plus(1)).as(PROB));
    withProb.add(coalesce(col(POS).equalTo(0), lit(true)).as(FIRST));
    Dataset<Row> candidates = exploded.select(withProb.toArray(Column[]::new));

    Column cls = col(CLASS);
    Column prob = col(PROB);
    Column outcome = when(col(ROW_ERROR).isNotNull(), col(ROW_ERROR))
        .when(cls.isNull().or(cls.lt(0)).or(cls.geq(numClasses)), lit(CLASS_OUT_OF_RANGE))
        .when(prob.isNull(), lit(PROB_OUT_OF_RANGE))
        // NaN first: Spark orders NaN above every number, so it would pass the range checks below.
        .when(isnan(prob), lit(NAN_PROB))
        .when(prob.lt(0).or(prob.gt(1)), lit(PROB_OUT_OF_RANGE))
        .when(prob.lt(lit(o.minScore())), lit(BELOW_MIN_SCORE));
    if (o.tagConsistent()) {
      // array_contains is null when tag_classes holds a null and no match: treat as "not tagged".
      outcome = outcome.when(not(coalesce(array_contains(tags, cls), lit(false))), lit(NOT_IN_TAGS));
    }
    outcome = outcome.otherwise(lit(SELECTABLE));

    List<Column> out = new ArrayList<>();
    for (String c : carry) {
      out.add(col(c));
    }
    out.add(cls);
    out.add(prob);
    out.add(when(prob.equalTo(0), lit(0f)).otherwise(prob).as(SCORE));
    out.add(outcome.as(OUTCOME));
    out.add(col(FIRST));
    return candidates.select(out.toArray(Column[]::new));
  }
}
