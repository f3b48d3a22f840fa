package org.semiweak.stage;

import org.apache.spark.sql.SparkSession;
import org.apache.spark.util.LongAccumulator;
import org.semiweak.util.Progress;

/**
 * Progress of a Spark job on the driver: tasks add records to an accumulator, a daemon thread
 * feeds them to a {@link Progress} (records, rate and ETA every 10 seconds), and {@link #close()}
 * prints its summary. Task updates reach the driver when a task finishes, so the granularity is
 * one task. Every Spark stage reports its progress through this class (scoring, data-prep).
 */
public final class SparkProgress implements AutoCloseable {
  private final LongAccumulator records;
  private final LongAccumulator bytes;
  private final Progress progress;
  private final Thread poller;
  private volatile boolean running = true;

  public SparkProgress(SparkSession spark, String label, long total) {
    this(spark, label, total, -1);
  }

  /**
   * Progress of records and bytes: tasks add to {@link #accumulator()} and {@link #bytes()}; with
   * {@code totalBytes} known (input file sizes) and {@code total} unknown, the ETA comes from the bytes.
   */
  public SparkProgress(SparkSession spark, String label, long total, long totalBytes) {
    this.records = spark.sparkContext().longAccumulator(label + " records");
    this.bytes = spark.sparkContext().longAccumulator(label + " bytes");
    this.progress = Progress.start(label, total, totalBytes);
    this.poller = new Thread(() -> {
      long seen = 0;
      while (running) {
        try {
          Thread.sleep(1000);
        } catch (InterruptedException e) {
          return;
        }
        moveBytes();
        long now = records.value();
        if (now > seen) {
          progress.add(now - seen);
          seen = now;
        }
      }
    }, "progress-" + label);
    poller.setDaemon(true);
    poller.start();
  }

  /** The accumulator tasks add their records to (ship it in the task closure). */
  public LongAccumulator accumulator() {
    return records;
  }

  /** The accumulator tasks add the bytes they read to (ship it in the task closure). */
  public LongAccumulator bytes() {
    return bytes;
  }

  private void moveBytes() {
    long b = bytes.value() - progress.bytesDone();
    if (b > 0) {
      progress.addBytes(b);
    }
  }

  public double rate() {
    return progress.rate();
  }

  public double elapsedSeconds() {
    return progress.elapsedSeconds();
  }

  @Override
  public void close() {
    running = false;
    poller.interrupt();
    try {
      poller.join(2000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    moveBytes();
    long missing = records.value() - progress.done();
    if (missing > 0) {
      progress.add(missing);
    }
    progress.close();
  }
}
