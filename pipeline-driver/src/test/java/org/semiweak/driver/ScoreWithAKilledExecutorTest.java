package org.semiweak.driver;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.ExecutorLostFailure;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerJobEnd;
import org.apache.spark.scheduler.SparkListenerJobStart;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.scheduler.SparkListenerTaskStart;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.semiweak.run.RunLayout;
import org.semiweak.run.Split;
import org.semiweak.testing.CommittedModels;
import org.semiweak.data.ScoreSchema;
import org.semiweak.model.ModelSpec;
import org.semiweak.model.ModelWeights;
import org.semiweak.run.RunDir;
import org.semiweak.run.StageManifest;
import org.semiweak.stage.PrepInfo;
import org.semiweak.testing.IdxSubset;
import org.semiweak.testing.cluster.StandaloneCluster;
import scala.jdk.javaapi.CollectionConverters;

/**
 * {@code score} on a real standalone cluster (master, 2 workers, executors in their own JVMs):
 * one executor JVM is killed by PID (SIGKILL) as soon as the first scoring task starts on it (the
 * task is then still loading the model), and the job still completes with every unlabeled image
 * scored exactly once.
 */
class ScoreWithAKilledExecutorTest {
  @TempDir static Path tmp;
  private static StandaloneCluster cluster;

  @AfterAll
  static void stopCluster() {
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  void theScoresHoldEachImageExactlyOnceAfterAnExecutorIsKilledMidJob() throws Exception {
    // The cluster JVMs start while data-prep runs in this JVM.
    cluster = StandaloneCluster.builder(tmp.resolve("cluster")).workers(2).workerCores(1).workerMemory("2g").launch();
    Path data = IdxSubset.write(tmp.resolve("fmnist"), 700, 100);
    String runDir = tmp.resolve("run").toUri().toString();
    String[] r = PipelineTest.cli("prep", "--run-dir", runDir, "--spark-master", "local[2]", "--source", "idx",
        "--input", data.toString(), "--labeled-per-class", "10");
    assertThat(r[0]).as("prep; stderr: %s", r[2]).isEqualTo("0");
    RunDir run = RunDir.open(runDir, new Configuration());
    // An untrained teacher is enough to check that no image is lost or scored twice.
    ModelSpec spec = ModelSpec.smallResNet(1, 28, 10, 1, 8, 16);
    CommittedModels.commit(run, RunLayout.teacher("untrained"), spec, ModelWeights.initial(spec, 11));
    cluster.awaitReady();

    SparkSession spark = cluster.sessionBuilder("score-with-a-killed-executor")
        .config("spark.task.maxFailures", "4")
        .getOrCreate();
    KillOnFirstScoreTask killer = new KillOnFirstScoreTask();
    try {
      spark.sparkContext().addSparkListener(killer);
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      List<StageOutcome> outcomes = new PipelineRunner(run, () -> spark, new PrintStream(out, true, StandardCharsets.UTF_8))
          .run(List.of(StageCatalog.SCORE.create(run, Map.of("teacher", "untrained", "pmax", 3, "partitions", 6,
              "batch-size", 32))), null, false);
      spark.sparkContext().listenerBus().waitUntilEmpty();

      assertThat(killer.killed).as("an executor JVM was killed while the scoring job ran").hasSize(1);
      assertThat(killer.lostTasks.get()).as("scoring tasks in flight on the killed executor were lost and rerun")
          .isPositive();
      assertThat(killer.scoreJobsSucceeded.get()).as("the scoring job completed").isEqualTo(1);
      assertThat(outcomes).extracting(StageOutcome::action).containsExactly(StageOutcome.Action.RAN);

      StageManifest scores = run.committed(RunLayout.scores("untrained")).orElseThrow();
      long unlabeled = run.committed(RunLayout.prep()).orElseThrow().count("written.unlabeled");
      assertThat(unlabeled).as("enough images for several tasks").isGreaterThan(500);
      assertThat(scores.count("in")).as("the manifest counts every unlabeled image in").isEqualTo(unlabeled);
      assertThat(scores.count("scored")).as("in = scored (none rejected)").isEqualTo(unlabeled);
      assertThat(out.toString(StandardCharsets.UTF_8)).as("the summary line prints the record counts")
          .contains(String.format(java.util.Locale.ROOT, "in=%,d, scored=%,d, rejected=0", unlabeled, unlabeled));

      List<Row> rows = spark.read().parquet(run.stagePath(RunLayout.scores("untrained")).toString())
          .select(ScoreSchema.IMAGE_ID).collectAsList();
      List<String> ids = rows.stream().map(x -> x.getString(0)).toList();
      Set<String> expected = new HashSet<>(PrepInfo.read(run).read(spark, Split.UNLABELED)
          .select(ScoreSchema.IMAGE_ID).collectAsList().stream().map(x -> x.getString(0)).toList());
      assertThat(ids).as("each image id exactly once").doesNotHaveDuplicates().hasSize((int) unlabeled);
      assertThat(new HashSet<>(ids)).as("exactly the unlabeled images").isEqualTo(expected);
      for (org.apache.hadoop.fs.FileStatus f : run.fs().listStatus(run.stagePath(RunLayout.scores("untrained")))) {
        if (!f.getPath().getName().startsWith("_")) {
          assertThat(org.semiweak.data.ParquetKeyValues.classNames(f.getPath(), new Configuration()))
              .as("%s, written in an executor JVM: the class names in its footer", f.getPath().getName())
              .isEqualTo(PrepInfo.read(run).vocabulary().classes());
        }
      }
    } finally {
      spark.stop();
    }
  }

  /** Kills the executor of the first scoring task (a task of the scoring job's result stage), once. */
  private final class KillOnFirstScoreTask extends SparkListener {
    final Set<Integer> scoreStages = ConcurrentHashMap.newKeySet();
    final Set<Integer> scoreJobs = ConcurrentHashMap.newKeySet();
    final List<String> killed = new CopyOnWriteArrayList<>();
    final AtomicInteger lostTasks = new AtomicInteger();
    final AtomicInteger scoreJobsSucceeded = new AtomicInteger();

    @Override
    public void onJobStart(SparkListenerJobStart job) {
      String description = job.properties() == null ? null : job.properties().getProperty("spark.job.description");
      if (description != null && description.startsWith("score ")) {
        // The stage that scores is the job's result stage (no shuffle dependency). With adaptive
        // execution the repartition's map stage runs first as a job of its own, with the same description.
        for (Object o : CollectionConverters.asJava(job.stageInfos())) {
          org.apache.spark.scheduler.StageInfo stage = (org.apache.spark.scheduler.StageInfo) o;
          if (stage.shuffleDepId().isEmpty()) {
            scoreStages.add(stage.stageId());
            scoreJobs.add(job.jobId());
          }
        }
      }
    }

    @Override
    public void onTaskStart(SparkListenerTaskStart task) {
      if (scoreStages.contains(task.stageId()) && killed.isEmpty()) {
        String executor = task.taskInfo().executorId();
        killed.add(executor);
        Thread t = new Thread(() -> cluster.killExecutor(executor), "kill-executor-" + executor);
        t.start();
      }
    }

    @Override
    public void onTaskEnd(SparkListenerTaskEnd task) {
      if (scoreStages.contains(task.stageId()) && task.reason() instanceof ExecutorLostFailure) {
        lostTasks.incrementAndGet();
      }
    }

    @Override
    public void onJobEnd(SparkListenerJobEnd job) {
      if (scoreJobs.contains(job.jobId()) && job.jobResult() instanceof org.apache.spark.scheduler.JobSucceeded$) {
        scoreJobsSucceeded.incrementAndGet();
      }
    }
  }
}
