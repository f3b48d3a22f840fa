package org.semiweak.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.stream.Stream;
import java.util.zip.ZipFile;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.permission.FsPermission;
import org.apache.hadoop.yarn.api.records.ApplicationReport;
import org.apache.hadoop.yarn.api.records.FinalApplicationStatus;
import org.apache.hadoop.yarn.api.records.YarnApplicationState;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.semiweak.run.RunDir;
import org.semiweak.run.RunLayout;
import org.semiweak.run.StageManifest;
import org.semiweak.testing.IdxSubset;
import org.semiweak.testing.cluster.MiniHdfs;
import org.semiweak.testing.cluster.MiniYarn;
import org.semiweak.testing.cluster.SparkHome;
import org.semiweak.testing.cluster.SparkSubmitRunner;

/**
 * The packaged application jar under {@code spark-submit --master yarn --deploy-mode cluster}, as an
 * operator submits it with {@code conf/spark-defaults.yarn.conf}: a real ResourceManager and
 * NodeManager (MiniYARNCluster) whose containers are separate JVMs, with the data, the run directory
 * and Spark's staging folder on HDFS (MiniDFSCluster). The driver runs in the ApplicationMaster, so
 * what YARN records as the application's final status is what a scheduler (Airflow, Oozie) acts on:
 * SUCCEEDED for a pipeline that ran, FAILED with semiweak's message for a stage that failed.
 */
class YarnClusterModeIT {
  private static final String TEACHER = "semi-supervised";

  @TempDir Path tmp;

  @Test
  void aPipelineRunEndsSucceededAndAFailingStageEndsFailedWithItsMessage() throws IOException {
    // The slim application jar, with DJL's native bundle staged once on HDFS as deploy/README.md
    // ("Native libraries") tells YARN users to do; SubmitPipelineIT covers the default (fat) jar.
    Path slimJar = Path.of(System.getProperty("semiweak.appJarSlim", "target/semiweak-app-slim.jar"));
    assertThat(slimJar).as("the slim application jar (built in the package phase)").isRegularFile();
    try (ZipFile jar = new ZipFile(slimJar.toFile())) {
      assertThat(jar.getEntry("native/lib/pytorch.properties")).as("the slim jar carries no libtorch").isNull();
    }
    Path nativeBundle = SparkHome.classpathJars().stream()
        .filter(jar -> jar.getFileName().toString().startsWith("pytorch-native-cpu-"))
        .findFirst().orElseThrow(() -> new AssertionError("no pytorch-native-cpu jar on the test classpath"));

    try (MiniHdfs hdfs = MiniHdfs.start(tmp.resolve("hdfs"));
        MiniYarn yarn = MiniYarn.start(hdfs.uri(), 6144)) {
      // What a cluster has installed: Spark (with spark-yarn) and Hadoop, not DJL nor semiweak.
      SparkHome spark = SparkHome.fromClasspath(tmp.resolve("spark-home"),
          SparkHome.libraryJars().and(jar -> !jar.toString().contains("/ai/djl/")));
      assertThat(spark.jarsDir()).isDirectoryContaining(p -> p.getFileName().toString().startsWith("spark-yarn"));
      Path hadoopConf = yarn.writeClientConf(tmp.resolve("hadoop-conf"));

      FileSystem fs = hdfs.fileSystem();
      // World-readable file in world-readable folders: YARN localizes it as a PUBLIC resource, cached
      // on each NodeManager for every later application, instead of uploading it per submission.
      org.apache.hadoop.fs.Path stagedBundle = new org.apache.hadoop.fs.Path("/semiweak/lib/" + nativeBundle.getFileName());
      fs.copyFromLocalFile(new org.apache.hadoop.fs.Path(nativeBundle.toUri()), stagedBundle);
      for (org.apache.hadoop.fs.Path p = stagedBundle; p != null && !p.isRoot(); p = p.getParent()) {
        fs.setPermission(p, new FsPermission((short) (p.equals(stagedBundle) ? 0644 : 0755)));
      }
      Path idx = IdxSubset.write(tmp.resolve("fmnist"), 1500, 300);
      fs.copyFromLocalFile(new org.apache.hadoop.fs.Path(idx.toUri()), new org.apache.hadoop.fs.Path("/data/fmnist"));
      String runDir = hdfs.uri() + "/runs/yarn";
      // A local config file travels to the driver's container with --files (spark.yarn.dist.files),
      // as deploy/README.md says, and is read there by its bare name.
      Path config = tmp.resolve("run.yaml");
      Files.writeString(config, String.join("\n",
          "run-dir: " + runDir,
          "teachers: [" + TEACHER + "]",
          "prep: {source: idx, input: " + hdfs.uri() + "/data/fmnist, labeled-per-class: 20, image-size: 28, channels: 1}",
          "train-teacher: {widths: [8, 16], epochs: 2, local-steps: 5}",
          "score: {pmax: 3, partitions: 4}",
          "select: {k: 40, p: 2}",
          ""));

      SparkSubmitRunner.Result ran = submit(spark, hadoopConf, "semiweak-yarn-run")
          .appJar(slimJar)
          .jars(hdfs.uri() + stagedBundle.toUri().getPath())
          .conf("spark.yarn.dist.files", config.toUri().toString())
          .args("run", "run.yaml", "--until", "select")
          .run(Duration.ofMinutes(12));
      ApplicationReport run = yarn.application("semiweak-yarn-run").orElseThrow(
          () -> new AssertionError("YARN knows no application semiweak-yarn-run; " + ran.logTail(60)));
      // The teacher trained on the executor: libtorch came from the staged bundle, as the slim jar has none.
      assertThat(run.getFinalApplicationStatus()).as("YARN's final status of the pipeline run; %s; %s",
          run.getDiagnostics(), driverLog(yarn, run)).isEqualTo(FinalApplicationStatus.SUCCEEDED);
      assertThat(run.getYarnApplicationState()).isEqualTo(YarnApplicationState.FINISHED);
      assertThat(ran.exitCode()).as("spark-submit follows the application to its end; %s", ran.logTail(40)).isZero();
      assertThat(driverLog(yarn, run)).as("the driver ran in the ApplicationMaster's container")
          .contains("semiweak: pipeline of 4 stages in " + runDir);

      RunDir committed = RunDir.open(runDir, fs.getConf());
      assertThat(committed.listCommitted()).extracting(StageManifest::stage)
          .as("prep -> train-teacher -> score -> select, and the report, committed on HDFS by the driver in YARN")
          .contains("prep", "teacher/" + TEACHER, "scores/" + TEACHER,
              RunLayout.selection(TEACHER, "k40-p2").path(), "report");
      StageManifest scores = committed.committed(RunLayout.scores(TEACHER)).orElseThrow();
      assertThat(scores.count("scored")).as("every unlabeled image scored")
          .isEqualTo(committed.committed(RunLayout.prep()).orElseThrow().count("written.unlabeled"));
      assertThat(fs.exists(new org.apache.hadoop.fs.Path(runDir + "/SUMMARY.md")))
          .as("the results table is a file in the run directory, for people who see no driver output").isTrue();

      SparkSubmitRunner.Result failed = submit(spark, hadoopConf, "semiweak-yarn-failing-stage")
          .args("select", "--run-dir", runDir, "--teacher", "no-such-teacher", "--k", "40", "--p", "2")
          .run(Duration.ofMinutes(6));
      ApplicationReport failure = yarn.application("semiweak-yarn-failing-stage").orElseThrow(
          () -> new AssertionError("YARN knows no application semiweak-yarn-failing-stage; " + failed.logTail(60)));
      assertThat(failure.getFinalApplicationStatus()).as("YARN's final status of a failing stage; %s",
          driverLog(yarn, failure)).isEqualTo(FinalApplicationStatus.FAILED);
      assertThat(failure.getDiagnostics()).as("YARN's diagnostics carry semiweak's one-line message")
          .contains("semiweak: ").contains("no-such-teacher");
      assertThat(failed.exitCode()).as("spark-submit exits non-zero for a FAILED application; %s", failed.logTail(40))
          .isNotZero();
    }
  }

