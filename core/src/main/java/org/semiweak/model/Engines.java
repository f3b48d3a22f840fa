package org.semiweak.model;

import ai.djl.engine.Engine;
import org.apache.spark.SparkEnv;
import org.apache.spark.TaskContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Prepares the DJL PyTorch engine before its first use: offline mode and libtorch thread counts.
 *
 * <p>libtorch reads its thread counts once, when the engine loads, so every entry point of this
 * package calls {@link #configure()} before touching DJL. Unless already set (by
 * {@code -D} or an earlier call):
 *
 * <ul>
 *   <li>{@code ai.djl.offline=true}: a missing native library fails at once instead of downloading.
 *   <li>{@code ai.djl.pytorch.num_threads} and {@code ai.djl.pytorch.num_interop_threads} = 1 when
 *       Spark runs in this JVM (an executor, or a driver whose local-mode tasks share its cores):
 *       one task per core, since tasks sharing cores with more threads each were seen 10x slower.
 *       A plain JVM without Spark keeps libtorch's default (all cores).
 * </ul>
 */
public final class Engines {
  private static final Logger LOG = LoggerFactory.getLogger(Engines.class);
  public static final String OFFLINE = "ai.djl.offline";
  public static final String NUM_THREADS = "ai.djl.pytorch.num_threads";
  public static final String NUM_INTEROP_THREADS = "ai.djl.pytorch.num_interop_threads";

  private static volatile Engine engine;

  private Engines() {}

  /** Sets the defaults above (idempotent) and returns the loaded PyTorch engine. */
  public static Engine configure() {
    Engine e = engine;
    if (e != null) {
      return e;
    }
    synchronized (Engines.class) {
      if (engine == null) {
        setIfAbsent(OFFLINE, "true");
        if (TaskContext.get() != null || SparkEnv.get() != null) {
          setIfAbsent(NUM_THREADS, "1");
          setIfAbsent(NUM_INTEROP_THREADS, "1");
        }
        engine = Engine.getEngine("PyTorch");
        LOG.info(
            "DJL {} engine {} ready: {} GPU(s), threads {} / interop {}",
            engine.getEngineName(),
            engine.getVersion(),
            engine.getGpuCount(),
            System.getProperty(NUM_THREADS, "default"),
            System.getProperty(NUM_INTEROP_THREADS, "default"));
      }
      return engine;
    }
  }

  private static void setIfAbsent(String key, String value) {
    if (System.getProperty(key) == null) {
      System.setProperty(key, value);
    }
  }
}
