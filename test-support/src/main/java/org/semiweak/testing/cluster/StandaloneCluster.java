package org.semiweak.testing.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Predicate;
import org.apache.spark.sql.SparkSession;

/**
 * A Spark standalone cluster on 127.0.0.1: one master and N workers, each a separate JVM started
 * from a {@link SparkHome} linked from the test classpath. Workers launch real executor JVMs, so
 * jobs serialize closures, shuffle over the network and survive (or not) the loss of an executor
 * as on a real cluster.
 *
 * <pre>{@code
 * try (StandaloneCluster cluster = StandaloneCluster.builder(dir).workers(2).start()) {
 *   SparkSession spark = SparkSession.builder().master(cluster.masterUrl())
 *       .config("spark.jars", cluster.applicationJarsConf()) ... .getOrCreate();
 * }
 * }</pre>
 *
 * <p>{@link #close()} ends every process it started, executors included, by PID. A shutdown hook
 * does the same if the JVM exits without closing it.
 */
public final class StandaloneCluster implements AutoCloseable {
  /** One executor JVM launched by a worker. */
  public record ExecutorProcess(long pid, String executorId, String appId, int worker) {}

  private static final String EXECUTOR_MAIN = "org.apache.spark.executor.CoarseGrainedExecutorBackend";
  private static final ObjectMapper JSON = new ObjectMapper();
  /**
   * Master and workers only route messages and launch executors: the client compiler and serial GC
   * start them with far less CPU, which matters on small shared CI machines.
   */
  private static final List<String> DAEMON_JVM_OPTIONS = List.of("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC");

  private final Path dir;
  private final SparkHome sparkHome;
  private final Map<String, String> env;
  private final int expectedWorkers;
  private final Duration readyTimeout;
  private final int masterPort;
  private final int masterWebUiPort;
  private final Process master;
  private final List<Process> workers = new ArrayList<>();
  private final List<Path> workerLogs = new ArrayList<>();
  private final Set<Long> seenPids = new LinkedHashSet<>();
  private final Thread shutdownHook;
  private List<Path> applicationJars;
  private int submissions;
  private boolean closed;