  /**
   * A cluster-mode submission with deploy/conf/spark-defaults.yarn.conf, sized down to this machine:
   * one executor of 2 cores, no dynamic allocation, Spark's jars used in place from the "installed"
   * SPARK_HOME ({@code local:}, nothing uploaded but the application jar).
   */
  private SparkSubmitRunner submit(SparkHome spark, Path hadoopConf, String name) {
    String javaHome = System.getProperty("java.home");
    return new SparkSubmitRunner(spark, tmp.resolve("submit-" + name + ".log"))
        .env(Map.of("HADOOP_CONF_DIR", hadoopConf.toString()))
        .master("yarn")
        .deployMode("cluster")
        .propertiesFile(Path.of("conf/spark-defaults.yarn.conf"))
        .mainClass("org.semiweak.driver.SemiweakCli")
        .appJar(Path.of(System.getProperty("semiweak.appJar", "target/semiweak-app.jar")))
        .conf("spark.app.name", name)
        .conf("spark.yarn.jars", "local:" + spark.jarsDir() + "/*")
        .conf("spark.yarn.appMasterEnv.JAVA_HOME", javaHome)
        .conf("spark.executorEnv.JAVA_HOME", javaHome)
        .conf("spark.dynamicAllocation.enabled", "false")
        .conf("spark.executor.instances", "1")
        .conf("spark.executor.cores", "2")
        .conf("spark.executor.memory", "1g")
        .conf("spark.executor.memoryOverhead", "1g")
        .conf("spark.driver.memory", "1g")
        .conf("spark.driver.memoryOverhead", "1g")
        .conf("spark.sql.shuffle.partitions", "4")
        .conf("spark.yarn.report.interval", "2s");
  }

  /** The ApplicationMaster container's stdout and stderr: the driver's log in cluster mode. */
  private static String driverLog(MiniYarn yarn, ApplicationReport app) {
    StringBuilder log = new StringBuilder();
    for (Path dir : yarn.containerLogDirs()) {
      Path appDir = dir.resolve(app.getApplicationId().toString());
      if (!Files.isDirectory(appDir)) {
        continue;
      }
      try (Stream<Path> files = Files.walk(appDir)) {
        for (Path f : (Iterable<Path>) files.filter(Files::isRegularFile).sorted()::iterator) {
          // The first container (..._000001) is the ApplicationMaster's.
          if (f.getParent().getFileName().toString().endsWith("_000001")) {
            log.append("== ").append(f).append('\n').append(Files.readString(f));
          }
        }
      } catch (IOException e) {
        log.append("(cannot read ").append(appDir).append(": ").append(e).append(")\n");
      }
    }
    return log.length() == 0 ? "(no container logs of " + app.getApplicationId() + ")" : log.toString();
  }
}
