package org.semiweak.data;

import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * The Parquet schema of teacher scores: per image, its top-Pmax classes and their probabilities.
 *
 * <p>{@code classes} and {@code probs} have the same length (Pmax, or the class count if smaller)
 * and are ordered by probability descending, ties by class index ascending. {@code tag_classes}
 * and {@code label} are copied from the image shards so that selection reads the scores alone.
 *
 * <p>Optionally (score option {@code logits}, {@link org.semiweak.run.result.ScoreResult#hasLogits()}), a seventh column
 * {@code logits} holds every image's full logit vector, one value per class in class order
 * ({@link #WITH_LOGITS}): what distillation needs. Scores written without it (before it existed,
 * or with {@code logits: none}) are the six columns of {@link #SCHEMA}, which is all selection reads.
 *
 * <p>The class names are not a column: each file carries the run's vocabulary once, in its footer's
 * key-value metadata ({@link ParquetKeyValues#CLASS_NAMES}, a JSON array in class order; scores
 * written before have none). A name per row would add P strings per image to the largest output of
 * a run, for a lookup that the footer answers for every row of the file: on the demo's scores (P 10,
 * 10 classes, Snappy) a dictionary-encoded {@code array<string>} of names added 9.9% (5.1 bytes per
 * image, 5 GB per billion images), the footer nothing per row.
 *
 * @see org.semiweak.run.result.ScoreResult
 */
public final class ScoreSchema {
  public static final String IMAGE_ID = ImageSchema.IMAGE_ID;
  public static final String CLASSES = "classes";
  public static final String PROBS = "probs";
  public static final String TAG_CLASSES = ImageSchema.TAG_CLASSES;
  public static final String LABEL = ImageSchema.LABEL;
  public static final String MODEL_FINGERPRINT = "model_fingerprint";
  /** Optional: the teacher's logits for every class (the linear head's outputs before softmax). */
  public static final String LOGITS = "logits";
  /**
   * The score option {@code logits: auto} keeps the logits of teachers with at most this many
   * classes: at most 400 bytes per image, about five times the top-10 columns. Above it (a
   * 1,000-class teacher would add 4 KB per image, 4 TB per billion images) distillation has to be
   * asked for with {@code logits: all}.
   */
  public static final int LOGITS_AUTO_MAX_CLASSES = 100;

  public static final StructType SCHEMA =
      new StructType(
          new StructField[] {
            ImageSchema.field(IMAGE_ID, DataTypes.StringType, false),
            ImageSchema.field(CLASSES, DataTypes.createArrayType(DataTypes.IntegerType, false), false),
            ImageSchema.field(PROBS, DataTypes.createArrayType(DataTypes.FloatType, false), false),
            ImageSchema.field(TAG_CLASSES, DataTypes.createArrayType(DataTypes.IntegerType, false), false),
            ImageSchema.field(LABEL, DataTypes.IntegerType, true),
            ImageSchema.field(MODEL_FINGERPRINT, DataTypes.StringType, false)
          });

  /** {@link #SCHEMA} and the {@code logits} column: scores that distillation can read. */
  public static final StructType WITH_LOGITS =
      SCHEMA.add(ImageSchema.field(LOGITS, DataTypes.createArrayType(DataTypes.FloatType, false), false));

  private ScoreSchema() {}
}
