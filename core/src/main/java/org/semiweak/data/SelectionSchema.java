package org.semiweak.data;

import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * The Parquet schema of a pseudo-label selection: for each class, its top-K images.
 *
 * <p>{@code rank} is 1-based within the class: score descending, ties by image id ascending. An
 * image may appear under several classes (unless the selection limits classes per image).
 */
public final class SelectionSchema {
  public static final String IMAGE_ID = ImageSchema.IMAGE_ID;
  public static final String CLASS = "class";
  public static final String SCORE = "score";
  public static final String RANK = "rank";

  public static final StructType SCHEMA =
      new StructType(
          new StructField[] {
            ImageSchema.field(IMAGE_ID, DataTypes.StringType, false),
            ImageSchema.field(CLASS, DataTypes.IntegerType, false),
            ImageSchema.field(SCORE, DataTypes.FloatType, false),
            ImageSchema.field(RANK, DataTypes.IntegerType, false)
          });

  private SelectionSchema() {}
}
