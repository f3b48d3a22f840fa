package org.semiweak.testing.cluster;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs {@code org.apache.spark.deploy.SparkSubmit} in its own JVM from a {@link SparkHome}, as
 * {@code spark-submit} would. In the default {@code --deploy-mode client} the driver runs in that
 * JVM; in {@code cluster} mode on YARN it runs in the ApplicationMaster's container and that JVM
 * only submits and follows the application. Either way the application jar reaches the executors
 * through Spark, not through the cluster's installed jars.
 *
 * <pre>{@code
 * SparkSubmitRunner.Result r = cluster.submit()
 *     .appJar(jar).mainClass("org.semiweak.driver.SemiweakCli")
 *     .conf("spark.executor.memory", "1g")
 *     .args("run", "--run-dir", dir, "--config", "run.yaml")
 *     .run(Duration.ofMinutes(5));
 * assertThat(r.exitCode()).as(r.logTail(40)).isZero();
 * }</pre>
 */
public final class SparkSubmitRunner {
  /** How a submission ended; {@code exitCode} is -1 when it was killed for running past its timeout. */
  public record Result(int exitCode, boolean timedOut, Duration elapsed, Path log) {
    /** The whole driver log (stdout and stderr). */
    public String logText() {
      try {
        return new String(Files.readAllBytes(log), StandardCharsets.UTF_8);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    /** The last lines of the driver log, for assertion messages. */
    public String logTail(int lines) {
      return "spark-submit log " + log + ":\n" + ClusterProcesses.tail(log, lines);
    }
  }

  private final SparkHome sparkHome;
  private final Path log;
  private final Map<String, String> env = new LinkedHashMap<>();
  private final Map<String, String> conf = new LinkedHashMap<>();
  private final List<String> args = new ArrayList<>();
  private String master;
  private String deployMode = "client";
  private Path propertiesFile;
  private String mainClass;
  private Path appJar;
  private final List<String> jars = new ArrayList<>();
  private String driverHeap = "1g";
  private final List<String> driverJvmOptions = new ArrayList<>();

  /** A submission from {@code sparkHome} whose driver output goes to {@code log}. */
  public SparkSubmitRunner(SparkHome sparkHome, Path log) {
    this.sparkHome = sparkHome;
    this.log = log;
    env.putAll(sparkHome.environment());
  }

  public SparkSubmitRunner master(String url) {
    this.master = url;
    return this;
  }

  /** {@code --deploy-mode}: {@code client} (the default) or {@code cluster}. */
  public SparkSubmitRunner deployMode(String mode) {
    this.deployMode = mode;
    return this;
  }

  /** {@code --properties-file}: Spark properties read before the {@link #conf} ones, which override them. */
  public SparkSubmitRunner propertiesFile(Path file) {
    this.propertiesFile = file;
    return this;
  }

  public SparkSubmitRunner mainClass(String className) {
    this.mainClass = className;
    return this;
  }

  public SparkSubmitRunner appJar(Path jar) {
    this.appJar = jar;
    return this;
  }

  /** {@code --jars}: more jars for the driver and executors, as URIs (e.g. {@code hdfs:///lib/x.jar}). */
  public SparkSubmitRunner jars(String... uris) {
    jars.addAll(List.of(uris));
    return this;
  }

  /** {@code --conf key=value}. */
  public SparkSubmitRunner conf(String key, String value) {
    conf.put(key, value);
    return this;
  }

  /** Environment of the driver JVM, added to this JVM's. */
  public SparkSubmitRunner env(Map<String, String> vars) {
    env.putAll(vars);
    return this;
  }

  /** Heap of the driver JVM ({@code -Xmx}), default {@code 1g}. */
  public SparkSubmitRunner driverHeap(String heap) {
    this.driverHeap = heap;
    return this;
  }

  /** JVM options of the driver JVM (before the main class), e.g. {@code -Dai.djl.offline=true}. */
  public SparkSubmitRunner driverJvmOptions(String... options) {
    driverJvmOptions.addAll(List.of(options));
    return this;
  }

  /** Arguments for the application's main method. */
  public SparkSubmitRunner args(String... appArgs) {
    args.addAll(List.of(appArgs));
    return this;
  }

  /** The command line {@link #run} starts. */
  public List<String> command() {
    if (master == null || mainClass == null || appJar == null) {
      throw new IllegalStateException("spark-submit needs master, mainClass and appJar; got master=" + master
          + ", mainClass=" + mainClass + ", appJar=" + appJar);
    }
    if (!Files.isRegularFile(appJar)) {
      throw new IllegalArgumentException("application jar " + appJar + " does not exist; build it first");
    }
    // spark-submit reads the cluster's addresses (yarn-site.xml, core-site.xml) from the classpath,
    // where bin/spark-class puts HADOOP_CONF_DIR.
    List<Path> hadoopConf = env.containsKey("HADOOP_CONF_DIR") ? List.of(Path.of(env.get("HADOOP_CONF_DIR"))) : List.of();
    List<String> cmd = sparkHome.javaCommand(driverHeap, driverJvmOptions, hadoopConf, "org.apache.spark.deploy.SparkSubmit");
    cmd.addAll(List.of("--master", master, "--deploy-mode", deployMode, "--class", mainClass));
    if (propertiesFile != null) {
      cmd.addAll(List.of("--properties-file", propertiesFile.toAbsolutePath().toString()));
    }
    if (!jars.isEmpty()) {
      cmd.addAll(List.of("--jars", String.join(",", jars)));
    }
    conf.forEach((k, v) -> cmd.addAll(List.of("--conf", k + "=" + v)));
    cmd.add(appJar.toAbsolutePath().toString());
    cmd.addAll(args);
    return cmd;
  }

  /** Runs the submission to its end, killing it (and its children) after {@code timeout}. */
  public Result run(Duration timeout) {
    List<String> cmd = command();
    long start = System.nanoTime();
    Process p = ClusterProcesses.start(cmd, env, log);
    try {
      boolean done = p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
      if (!done) {
        ClusterProcesses.destroyTrees(List.of(p.toHandle()), 2_000);
      }
      return new Result(done ? p.exitValue() : -1, !done, Duration.ofNanos(System.nanoTime() - start), log);
    } catch (InterruptedException e) {
      ClusterProcesses.destroyTrees(List.of(p.toHandle()), 0);
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting for spark-submit", e);
    }
  }
}
