package org.semiweak.util;

import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Prints the progress of long work (records done, rate, ETA) at most every {@code interval}, and a
 * closing summary line.
 *
 * <pre>{@code
 * try (Progress p = Progress.start("score", totalImages)) {
 *   for (...) { ...; p.add(batchSize); }
 * }   // prints "score: done 70,000 records in 21.3 s (3,286/s)"
 * }</pre>
 *
 * <p>Thread safe; {@code total} may be {@code -1} when unknown. Work that also knows its bytes (input
 * files) reports them with {@link #addBytes}; with a byte total the ETA comes from the bytes when the
 * record total is unknown (a folder of tar shards: the tar sizes are known, their samples are not).
 */
public final class Progress implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Progress.class);

  private final String label;
  private final long total;
  private final long totalBytes;
  private final AtomicLong bytes = new AtomicLong();
  private final long intervalNanos;
  private final long startNanos = System.nanoTime();
  private final AtomicLong done = new AtomicLong();
  private final Consumer<String> sink;
  private volatile long lastReportNanos = startNanos;
  private volatile String suffix = "";

  private Progress(String label, long total, long totalBytes, Duration interval, Consumer<String> sink) {
    this.label = label;
    this.total = total;
    this.totalBytes = totalBytes;
    this.intervalNanos = interval.toNanos();
    this.sink = sink;
  }

  /** Starts a progress report that logs every 10 seconds. */
  public static Progress start(String label, long total) {
    return new Progress(label, total, -1, Duration.ofSeconds(10), LOG::info);
  }

  /** Starts a progress report of records and bytes ({@code totalBytes} -1 when unknown), every 10 seconds. */
  public static Progress start(String label, long total, long totalBytes) {
    return new Progress(label, total, totalBytes, Duration.ofSeconds(10), LOG::info);
  }

  public static Progress start(String label, long total, Duration interval, Consumer<String> sink) {
    return new Progress(label, total, -1, interval, sink);
  }

  public static Progress start(String label, long total, long totalBytes, Duration interval, Consumer<String> sink) {
    return new Progress(label, total, totalBytes, interval, sink);
  }

  /** Counts bytes of input done (reported with the next line). */
  public void addBytes(long n) {
    bytes.addAndGet(n);
  }

  public long bytesDone() {
    return bytes.get();
  }

  /** Extra text appended to each report line, e.g. the current loss. */
  public void setSuffix(String suffix) {
    this.suffix = suffix == null ? "" : suffix;
  }

  public void add(long n) {
    long now = System.nanoTime();
    long d = done.addAndGet(n);
    if (now - lastReportNanos >= intervalNanos) {
      synchronized (this) {
        if (now - lastReportNanos >= intervalNanos) {
          lastReportNanos = now;
          sink.accept(line(d, now));
        }
      }
    }
  }

  public long done() {
    return done.get();
  }

  public double elapsedSeconds() {
    return (System.nanoTime() - startNanos) / 1e9;
  }

  /** Records per second since the start. */
  public double rate() {
    double s = elapsedSeconds();
    return s <= 0 ? 0 : done.get() / s;
  }

  /** A rate with the digits that matter: 1,234 / 12.3 / 0.45 (training steps run below one a second). */
  static String formatRate(double perSecond) {
    return String.format(Locale.ROOT, perSecond >= 100 ? "%,.0f" : perSecond >= 1 ? "%.1f" : "%.2f", perSecond);
  }

  String line(long d, long now) {
    double secs = (now - startNanos) / 1e9;
    double rate = secs > 0 ? d / secs : 0;
    StringBuilder sb = new StringBuilder();
    sb.append(label).append(": ").append(String.format(Locale.ROOT, "%,d", d));
    if (total >= 0) {
      sb.append(String.format(Locale.ROOT, "/%,d (%.1f%%)", total, total == 0 ? 100.0 : 100.0 * d / total));
    }
    boolean withBytes = totalBytes >= 0 || bytes.get() > 0;
    long b = bytes.get();
    if (withBytes) {
      sb.append(" records, ").append(formatBytes(b));
      if (totalBytes >= 0) {
        sb.append(String.format(Locale.ROOT, " of %s (%.1f%%)", formatBytes(totalBytes),
            totalBytes == 0 ? 100.0 : 100.0 * b / totalBytes));
      }
    }
    sb.append(", ").append(formatRate(rate)).append("/s");
    if (withBytes) {
      sb.append(", ").append(formatBytes(secs > 0 ? (long) (b / secs) : 0)).append("/s");
    }
    if (total >= 0 && rate > 0 && d < total) {
      sb.append(", ETA ").append(formatSeconds((total - d) / rate));
    } else if (total < 0 && totalBytes > 0 && b > 0 && b < totalBytes) {
      sb.append(", ETA ").append(formatSeconds((totalBytes - b) / (b / secs)));
    }
    if (!suffix.isEmpty()) {
      sb.append(", ").append(suffix);
    }
    return sb.toString();
  }

  /** Bytes in B, KiB, MiB, GiB or TiB with one decimal. */
  public static String formatBytes(long n) {
    if (n < 1024) {
      return n + " B";
    }
    String[] units = {"KiB", "MiB", "GiB", "TiB"};
    double v = n;
    int u = -1;
    while (v >= 1024 && u < units.length - 1) {
      v /= 1024;
      u++;
    }
    return String.format(Locale.ROOT, "%.1f %s", v, units[u]);
  }

  public static String formatSeconds(double seconds) {
    long s = Math.round(seconds);
    if (s < 60) {
      return s + " s";
    }
    if (s < 3600) {
      return String.format(Locale.ROOT, "%d min %02d s", s / 60, s % 60);
    }
    return String.format(Locale.ROOT, "%d h %02d min", s / 3600, (s % 3600) / 60);
  }

  @Override
  public void close() {
    long d = done.get();
    double secs = elapsedSeconds();
    sink.accept(
        String.format(
            Locale.ROOT,
            "%s: done %,d records%s in %s (%,.0f/s)%s",
            label,
            d,
            totalBytes >= 0 || bytes.get() > 0 ? " (" + formatBytes(bytes.get()) + ")" : "",
            secs < 60 ? String.format(Locale.ROOT, "%.1f s", secs) : formatSeconds(secs),
            secs > 0 ? d / secs : 0,
            suffix.isEmpty() ? "" : ", " + suffix));
  }
}
