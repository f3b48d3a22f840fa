package org.semiweak.data;

import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * The Parquet schema of a pseudo-label selection: for each class, its top-K images.
 *
 * <p>{@code rank} is 1-based within the class: score descending, ties by image id ascending. An
 * image may appear under several classes (unless the selection limits classes per image).
 * {@code class_name} is the vocabulary's name of {@code class_index}; every file also carries the
 * whole vocabulary in its key-value metadata ({@link ParquetKeyValues#CLASS_NAMES}).
 *
 * <p>The layout is versioned: {@link org.semiweak.run.result.SelectionResult#schemaVersion()} of the selection's manifest
 * says which one its files have. Version {@value #V1} (selections committed before class names
 * were written) is {@link #V1_SCHEMA}: the class index in a column named {@code class}, a
 * reserved word in Python. Readers go through {@link org.semiweak.stage.SelectionInput}, which
 * reads either and always returns the columns of {@link #SCHEMA}.
 *
 * @see org.semiweak.run.result.SelectionResult
 */
public final class SelectionSchema {
  public static final String IMAGE_ID = ImageSchema.IMAGE_ID;
  /** The class index, {@code 0 .. classes-1} (version 2 on). */
  public static final String CLASS_INDEX = "class_index";
  /** The class name from the vocabulary (version 2 on). */
  public static final String CLASS_NAME = "class_name";
  public static final String SCORE = "score";
  public static final String RANK = "rank";
  /** The class index in selections of version {@value #V1}. */
  public static final String V1_CLASS = "class";

  /** The first layout: {@code image_id, class, score, rank}. */
  public static final int V1 = 1;
  /** The layout written now: {@link #SCHEMA}. */
  public static final int VERSION = 2;

  public static final StructType SCHEMA =
      new StructType(
          new StructField[] {
            ImageSchema.field(IMAGE_ID, DataTypes.StringType, false),
            ImageSchema.field(CLASS_INDEX, DataTypes.IntegerType, false),
            ImageSchema.field(CLASS_NAME, DataTypes.StringType, false),
            ImageSchema.field(SCORE, DataTypes.FloatType, false),
            ImageSchema.field(RANK, DataTypes.IntegerType, false)
          });

  /** Selections of version {@value #V1}: {@code image_id, class, score, rank}. */
  public static final StructType V1_SCHEMA =
      new StructType(
          new StructField[] {
            ImageSchema.field(IMAGE_ID, DataTypes.StringType, false),
            ImageSchema.field(V1_CLASS, DataTypes.IntegerType, false),
            ImageSchema.field(SCORE, DataTypes.FloatType, false),
            ImageSchema.field(RANK, DataTypes.IntegerType, false)
          });

  /**
   * The schema of a layout version.
   *
   * @throws IllegalArgumentException for a version this semiweak does not know (a newer one wrote it)
   */
  public static StructType schema(int version) {
    return switch (version) {
      case V1 -> V1_SCHEMA;
      case VERSION -> SCHEMA;
      default -> throw new IllegalArgumentException("selection schema version " + version + " is unknown to this"
          + " semiweak, which reads versions " + V1 + " to " + VERSION + "; a newer semiweak wrote it");
    };
  }

  private SelectionSchema() {}
}
