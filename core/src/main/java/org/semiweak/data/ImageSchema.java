package org.semiweak.data;

import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.Metadata;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * The Parquet schema of image shards, the dataset every stage after data-prep reads.
 *
 * <p>One row is one image, already resized/cropped to the run's image size at prep time and
 * encoded as PNG, so later stages never resize. Columns:
 *
 * <ul>
 *   <li>{@code image_id} string, not null: stable unique id derived from the source
 *       (e.g. {@code fmnist-train-00042}, a folder-relative path, or {@code shard.tar/key}).
 *   <li>{@code image} binary, not null: PNG bytes, {@code height x width x channels}.
 *   <li>{@code height}, {@code width}, {@code channels} int, not null.
 *   <li>{@code tags} array&lt;string&gt;: the weak tags (e.g. hashtags) as given by the source.
 *   <li>{@code tag_classes} array&lt;int&gt;: the tags mapped through the run's tag vocabulary,
 *       distinct and ascending; unknown tags are dropped here and counted in the prep manifest.
 *   <li>{@code label} int, nullable: the true class when known.
 *   <li>{@code source_file} string, {@code source_entry} string: where the image came from
 *       (file, and entry name or record offset inside it).
 *   <li>{@code content_hash} string: SHA-256 (hex) of the canonical pixels after resizing; equal
 *       hashes are exact duplicates.
 * </ul>
 *
 * <p>The split ({@code labeled}, {@code unlabeled}, {@code test}) is the dataset folder, not a column.
 */
public final class ImageSchema {
  public static final String IMAGE_ID = "image_id";
  public static final String IMAGE = "image";
  public static final String HEIGHT = "height";
  public static final String WIDTH = "width";
  public static final String CHANNELS = "channels";
  public static final String TAGS = "tags";
  public static final String TAG_CLASSES = "tag_classes";
  public static final String LABEL = "label";
  public static final String SOURCE_FILE = "source_file";
  public static final String SOURCE_ENTRY = "source_entry";
  public static final String CONTENT_HASH = "content_hash";

  public static final StructType SCHEMA =
      new StructType(
          new StructField[] {
            field(IMAGE_ID, DataTypes.StringType, false),
            field(IMAGE, DataTypes.BinaryType, false),
            field(HEIGHT, DataTypes.IntegerType, false),
            field(WIDTH, DataTypes.IntegerType, false),
            field(CHANNELS, DataTypes.IntegerType, false),
            field(TAGS, DataTypes.createArrayType(DataTypes.StringType, false), false),
            field(TAG_CLASSES, DataTypes.createArrayType(DataTypes.IntegerType, false), false),
            field(LABEL, DataTypes.IntegerType, true),
            field(SOURCE_FILE, DataTypes.StringType, false),
            field(SOURCE_ENTRY, DataTypes.StringType, false),
            field(CONTENT_HASH, DataTypes.StringType, false)
          });

  /** Quarantine rows: what could not become an image row, and why. */
  public static final String REASON = "reason";

  public static final String DETAIL = "detail";

  public static final StructType QUARANTINE_SCHEMA =
      new StructType(
          new StructField[] {
            field(SOURCE_FILE, DataTypes.StringType, false),
            field(SOURCE_ENTRY, DataTypes.StringType, false),
            field(IMAGE_ID, DataTypes.StringType, true),
            field(REASON, DataTypes.StringType, false),
            field(DETAIL, DataTypes.StringType, true)
          });

  /** Duplicates column: the image id of the record that was kept instead. */
  public static final String DUPLICATE_OF = "duplicate_of";

  /**
   * Exact duplicates that prep dropped ({@code prep/duplicates}): every dropped record, where it came
   * from, and the image id it duplicated (same pixels, or same id and pixels).
   */
  public static final StructType DUPLICATES_SCHEMA =
      new StructType(
          new StructField[] {
            field(SOURCE_FILE, DataTypes.StringType, false),
            field(SOURCE_ENTRY, DataTypes.StringType, false),
            field(IMAGE_ID, DataTypes.StringType, false),
            field(DUPLICATE_OF, DataTypes.StringType, false),
            field(DETAIL, DataTypes.StringType, true)
          });

  private ImageSchema() {}

  static StructField field(String name, org.apache.spark.sql.types.DataType type, boolean nullable) {
    return new StructField(name, type, nullable, Metadata.empty());
  }
}
