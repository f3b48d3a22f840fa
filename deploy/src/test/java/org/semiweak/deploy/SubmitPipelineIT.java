package org.semiweak.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.apache.hadoop.fs.FileSystem;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.semiweak.run.RunDir;
import org.semiweak.run.RunLayout;
import org.semiweak.run.StageId;
import org.semiweak.run.result.ModelResult;
import org.semiweak.run.result.ScoreResult;
import org.semiweak.run.result.SelectionResult;
import org.semiweak.run.result.TrainingPhase;
import org.semiweak.run.StageManifest;
import org.semiweak.testing.IdxSubset;
import org.semiweak.testing.cluster.MiniHdfs;
import org.semiweak.testing.cluster.SparkHome;
import org.semiweak.testing.cluster.SparkSubmitRunner;
import org.semiweak.testing.cluster.StandaloneCluster;

/**
 * The packaged application jar, submitted as an operator would: {@code SparkSubmit} in client mode
 * against a standalone cluster of 2 worker JVMs, with the data and the run directory on HDFS.
 * The cluster has Spark and Hadoop installed but not DJL nor semiweak, so everything else must
 * come from the jar.
 */
class SubmitPipelineIT {
  private static final String TEACHER = "semi-supervised";
  private static final StageId SELECTION = RunLayout.selection(TEACHER, "k50-p3");
  private static final StageId PRETRAIN = RunLayout.pretrain(TEACHER, "k50-p3");

  @TempDir Path tmp;

