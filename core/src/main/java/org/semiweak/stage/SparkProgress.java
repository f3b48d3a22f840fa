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
  private final Progress progress;
  private final Thread poller;
  private volatile boolean running = true;

  public SparkProgress(SparkSession spark, String label, long total) {
    this.records = spark.sparkContext().longAccumulator(label + " records");
    this.progress = Progress.start(label, total);
    this.poller = new Thread(() -> {
      long seen = 0;
      while (running) {
        try {
          Thread.sleep(1000);
        } catch (InterruptedException e) {
          return;
        }
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
    long missing = records.value() - progress.done();
    if (missing > 0) {
      progress.add(missing);
    }
    progress.close();
  }
}
