package org.semiweak.prep;

import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.Metadata;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.semiweak.data.ImageSchema;
import org.semiweak.prep.image.CanonicalImage;

/**
 * The rows every source produces before deduplication: one per input record, either a decoded
 * image ({@code status = ok}) or a rejected record ({@code status} = its {@link Reason#code()}).
 *
 * <p>Columns: the {@link ImageSchema#SCHEMA} columns (nullable here, filled for images) plus
 * {@code record_key} (unique and deterministic: source file and position), {@code status},
 * {@code detail}, {@code split} ({@code labeled}, {@code unlabeled}, {@code validation}, {@code test}, or {@code train}
 * for idx train records whose split is decided after deduplication), {@code select_key} (idx: the
 * seeded hash that picks the labeled subset) and {@code tags_unknown} (tags the vocabulary does not
 * know).
 */
public final class SourceRecords {
  public static final String RECORD_KEY = "record_key";
  public static final String STATUS = "status";
  public static final String DETAIL = "detail";
  public static final String SPLIT = "split";
  public static final String SELECT_KEY = "select_key";
  public static final String TAGS_UNKNOWN = "tags_unknown";
  /** Added by prep after reading: the index of the input a record came from (in config order). */
  public static final String INPUT = "input";

  public static final String OK = "ok";
  /**
   * Status of a file the source passed over because it holds no data (a text file, the metadata
   * itself): not a record, so not in {@code in}; counted and listed per input as skipped files.
   */
  public static final String SKIPPED = "skipped";
  public static final String LABELED = "labeled";
  public static final String UNLABELED = "unlabeled";
  public static final String TEST = "test";
  /** Labeled images held out from every training stage; evaluate measures models on them besides test. */
  public static final String VALIDATION = "validation";
  /** idx train records before the labeled subset is drawn. */
  public static final String TRAIN = "train";

  public static final StructType SCHEMA = schema();

  private SourceRecords() {}

  private static StructType schema() {
    List<StructField> fields = new ArrayList<>();
    fields.add(new StructField(RECORD_KEY, DataTypes.StringType, false, Metadata.empty()));
    fields.add(new StructField(STATUS, DataTypes.StringType, false, Metadata.empty()));
    fields.add(new StructField(DETAIL, DataTypes.StringType, true, Metadata.empty()));
    fields.add(new StructField(SPLIT, DataTypes.StringType, true, Metadata.empty()));
    fields.add(new StructField(SELECT_KEY, DataTypes.LongType, false, Metadata.empty()));
    fields.add(new StructField(TAGS_UNKNOWN, DataTypes.IntegerType, false, Metadata.empty()));
    for (StructField f : ImageSchema.SCHEMA.fields()) {
      fields.add(new StructField(f.name(), f.dataType(), true, Metadata.empty()));
    }
    return new StructType(fields.toArray(new StructField[0]));
  }

  /** A decoded image. */
  public static Row image(String recordKey, String split, long selectKey, String imageId, CanonicalImage img,
      List<String> tags, PrepSettings.MappedTags mapped, Integer label, String sourceFile, String sourceEntry) {
    Integer[] classes = new Integer[mapped.classes().length];
    for (int i = 0; i < classes.length; i++) {
      classes[i] = mapped.classes()[i];
    }
    return RowFactory.create(recordKey, OK, null, split, selectKey, mapped.unknown(),
        imageId, img.png(), img.height(), img.width(), img.channels(), tags.toArray(new String[0]), classes, label,
        sourceFile, sourceEntry, img.contentHash());
  }

  /** A file that is no record: listed and counted as skipped, with why. */
  public static Row skipped(String recordKey, String file, String detail) {
    return RowFactory.create(recordKey, SKIPPED, detail, null, 0L, 0,
        null, null, null, null, null, null, null, null, file, "", null);
  }

  /** A record that goes to quarantine. */
  public static Row rejected(String recordKey, Reason reason, String detail, String imageId, String sourceFile,
      String sourceEntry) {
    return RowFactory.create(recordKey, reason.code(), detail, null, 0L, 0,
        imageId, null, null, null, null, null, null, null, sourceFile, sourceEntry, null);
  }
}