  @Test
  void theApplicationJarRunsPrepToPretrainOnTwoExecutorsAgainstHdfs() throws IOException {
    Path appJar = Path.of(System.getProperty("semiweak.appJar", "target/semiweak-app.jar"));
    assertThat(appJar).as("the application jar (built in the package phase)").isRegularFile();

    try (MiniHdfs hdfs = MiniHdfs.start(tmp.resolve("hdfs"));
        StandaloneCluster cluster = StandaloneCluster.builder(tmp.resolve("cluster")).workers(2)
            .includeJars(SparkHome.libraryJars().and(jar -> !jar.toString().contains("/ai/djl/")))
            .start()) {
      assertThat(cluster.sparkHome().jarsDir()).as("the cluster has Spark but no DJL")
          .isDirectoryContaining(p -> p.getFileName().toString().startsWith("spark-core"))
          .isDirectoryNotContaining(p -> p.getFileName().toString().startsWith("pytorch-"));

      FileSystem fs = hdfs.fileSystem();
      Path idx = IdxSubset.write(tmp.resolve("fmnist"), 2000, 500);
      fs.copyFromLocalFile(new org.apache.hadoop.fs.Path(idx.toUri()), new org.apache.hadoop.fs.Path("/data/fmnist"));
      String runDir = hdfs.uri() + "/runs/it";
      Path config = tmp.resolve("run.yaml");
      Files.writeString(config, String.join("\n",
          "run-dir: " + runDir,
          "teachers: [" + TEACHER + "]",
          "prep: {source: idx, input: " + hdfs.uri() + "/data/fmnist, labeled-per-class: 20, image-size: 28, channels: 1}",
          "train-teacher: {widths: [8, 16], epochs: 2, local-steps: 5, workers: 2}",
          "score: {pmax: 3, partitions: 6}",
          "select: {k: 50, p: 3}",
          "pretrain: {widths: [8, 16], epochs: 1, local-steps: 5, workers: 2}",
          ""));

      SparkSubmitRunner.Result r = cluster.submit()
          .appJar(appJar)
          .mainClass("org.semiweak.driver.SemiweakCli")
          .conf("spark.executor.memory", "1g")
          .conf("spark.executor.cores", "1")
          // As conf/spark-defaults.standalone.conf sets it: everything semiweak ships must survive Kryo.
          .conf("spark.serializer", "org.apache.spark.serializer.KryoSerializer")
          .conf("spark.cores.max", "2")
          // Start jobs only once both executors are up, so that both get tasks.
          .conf("spark.scheduler.minRegisteredResourcesRatio", "1.0")
          .conf("spark.scheduler.maxRegisteredResourcesWaitingTime", "180s")
          .args("run", config.toString(), "--until", "pretrain")
          .run(Duration.ofMinutes(12));
      assertThat(r.exitCode()).as("spark-submit exit code; %s", r.logTail(80)).isZero();
      assertThat(r.logText()).as("the driver's summary").contains("pipeline of 5 stages");

      RunDir run = RunDir.open(runDir, fs.getConf());
      assertThat(run.listCommitted()).extracting(StageManifest::stage).as("the stages up to pretrain, and the run's"
          + " report, written by the driver on HDFS").containsExactlyInAnyOrder(
          "prep", "teacher/" + TEACHER, "scores/" + TEACHER, SELECTION.path(), PRETRAIN.path(), "report");
      assertThat(r.logText()).as("the driver prints where the report is").containsPattern(
          "semiweak: report: hdfs://[^\\s]+/runs/it/report/index.html");

      StageManifest prep = run.committed(RunLayout.prep()).orElseThrow();
      assertThat(prep.count("in")).as("every IDX record read").isEqualTo(2500);
      assertThat(prep.count("written.labeled") + prep.count("written.unlabeled") + prep.count("written.test"))
          .as("in = written + quarantined + duplicates").isEqualTo(2500 - prep.count("quarantined") - prep.count("duplicates"));
      assertThat(prep.count("written.labeled")).isEqualTo(200);

      StageManifest scores = run.committed(RunLayout.scores(TEACHER)).orElseThrow();
      assertThat(scores.count("in")).as("every unlabeled image scored once")
          .isEqualTo(scores.count("scored")).isEqualTo(prep.count("written.unlabeled"));
      assertThat(scores.count("rejected")).isZero();
      ScoreResult scored = scores.result(ScoreResult.class);
      List<String> scoreExecutors = scored.executors();
      assertThat(scoreExecutors).as("scoring ran on both executors").hasSize(2).doesNotContain("driver");
      assertThat(scored.partitions()).as("score tasks").isEqualTo(6);
      assertThat(scored.modelLoads())
          .as("the teacher was deserialized once per executor JVM, not once per task (6 tasks)").isEqualTo(2L);

      StageManifest selection = run.committed(SELECTION).orElseThrow();
      assertThat(selection.count("in")).as("the selection read every score").isEqualTo(scores.count("scored"));
      assertThat(selection.count("selected")).as("min(K, candidates) per class")
          .isEqualTo(expectedSelected(selection, 50)).isPositive();

      StageManifest pretrain = run.committed(PRETRAIN).orElseThrow();
      assertThat(pretrain.count("training-examples.pseudo-labels")).as("pretrained on the selection")
          .isEqualTo(selection.count("selected"));
      TrainingPhase training = pretrain.result(ModelResult.class).phase("pseudo-labels");
      assertThat(training.executors()).as("training rounds ran on both executors")
          .containsExactlyInAnyOrderElementsOf(scoreExecutors);
      assertThat(training.finalLoss()).isFinite();
      TrainingPhase teacherTraining = run.committed(RunLayout.teacher(TEACHER)).orElseThrow()
          .result(ModelResult.class).phase("labeled");
      assertThat(teacherTraining.executors()).hasSize(2);

      assertThat(executorsGoneWithin(cluster, Duration.ofSeconds(60)))
          .as("the workers ended the application's executor JVMs; alive: %s", cluster.executors()).isTrue();
      closeAndCheckEveryProcessEnded(cluster);
    }
  }

  private static boolean executorsGoneWithin(StandaloneCluster cluster, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!cluster.executors().isEmpty()) {
      if (System.nanoTime() > deadline) {
        return false;
      }
      try {
        Thread.sleep(250);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return false;
      }
    }
    return true;
  }

  private static void closeAndCheckEveryProcessEnded(StandaloneCluster cluster) {
    var pids = cluster.startedPids();
    cluster.close();
    assertThat(pids).as("master, workers and executors started").hasSizeGreaterThanOrEqualTo(3);
    assertThat(pids.stream().filter(pid -> ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)))
        .as("processes still alive after close").isEmpty();
  }

  /** The sum over classes of min(K, candidates), from the selection's per-class statistics. */
  private static long expectedSelected(StageManifest selection, int k) {
    List<SelectionResult.ClassSelection> classes = selection.result(SelectionResult.class).classes();
    assertThat(classes).as("one statistics row per class").hasSize(10);
    return classes.stream().mapToLong(c -> Math.min(k, c.candidates())).sum();
  }
}
