package org.semiweak.data;

import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * The Parquet tables the evaluate stage writes next to its manifest, in long format so that Spark
 * SQL, pyarrow, pandas or DuckDB read them without knowing semiweak: one row per (split, model,
 * class) in {@code evaluate/per_class/}, one per (split, model, true class, predicted class) in
 * {@code evaluate/confusion/}. Column names are plain identifiers in every one of those tools (no
 * {@code class}, a keyword in Python).
 */
public final class MetricsSchema {
  public static final String PER_CLASS_DIR = "per_class";
  public static final String CONFUSION_DIR = "confusion";

  /** {@code test} or {@code validation}: the prepared split the model was evaluated on. */
  public static final String SPLIT = "split";
  /** The model's stage, e.g. {@code student/semi-weak/k4000-p2/finetune}. */
  public static final String MODEL = "model";
  /** teacher, student or baseline. */
  public static final String ROLE = "role";
  public static final String CLASS_INDEX = "class_index";
  public static final String CLASS_NAME = "class_name";
  /** Images of the class predicted as the class (top-1). */
  public static final String CORRECT = "correct";
  /** Images of the class in the split. */
  public static final String SUPPORT = "support";
  /** correct / support; null when the split has no image of the class. */
  public static final String ACCURACY = "accuracy";
  public static final String TRUE_CLASS = "true_class";
  public static final String TRUE_CLASS_NAME = "true_class_name";
  public static final String PREDICTED_CLASS = "predicted_class";
  public static final String PREDICTED_CLASS_NAME = "predicted_class_name";
  /** Images of the true class predicted as the predicted class; zero cells are written too. */
  public static final String COUNT = "count";

  public static final StructType PER_CLASS =
      new StructType(
          new StructField[] {
            ImageSchema.field(SPLIT, DataTypes.StringType, false),
            ImageSchema.field(MODEL, DataTypes.StringType, false),
            ImageSchema.field(ROLE, DataTypes.StringType, false),
            ImageSchema.field(CLASS_INDEX, DataTypes.IntegerType, false),
            ImageSchema.field(CLASS_NAME, DataTypes.StringType, false),
            ImageSchema.field(CORRECT, DataTypes.LongType, false),
            ImageSchema.field(SUPPORT, DataTypes.LongType, false),
            ImageSchema.field(ACCURACY, DataTypes.DoubleType, true)
          });

  public static final StructType CONFUSION =
      new StructType(
          new StructField[] {
            ImageSchema.field(SPLIT, DataTypes.StringType, false),
            ImageSchema.field(MODEL, DataTypes.StringType, false),
            ImageSchema.field(ROLE, DataTypes.StringType, false),
            ImageSchema.field(TRUE_CLASS, DataTypes.IntegerType, false),
            ImageSchema.field(TRUE_CLASS_NAME, DataTypes.StringType, false),
            ImageSchema.field(PREDICTED_CLASS, DataTypes.IntegerType, false),
            ImageSchema.field(PREDICTED_CLASS_NAME, DataTypes.StringType, false),
            ImageSchema.field(COUNT, DataTypes.LongType, false)
          });

  private MetricsSchema() {}
}
