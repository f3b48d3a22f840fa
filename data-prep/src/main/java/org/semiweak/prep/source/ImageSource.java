package org.semiweak.prep.source;

import java.util.List;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.semiweak.prep.PrepSettings;

/**
 * A kind of raw input that data-prep reads. {@link #inspect()} validates and fingerprints the input
 * on the driver without Spark; {@link #candidates} reads it on executors and yields one
 * {@link org.semiweak.prep.SourceRecords} row per input record.
 */
public interface ImageSource {
  /** An input file or folder and its fingerprint, for the stage manifest. */
  record InputFingerprint(String name, String path, String fingerprint) {}

  /**
   * Checks that the input exists and is well formed (headers, names) and fingerprints it. Throws
   * {@link org.semiweak.config.ConfigException} or {@link IllegalStateException} with a message
   * for the user. Called once; the result is cached.
   */
  List<InputFingerprint> inspect();

  /** Records the input holds, when known before reading it (for progress), else -1. */
  long expectedRecords();

  /** Bytes the input holds, from its listing (for progress and its ETA), else -1. */
  long expectedBytes();

  /**
   * The candidate rows, computed on executors: one per record, plus one {@code skipped} row per
   * file that holds no data ({@link org.semiweak.prep.SourceRecords#skipped}).
   *
   * @param partitions Spark tasks to use, or 0 to choose from the input size
   * @param counters records and bytes read (progress reporting only)
   */
  JavaRDD<Row> candidates(SparkSession spark, PrepSettings settings, int partitions, ReadCounters counters);
}
