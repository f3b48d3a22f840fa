package org.semiweak.stage;

import java.io.IOException;
import java.io.UncheckedIOException;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.semiweak.data.ImageSchema;
import org.semiweak.data.Vocabulary;
import org.semiweak.run.RunDir;
import org.semiweak.run.RunLayout;
import org.semiweak.run.Split;
import org.semiweak.run.StageId;
import org.semiweak.run.StageManifest;
import org.semiweak.run.result.PrepResult;

/**
 * The committed output of data-prep as later stages see it: its manifest and typed result, the
 * class vocabulary, the image format, and the splits.
 */
public final class PrepInfo {
  private final RunDir run;
  private final StageManifest manifest;
  private final PrepResult result;
  private final Vocabulary vocabulary;

  private PrepInfo(RunDir run, StageManifest manifest, PrepResult result, Vocabulary vocabulary) {
    this.run = run;
    this.manifest = manifest;
    this.result = result;
    this.vocabulary = vocabulary;
  }

  /** Reads the committed prep stage, or fails saying that {@code neededBy} needs prep to run first. */
  public static PrepInfo require(RunDir run, StageId neededBy) {
    return read(run, neededBy.path());
  }

  /** Reads the committed prep stage of a run (for tools and tests that are no stage). */
  public static PrepInfo read(RunDir run) {
    return read(run, "this tool");
  }

  private static PrepInfo read(RunDir run, String neededBy) {
    StageManifest m = run.require(RunLayout.prep(), neededBy);
    try {
      Vocabulary v = Vocabulary.fromJson(run.readString(vocabularyPath(run, m)));
      return new PrepInfo(run, m, m.result(PrepResult.class), v);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the vocabulary of " + vocabularyPath(run, m) + ": " + e.getMessage(), e);
    }
  }

  private static org.apache.hadoop.fs.Path vocabularyPath(RunDir run, StageManifest prep) {
    return new org.apache.hadoop.fs.Path(run.dataPath(prep), RunLayout.VOCABULARY_FILE);
  }

  public StageManifest manifest() {
    return manifest;
  }

  public PrepResult result() {
    return result;
  }

  public Vocabulary vocabulary() {
    return vocabulary;
  }

  public int numClasses() {
    return vocabulary.numClasses();
  }

  public int imageSize() {
    return result.imageSize();
  }

  public int channels() {
    return result.channels();
  }

  /**
   * Reads one split with the image-shard schema, after checking that every file of it is a whole
   * Parquet file with the schema's columns ({@link ParquetInput}).
   */
  public Dataset<Row> read(SparkSession spark, Split split) {
    return input(split).read(spark);
  }

  /** One split as a checked stage input. */
  public ParquetInput input(Split split) {
    return new ParquetInput(new org.apache.hadoop.fs.Path(run.dataPath(manifest), split.dirName()), ImageSchema.SCHEMA,
        "ImageSchema", RunLayout.prep());
  }
}
