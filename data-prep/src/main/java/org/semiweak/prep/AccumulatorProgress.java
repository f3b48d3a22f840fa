package org.semiweak.prep;

import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.spark.util.LongAccumulator;
import org.semiweak.util.Progress;

/**
 * Reports the progress of a Spark job on the driver by polling an accumulator that tasks increment
 * per record: records done, rate and ETA every 10 seconds, and a summary line at the end. Task
 * updates reach the driver when a task finishes, so the granularity is one task.
 */
final class AccumulatorProgress implements AutoCloseable {
  private final LongAccumulator counter;
  private final Progress progress;
  private final ScheduledExecutorService poller;
  private long reported;

  AccumulatorProgress(String label, long total, LongAccumulator counter) {
    this.counter = counter;
    this.progress = Progress.start(label, total);
    this.poller = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "prep-progress");
      t.setDaemon(true);
      return t;
    });
    poller.scheduleAtFixedRate(this::poll, 1, 1, TimeUnit.SECONDS);
  }

  private synchronized void poll() {
    long now = counter.value();
    if (now > reported) {
      progress.add(now - reported);
      reported = now;
    }
  }

  double elapsedSeconds() {
    return progress.elapsedSeconds();
  }

  @Override
  public void close() {
    poller.shutdownNow();
    poll();
    progress.close();
  }
}
