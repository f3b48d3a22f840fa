package org.semiweak.bench;

import java.io.IOException;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;

/** What every benchmark reads about the JVM and the machine: CPU time, GC time, load, heap peak. */
final class Probes {
  private Probes() {}

  /** The machine's 1-minute load average, NaN where /proc/loadavg is missing. */
  static double loadAverage() {
    try {
      return Double.parseDouble(Files.readString(Path.of("/proc/loadavg")).split(" ")[0]);
    } catch (IOException | RuntimeException e) {
      return Double.NaN;
    }
  }

  /** CPU time of this JVM (all threads), in seconds. */
  static double cpuSeconds() {
    if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
      return os.getProcessCpuTime() / 1e9;
    }
    return Double.NaN;
  }

  /** Time spent in garbage collection since the JVM started, in seconds. */
  static double gcSeconds() {
    long ms = 0;
    for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
      ms += Math.max(0, gc.getCollectionTime());
    }
    return ms / 1000.0;
  }

  static void log(String format, Object... args) {
    System.err.println("[bench] " + String.format(Locale.ROOT, format, args));
  }

  /** Samples the JVM's heap use every 10 ms and keeps the largest value. */
  static final class HeapSampler implements Runnable {
    private final MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
    private final AtomicLong peak = new AtomicLong();
    private volatile boolean running = true;
    private Thread thread;

    static HeapSampler start() {
      HeapSampler s = new HeapSampler();
      s.thread = new Thread(s, "bench-heap-sampler");
      s.thread.setDaemon(true);
      s.thread.start();
      return s;
    }

    @Override
    public void run() {
      while (running) {
        peak.accumulateAndGet(memory.getHeapMemoryUsage().getUsed(), Math::max);
        try {
          Thread.sleep(10);
        } catch (InterruptedException e) {
          return;
        }
      }
    }

    long stop() {
      running = false;
      try {
        thread.join();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      return peak.accumulateAndGet(memory.getHeapMemoryUsage().getUsed(), Math::max);
    }
  }

  /**
   * One timed piece of work: wall and CPU seconds, GC seconds, heap peak, load at the end. Starts
   * from a collected heap, so the peaks of different runs compare.
   */
  record Timing(double seconds, double cpuSeconds, double gcSeconds, long heapPeakBytes, double loadAverage) {
    /**
     * The best of two runs of the same work: the faster run, with the smaller of the two CPU times
     * (on a shared VM the CPU time of the same work also varies, with cache and core contention).
     */
    static Timing best(Timing a, Timing b) {
      if (a == null) {
        return b;
      }
      Timing fast = a.seconds() <= b.seconds() ? a : b;
      return new Timing(fast.seconds(), Math.min(a.cpuSeconds(), b.cpuSeconds()), fast.gcSeconds(),
          fast.heapPeakBytes(), fast.loadAverage());
    }
  }

  /** Something to time that may throw. */
  interface Work<T> {
    T run() throws Exception;
  }

  /** The result of a timed piece of work and its timing. */
  record Timed<T>(T value, Timing timing) {}

  static <T> Timed<T> time(Work<T> work) {
    System.gc();
    HeapSampler heap = HeapSampler.start();
    double gc0 = gcSeconds();
    double cpu0 = cpuSeconds();
    long t0 = System.nanoTime();
    T value;
    try {
      value = work.run();
    } catch (RuntimeException e) {
      heap.stop();
      throw e;
    } catch (Exception e) {
      heap.stop();
      throw new IllegalStateException(e.getMessage(), e);
    }
    double seconds = (System.nanoTime() - t0) / 1e9;
    double cpu = cpuSeconds() - cpu0;
    long peak = heap.stop();
    return new Timed<>(value, new Timing(seconds, cpu, gcSeconds() - gc0, peak, loadAverage()));
  }
}