  private StandaloneCluster(Builder b) {
    this.dir = b.dir.toAbsolutePath();
    this.expectedWorkers = b.workers;
    this.readyTimeout = b.readyTimeout;
    this.sparkHome = SparkHome.fromClasspath(dir.resolve("spark-home"), b.includeJar);
    this.env = new LinkedHashMap<>(sparkHome.environment());
    env.putAll(b.env);
    this.masterPort = ClusterProcesses.freePort();
    this.masterWebUiPort = ClusterProcesses.freePort();
    this.shutdownHook = new Thread(this::destroyAll, "standalone-cluster-cleanup");
    Runtime.getRuntime().addShutdownHook(shutdownHook);

    List<String> masterCmd = sparkHome.javaCommand(b.daemonHeap, DAEMON_JVM_OPTIONS,
        "org.apache.spark.deploy.master.Master");
    // No REST submission server: it would take the fixed port 6066 and clash with a second cluster.
    masterCmd.add(masterCmd.size() - 1, "-Dspark.master.rest.enabled=false");
    masterCmd.addAll(List.of("--host", "127.0.0.1", "--port", String.valueOf(masterPort),
        "--webui-port", String.valueOf(masterWebUiPort)));
    this.master = ClusterProcesses.start(masterCmd, env, masterLog());
    seenPids.add(master.pid());
    for (int i = 1; i <= b.workers; i++) {
      Path workDir = dir.resolve("work/worker-" + i);
      try {
        Files.createDirectories(workDir);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      List<String> cmd = sparkHome.javaCommand(b.daemonHeap, DAEMON_JVM_OPTIONS,
          "org.apache.spark.deploy.worker.Worker");
      cmd.addAll(List.of("--host", "127.0.0.1", "--webui-port", String.valueOf(ClusterProcesses.freePort()),
          "--cores", String.valueOf(b.workerCores), "--memory", b.workerMemory,
          "--work-dir", workDir.toString(), masterUrl()));
      Path log = dir.resolve("logs/worker-" + i + ".log");
      workerLogs.add(log);
      Process worker = ClusterProcesses.start(cmd, env, log);
      workers.add(worker);
      seenPids.add(worker.pid());
    }
  }

  /** A cluster whose files (SPARK_HOME, logs, work dirs) go under {@code dir}; kept after close for diagnosis. */
  public static Builder builder(Path dir) {
    return new Builder(dir);
  }

  /** Options of a cluster; defaults: 2 workers of 1 core and 2g each, 512m daemon heaps. */
  public static final class Builder {
    private final Path dir;
    private int workers = 2;
    private int workerCores = 1;
    private String workerMemory = "2g";
    private String daemonHeap = "512m";
    private Duration readyTimeout = Duration.ofSeconds(120);
    private Predicate<Path> includeJar = SparkHome.libraryJars();
    private final Map<String, String> env = new LinkedHashMap<>();

    private Builder(Path dir) {
      this.dir = dir;
    }

    public Builder workers(int n) {
      if (n < 1) {
        throw new IllegalArgumentException("a cluster needs at least 1 worker, got " + n);
      }
      this.workers = n;
      return this;
    }

    public Builder workerCores(int cores) {
      this.workerCores = cores;
      return this;
    }

    /** Memory a worker offers to executors, in Spark's size syntax ({@code 2g}). */
    public Builder workerMemory(String memory) {
      this.workerMemory = memory;
      return this;
    }

    /** Heap of the master and worker JVMs themselves ({@code 512m}). */
    public Builder daemonHeap(String heap) {
      this.daemonHeap = heap;
      return this;
    }

    public Builder readyTimeout(Duration timeout) {
      this.readyTimeout = timeout;
      return this;
    }

    /**
     * Which classpath jars the cluster has installed in {@code SPARK_HOME/jars}; default:
     * {@link SparkHome#libraryJars()} (all but test tooling and semiweak's own). Narrow it to test
     * that an application jar brings what it needs.
     */
    public Builder includeJars(Predicate<Path> include) {
      this.includeJar = include;
      return this;
    }

    /** An environment variable for master, workers and (inherited) executors. */
    public Builder env(String name, String value) {
      env.put(name, value);
      return this;
    }

    /** Starts the master and workers without waiting for them; call {@link StandaloneCluster#awaitReady()}. */
    public StandaloneCluster launch() {
      return new StandaloneCluster(this);
    }

    /** Starts the cluster and waits until every worker has registered. */
    public StandaloneCluster start() {
      StandaloneCluster cluster = launch();
      try {
        cluster.awaitReady();
      } catch (RuntimeException e) {
        cluster.close();
        throw e;
      }
      return cluster;
    }
  }

  /** Waits (up to the builder's timeout, 120 s by default) until all workers are registered at the master. */
  public StandaloneCluster awaitReady() {
    return awaitReady(readyTimeout);
  }

  /**
   * Polls the master's {@code /json} status until {@code aliveworkers} reaches the number of
   * workers; fails at once, with the log's tail, if a daemon exits.
   */
  public StandaloneCluster awaitReady(Duration timeout) {
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    long deadline = System.nanoTime() + timeout.toNanos();
    int alive = -1;
    while (System.nanoTime() < deadline) {
      failIfDead(master, masterLog());
      for (int i = 0; i < workers.size(); i++) {
        failIfDead(workers.get(i), workerLogs.get(i));
      }
      alive = aliveWorkers(http);
      if (alive >= expectedWorkers) {
        return this;
      }
      sleep(250);
    }
    throw new IllegalStateException("only " + Math.max(alive, 0) + " of " + expectedWorkers + " workers registered at "
        + masterUrl() + " within " + timeout + "; master log " + masterLog() + ":\n"
        + ClusterProcesses.tail(masterLog(), 30));
  }

  private int aliveWorkers(HttpClient http) {
    try {
      HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(masterWebUiUrl() + "/json/"))
          .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
      if (r.statusCode() != 200) {
        return -1;
      }
      JsonNode status = JSON.readTree(r.body());
      return status.path("aliveworkers").asInt(-1);
    } catch (IOException e) {
      return -1; // master not listening yet
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting for the cluster", e);
    }
  }

  private static void failIfDead(Process p, Path log) {
    if (!p.isAlive()) {
      throw new IllegalStateException("cluster process " + p.pid() + " exited with " + p.exitValue() + "; log " + log
          + ":\n" + ClusterProcesses.tail(log, 40));
    }
  }

  /** {@code spark://127.0.0.1:PORT}. */
  public String masterUrl() {
    return "spark://127.0.0.1:" + masterPort;
  }

  /** The master's web UI; {@code /json/} gives its status. */
  public String masterWebUiUrl() {
    return "http://127.0.0.1:" + masterWebUiPort;
  }

  public SparkHome sparkHome() {
    return sparkHome;
  }

  /** The environment the cluster's processes run with (also what {@link #submit()} uses). */
  public Map<String, String> environment() {
    return Map.copyOf(env);
  }

  public Path masterLog() {
    return dir.resolve("logs/master.log");
  }

  public List<Path> workerLogs() {
    return List.copyOf(workerLogs);
  }

  /** Where worker {@code i} (1-based) keeps application folders with each executor's stdout/stderr. */
  public Path workerWorkDir(int i) {
    return dir.resolve("work/worker-" + i);
  }

  public long masterPid() {
    return master.pid();
  }

  public List<Long> workerPids() {
    return workers.stream().map(Process::pid).toList();
  }

