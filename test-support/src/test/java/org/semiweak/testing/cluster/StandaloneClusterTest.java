package org.semiweak.testing.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.semiweak.model.ModelSpec;
import org.semiweak.model.ModelWeights;
import org.semiweak.testing.FashionMnist;
import org.semiweak.train.DistributedTrainer;
import org.semiweak.train.ExampleShard;
import org.semiweak.train.InProcessTrainer;
import org.semiweak.train.TrainOptions;
import org.semiweak.train.TrainingResult;

/**
 * A real standalone cluster (master + 2 worker JVMs, executors in their own JVMs) and an HDFS:
 * a driver in this JVM runs tasks on two executors, and a {@code spark-submit}ted jar runs on the
 * cluster, both round-tripping Parquet through {@code hdfs://}; closing the cluster leaves no
 * process behind.
 * The methods share one cluster (starting one takes 10-20 s) and run in order; the last one closes it.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class StandaloneClusterTest {
  private static final Path DIR = Path.of("target", "cluster-it", "standalone-" + System.currentTimeMillis());
  private static StandaloneCluster cluster;
  private static MiniHdfs hdfs;
  /** Short-lived JVMs doing little work start with much less CPU this way (the CI machine has 2 cores). */
  private static final String QUICK_START_JVM = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC";

  @BeforeAll
  static void startClusterAndHdfs() {
    long t0 = System.nanoTime();
    cluster = StandaloneCluster.builder(DIR).workers(2).workerCores(1).workerMemory("2g").launch();
    hdfs = MiniHdfs.start(DIR.resolve("hdfs")); // while the cluster JVMs start
    cluster.awaitReady();
    System.out.printf("cluster %s and %s ready in %.1f s%n", cluster.masterUrl(), hdfs.uri(),
        (System.nanoTime() - t0) / 1e9);
  }

  @AfterAll
  static void stopClusterAndHdfs() {
    if (cluster != null) {
      cluster.close();
    }
    if (hdfs != null) {
      hdfs.close();
    }
  }

  @Test
  @Order(1)
  void aDriverInThisJvmRunsTasksOnTwoExecutorsRoundTripsParquetOnHdfsAndSurvivesAKilledExecutor() {
    stopLeftoverSession();
    long t0 = System.nanoTime();
    SparkSession spark = cluster.sessionBuilder("standalone-cluster-test")
        .config("spark.executor.extraJavaOptions", QUICK_START_JVM)
        .getOrCreate();
    try {
      assertThat(spark.sparkContext().master()).as("the session runs on the standalone cluster").isEqualTo(cluster.masterUrl());

      ClusterProbeJob.Result first = ClusterProbeJob.run(spark, hdfs.uri() + "/probe/in-jvm", 10_000, 8);
      System.out.printf("first job incl. executor launch: %.1f s, %s%n", (System.nanoTime() - t0) / 1e9, first);
      assertThat(first.rowsRead()).as("every row written to HDFS is read back").isEqualTo(10_000);
      assertThat(first.writerExecutors()).as("write tasks ran on two different executors").hasSize(2);
      assertThat(first.readerExecutors()).as("read tasks ran on the same executors").isSubsetOf(first.writerExecutors());
      List<StandaloneCluster.ExecutorProcess> executors = cluster.executors();
      assertThat(executors).extracting(StandaloneCluster.ExecutorProcess::executorId)
          .as("the executor JVMs found under the workers are the ones that ran the tasks")
          .containsExactlyInAnyOrderElementsOf(first.writerExecutors());
      assertThat(executors).extracting(StandaloneCluster.ExecutorProcess::worker)
          .as("one executor per worker").containsExactlyInAnyOrder(1, 2);

      StandaloneCluster.ExecutorProcess killed = cluster.killExecutor(executors.get(0).executorId());
      assertThat(ProcessHandle.of(killed.pid()).map(ProcessHandle::isAlive).orElse(false))
          .as("executor %s (pid %d) is gone after killExecutor", killed.executorId(), killed.pid()).isFalse();

      ClusterProbeJob.Result second = ClusterProbeJob.run(spark, hdfs.uri() + "/probe/after-kill", 2_000, 4);
      assertThat(second.rowsRead()).as("a job after losing an executor still reads back every row").isEqualTo(2_000);
      assertThat(second.writerExecutors()).as("the killed executor ran nothing more").doesNotContain(killed.executorId());
    } finally {
      spark.stop();
    }
  }

  /**
   * The distributed trainer on two executor JVMs, with its checkpoints on HDFS: the loss goes down,
   * a real executor process killed in the middle of training changes nothing (Spark reruns the lost
   * tasks, which are deterministic), a run stopped after round 2 resumes from its checkpoint, and
   * all of them end with bit-for-bit the weights of the in-process trainer.
   */
  @Test
  @Order(2)
  void distributedTrainingOnTwoExecutorsSurvivesAKilledExecutorAndResumesFromHdfsCheckpoints() {
    stopLeftoverSession();
    SparkSession spark = cluster.sessionBuilder("standalone-cluster-training").getOrCreate();
    try {
      ModelSpec spec = ModelSpec.smallResNet(1, 28, 10, 1, 8, 16);
      FashionMnist data = FashionMnist.load("train", 1000);
      TrainOptions options = TrainOptions.builder()
          .setTotalSteps(24).optBatchSize(32).optBaseLearningRate(0.05).optWarmupSteps(2)
          .optLocalStepsPerRound(4).optWorkers(2).optSeed(7).optCropPadding(2).optHorizontalFlip(true).build();
      ModelWeights initial = ModelWeights.initial(spec, 7);
      TrainingResult reference = new InProcessTrainer()
          .train(ExampleShard.partition(data.rowList(), spec, 2), spec, initial, options);

      // Undisturbed except for a real executor JVM killed by PID after round 2.
      Set<String> killed = new HashSet<>();
      TrainingResult withKill = new DistributedTrainer(spark).train(
          data.toRows(spark), spec, initial, options, new org.apache.hadoop.fs.Path(hdfs.uri() + "/train/killed"),
          report -> {
            if (report.point().round() == 2 && killed.isEmpty()) {
              String app = spark.sparkContext().applicationId();
              String victim = cluster.executors().stream().filter(e -> app.equals(e.appId())).findFirst()
                  .orElseThrow(() -> new AssertionError("no executor of " + app + " found")).executorId();
              cluster.killExecutor(victim);
              killed.add(victim);
            }
          });
      assertThat(killed).as("an executor was killed during training").hasSize(1);
      assertThat(withKill.learningCurve().get(withKill.learningCurve().size() - 1).meanLoss())
          .as("the loss goes down").isLessThan(withKill.learningCurve().get(0).meanLoss());
      assertThat(withKill.weights()).as("a killed executor changes nothing: same weights as in process")
          .isEqualTo(reference.weights());

      // Stopped after round 2 (the driver "crashes"), then started again: resumes from HDFS.
      org.apache.hadoop.fs.Path checkpoints = new org.apache.hadoop.fs.Path(hdfs.uri() + "/train/resumed");
      assertThatThrownBy(() -> new DistributedTrainer(spark)
              .train(data.toRows(spark), spec, initial, options, checkpoints, report -> {
                if (report.point().round() == 2) {
                  throw new IllegalStateException("simulated crash after round 2");
                }
              }))
          .hasMessageContaining("simulated crash");
      TrainingResult resumed = new DistributedTrainer(spark)
          .train(data.toRows(spark), spec, initial, options, checkpoints, null);
      assertThat(resumed.roundsResumed()).as("rounds restored from the HDFS checkpoint").isEqualTo(2);
      assertThat(resumed.weights()).as("resumed run ends with the same weights").isEqualTo(reference.weights());
    } finally {
      spark.stop();
    }
  }

  @Test
  @Order(3)
  void aJarSubmittedWithSparkSubmitRunsOnTheClusterAndShipsItsOwnClasses() throws Exception {
    Path codeSource = Path.of(ClusterProbeJob.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    assertThat(codeSource).as("precondition: the job's classes are in a class directory, which the cluster does not have")
        .isDirectory();
    assertThat(cluster.sparkHome().jarsDir().resolve(codeSource.getFileName())).doesNotExist();
    Path appJar = JarBuilder.ofClasses(DIR.resolve("jars/cluster-probe.jar"), ClusterProbeJob.class);
    Path resultFile = DIR.resolve("submit-result.properties");

    SparkSubmitRunner.Result run = cluster.submit()
        .appJar(appJar)
        .mainClass(ClusterProbeJob.class.getName())
        .conf("spark.executor.cores", "1")
        .conf("spark.executor.memory", "1g")
        // One executor is enough to show the jar's classes reach executors; it saves a JVM start.
        .conf("spark.cores.max", "1")
        .conf("spark.ui.enabled", "false")
        .conf("spark.executor.extraJavaOptions", QUICK_START_JVM)
        .driverJvmOptions(QUICK_START_JVM.split(" "))
        .args(hdfs.uri() + "/probe/submitted", resultFile.toAbsolutePath().toString(), "10000", "8")
        .run(Duration.ofMinutes(3));
    System.out.printf("spark-submit took %.1f s%n", run.elapsed().toMillis() / 1e3);

    assertThat(run.timedOut()).as("spark-submit finished in time; %s", run.logTail(40)).isFalse();
    assertThat(run.exitCode()).as("spark-submit exit code; %s", run.logTail(40)).isZero();
    Properties result = new Properties();
    try (Reader in = Files.newBufferedReader(resultFile, StandardCharsets.UTF_8)) {
      result.load(in);
    }
    assertThat(result.getProperty("master")).as("the submitted driver ran against the cluster").isEqualTo(cluster.masterUrl());
    assertThat(result.getProperty("rowsRead")).as("rows read back from HDFS").isEqualTo("10000");
    assertThat(Set.of(result.getProperty("writerExecutors").split(",")))
        .as("the submitted job's tasks ran on an executor of the cluster").hasSize(1);
  }

  @Test
  @Order(4)
  void closeEndsEveryProcessTheClusterStarted() {
    Set<Long> pids = cluster.startedPids();
    assertThat(pids).as("master, 2 workers and at least 2 executors were started").hasSizeGreaterThanOrEqualTo(5);
    assertThat(ProcessHandle.of(cluster.masterPid())).as("the master runs before close").isPresent();

    cluster.close();

    assertThat(pids).as("no process of the cluster is alive after close()")
        .noneMatch(pid -> ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false));
  }

  /** Only one SparkContext may run per JVM: a local one left by another test class would be reused instead. */
  private static void stopLeftoverSession() {
    scala.Option<SparkSession> active = SparkSession.getActiveSession();
    if (active.isDefined()) {
      active.get().stop();
    }
    scala.Option<SparkSession> dflt = SparkSession.getDefaultSession();
    if (dflt.isDefined()) {
      dflt.get().stop();
    }
  }
}
