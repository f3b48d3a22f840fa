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

  /** A resource every DJL PyTorch native bundle jar (pytorch-native-cpu, -cu*) carries. */
  static final String NATIVE_BUNDLE_MARKER = "native/lib/pytorch.properties";

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
        try {
          engine = Engine.getEngine("PyTorch");
        } catch (RuntimeException failure) {
          throw new IllegalStateException(libtorchUnavailable(String.valueOf(failure.getMessage()),
              Engines.class.getClassLoader().getResource(NATIVE_BUNDLE_MARKER) != null), failure);
        }
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

  /**
   * Why libtorch did not load, for the one-line failure: DJL's own message when the native bundle
   * is missing is about an index file it could not download, which says nothing of the cause here
   * (a slim application jar on a cluster that did not stage the bundle).
   */
  static String libtorchUnavailable(String djlMessage, boolean bundleOnClasspath) {
    if (bundleOnClasspath) {
      return "libtorch could not be loaded from the DJL native bundle on the classpath (DJL: " + djlMessage + ")";
    }
    return "libtorch could not be loaded: no DJL native bundle (pytorch-native-cpu or pytorch-native-cu*) is on this"
        + " JVM's classpath, and DJL runs offline, so it downloads nothing (DJL: " + djlMessage + "). The slim"
        + " application jar (semiweak-app-*-slim.jar) needs the bundle staged on the cluster, e.g. --jars"
        + " hdfs:///semiweak/lib/pytorch-native-cpu-VERSION-linux-x86_64.jar from the distribution's lib/"
        + " (deploy/README.md, \"Native libraries\");"
        + " the default application jar carries it";
  }

  private static void setIfAbsent(String key, String value) {
    if (System.getProperty(key) == null) {
      System.setProperty(key, value);
    }
  }
}