  /** The executor JVMs alive now: descendants of the worker processes running Spark's executor backend. */
  public synchronized List<ExecutorProcess> executors() {
    List<ExecutorProcess> result = new ArrayList<>();
    for (int i = 0; i < workers.size(); i++) {
      int worker = i + 1;
      workers.get(i).toHandle().descendants().forEach(p -> {
        List<String> args = List.of(p.info().arguments().orElse(new String[0]));
        if (args.contains(EXECUTOR_MAIN) && p.isAlive()) {
          seenPids.add(p.pid());
          result.add(new ExecutorProcess(p.pid(), argAfter(args, "--executor-id"), argAfter(args, "--app-id"), worker));
        }
      });
    }
    return result;
  }

  private static String argAfter(List<String> args, String flag) {
    int i = args.indexOf(flag);
    return i >= 0 && i + 1 < args.size() ? args.get(i + 1) : "?";
  }

  /**
   * Kills the JVM of executor {@code executorId} with SIGKILL (a crash, not a shutdown) and waits
   * until it is gone. Returns the process that was killed.
   */
  public ExecutorProcess killExecutor(String executorId) {
    ExecutorProcess e = executors().stream().filter(x -> x.executorId().equals(executorId)).findFirst()
        .orElseThrow(() -> new IllegalArgumentException("no executor '" + executorId + "' alive; alive: " + executors()));
    kill(e.pid());
    return e;
  }

  /** Kills worker {@code i} (1-based) and its executors with SIGKILL, as a lost machine. */
  public void killWorker(int i) {
    ProcessHandle worker = workers.get(i - 1).toHandle();
    List<ProcessHandle> tree = new ArrayList<>(worker.descendants().toList());
    tree.add(worker);
    tree.forEach(p -> seenPids.add(p.pid()));
    tree.forEach(p -> kill(p.pid()));
  }

  private static void kill(long pid) {
    Optional<ProcessHandle> p = ProcessHandle.of(pid);
    if (p.isPresent()) {
      p.get().destroyForcibly();
      try {
        p.get().onExit().get(10, java.util.concurrent.TimeUnit.SECONDS);
      } catch (Exception ex) {
        throw new IllegalStateException("process " + pid + " did not exit within 10 s of SIGKILL", ex);
      }
    }
  }

  /**
   * What a driver in this JVM must ship to the executors, for {@code spark.jars}: a jar of the
   * classpath's class directories ({@code target/classes}, {@code target/test-classes}; built once)
   * and semiweak's module jars on the classpath. The cluster has neither installed.
   */
  public synchronized List<Path> applicationJars() {
    if (applicationJars == null) {
      List<Path> jars = new ArrayList<>();
      List<Path> dirs = SparkHome.classpathDirectories();
      if (!dirs.isEmpty()) {
        jars.add(JarBuilder.ofDirectories(dir.resolve("jars/classpath-directories.jar"), dirs));
      }
      jars.addAll(SparkHome.applicationJarsOnClasspath());
      applicationJars = List.copyOf(jars);
    }
    return applicationJars;
  }

  /** {@link #applicationJars()} as the comma-separated value of {@code spark.jars}. */
  public String applicationJarsConf() {
    return String.join(",", applicationJars().stream().map(Path::toString).toList());
  }

  /**
   * A session for a driver in this JVM: one executor of 1 core and 1 GiB per worker, jobs held back
   * until every executor has registered (so that their tasks spread over all of them), no UI, and
   * semiweak's classes shipped with {@code spark.jars} ({@link #applicationJarsConf()}).
   */
  public SparkSession.Builder sessionBuilder(String appName) {
    return SparkSession.builder()
        .appName(appName)
        .master(masterUrl())
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.ui.enabled", "false")
        .config("spark.executor.cores", "1")
        .config("spark.executor.memory", "1g")
        .config("spark.cores.max", String.valueOf(expectedWorkers))
        .config("spark.scheduler.minRegisteredResourcesRatio", "1.0")
        .config("spark.scheduler.maxRegisteredResourcesWaitingTime", "90s")
        .config("spark.jars", applicationJarsConf());
  }

  /** A {@code spark-submit} (client mode) against this cluster, with the cluster's SPARK_HOME and environment. */
  public synchronized SparkSubmitRunner submit() {
    submissions++;
    return new SparkSubmitRunner(sparkHome, dir.resolve("logs/submit-" + submissions + ".log"))
        .master(masterUrl())
        .env(env);
  }

  /** Every PID this cluster started or saw: master, workers, executors. */
  public synchronized Set<Long> startedPids() {
    executors();
    return Set.copyOf(seenPids);
  }

  /** Ends executors, workers and master (SIGTERM, then SIGKILL after 5 s) and waits until they are gone. */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    executors();
    destroyAll();
    closed = true;
    try {
      Runtime.getRuntime().removeShutdownHook(shutdownHook);
    } catch (IllegalStateException e) {
      // the JVM is already shutting down; the hook has run or will run harmlessly
    }
  }

  private void destroyAll() {
    List<ProcessHandle> roots = new ArrayList<>();
    workers.forEach(w -> roots.add(w.toHandle()));
    roots.add(master.toHandle());
    ClusterProcesses.destroyTrees(roots, 5_000).forEach(p -> seenPids.add(p.pid()));
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }
}
