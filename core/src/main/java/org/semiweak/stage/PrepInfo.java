package org.semiweak.stage;

import java.io.IOException;
import java.io.UncheckedIOException;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.semiweak.data.ImageSchema;
import org.semiweak.data.Vocabulary;
import org.semiweak.run.RunDir;
import org.semiweak.run.StageManifest;

/**
 * The committed output of data-prep as later stages see it: its manifest, the class vocabulary,
 * the image format, and the three splits.
 */
public final class PrepInfo {
  public static final String STAGE = "prep";
  public static final String LABELED = "labeled";
  public static final String UNLABELED = "unlabeled";
  public static final String TEST = "test";
  public static final String VOCABULARY_FILE = "vocabulary.json";

  private final RunDir run;
  private final StageManifest manifest;
  private final Vocabulary vocabulary;
  private final int imageSize;
  private final int channels;

  private PrepInfo(RunDir run, StageManifest manifest, Vocabulary vocabulary, int imageSize, int channels) {
    this.run = run;
    this.manifest = manifest;
    this.vocabulary = vocabulary;
    this.imageSize = imageSize;
    this.channels = channels;
  }

  /** Reads the committed prep stage, or fails saying that prep must run first. */
  public static PrepInfo require(RunDir run, String neededBy) {
    StageManifest m = run.require(STAGE, neededBy);
    try {
      Vocabulary v = Vocabulary.fromJson(run.readString(new Path(run.stagePath(STAGE), VOCABULARY_FILE)));
      return new PrepInfo(run, m, v, intOption(m, "image-size"), intOption(m, "channels"));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the vocabulary of " + run.stagePath(STAGE) + ": " + e.getMessage(), e);
    }
  }

  private static int intOption(StageManifest m, String key) {
    Object v = m.options().get(key);
    if (!(v instanceof Number n)) {
      throw new IllegalStateException("the prep manifest has no numeric option '" + key + "' (found " + v + ")");
    }
    return n.intValue();
  }

  public StageManifest manifest() {
    return manifest;
  }

  public Vocabulary vocabulary() {
    return vocabulary;
  }

  public int numClasses() {
    return vocabulary.numClasses();
  }

  public int imageSize() {
    return imageSize;
  }

  public int channels() {
    return channels;
  }

  public Path splitPath(String split) {
    return new Path(run.stagePath(STAGE), split);
  }

  /**
   * Reads one split with the image-shard schema, after checking that every file of it is a whole
   * Parquet file with the schema's columns ({@link ParquetInput}).
   */
  public Dataset<Row> read(SparkSession spark, String split) {
    return input(split).read(spark);
  }

  /** One split as a checked stage input. */
  public ParquetInput input(String split) {
    return new ParquetInput(splitPath(split), ImageSchema.SCHEMA, "ImageSchema", STAGE);
  }
}
