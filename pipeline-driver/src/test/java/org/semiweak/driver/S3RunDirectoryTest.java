package org.semiweak.driver;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.RemoteIterator;
import org.apache.hadoop.fs.LocatedFileStatus;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.semiweak.run.RunDir;
import org.semiweak.run.RunLayout;
import org.semiweak.run.RunLock;
import org.semiweak.run.RunLockedException;
import org.semiweak.run.StageId;
import org.semiweak.run.StageManifest;
import org.semiweak.run.StageStatus;
import org.semiweak.run.StageWriter;
import org.semiweak.testing.IdxSubset;
import org.semiweak.testing.cluster.S3Server;

/**
 * A run directory on an S3-compatible object store (S3Proxy on loopback, through {@code s3a://}
 * and the hadoop-aws + AWS SDK that semiweak bundles): the pipeline runs prep -> train-teacher ->
 * score -> select there, every commit published by its manifest without a rename; a process that
 * dies before its commit leaves nothing a reader or {@code status} takes for output; the rerun
 * commits and removes what it superseded.
 */
class S3RunDirectoryTest {
  @TempDir static Path tmp;
  static S3Server s3;
  static Path config;

  static final String TEACHER = "semi-supervised";
  static final StageId SCORES = RunLayout.scores(TEACHER);
  static final StageId SELECTION = RunLayout.selection(TEACHER, "k30-p2");

  @BeforeAll
  static void startObjectStore() throws Exception {
    s3 = S3Server.start(Path.of(System.getProperty("semiweak.s3proxyJar", "target/s3proxy/s3proxy.jar")),
        tmp.resolve("s3"), "semiweak");
    // As spark-submit --conf spark.hadoop.fs.s3a.*=... would pass them: Spark's jobs and semiweak's own files both use them.
    s3.s3aSettings().forEach((k, v) -> System.setProperty("spark.hadoop." + k, v));
    Path data = IdxSubset.write(tmp.resolve("fmnist"), 600, 100);
    config = tmp.resolve("run.yaml");
    Files.writeString(config, String.join("\n",
        "spark-master: local[2]",
        "teachers: [" + TEACHER + "]",
        "prep: {source: idx, input: " + data + ", labeled-per-class: 10, image-size: 28, channels: 1}",
        "train-teacher: {recipe: " + TEACHER + ", widths: [8, 16], epochs: 1}",
        "score: {teacher: " + TEACHER + ", pmax: 3, partitions: 3}",
        "select: {teacher: " + TEACHER + ", k: 30, p: 2}",
        ""));
  }

  @AfterAll
  static void stopObjectStore() {
    s3.s3aSettings().keySet().forEach(k -> System.clearProperty("spark.hadoop." + k));
    s3.close();
  }

  @Test
  void thePipelineRunsOnS3AndAProcessThatDiesBeforeItsCommitLeavesNothingVisible() throws Exception {
    String runDir = s3.uri() + "/runs/r1";
    String[] r = PipelineTest.cli("run", config.toString(), "--run-dir", runDir, "--until", "select");
    assertThat(r[0]).as("prep -> train-teacher -> score -> select on %s; stderr: %s; %s", runDir, r[2],
        s3.logTail(20)).isEqualTo("0");

    RunDir run = RunDir.openExisting(runDir, s3.configure(new Configuration()));
    assertThat(run.fs().getScheme()).isEqualTo("s3a");
    Map<String, String> states = states(run);
    assertThat(states).as("every stage committed on the object store").containsExactlyInAnyOrderEntriesOf(Map.of(
        "prep", "committed", "teacher/" + TEACHER, "committed", SCORES.path(), "committed",
        SELECTION.path(), "committed", "report", "committed"));
    StageManifest scores = run.committed(SCORES).orElseThrow();
    StageManifest prep = run.committed(RunLayout.prep()).orElseThrow();
    assertThat(scores.count("scored")).as("every unlabeled image scored").isEqualTo(prep.count("written.unlabeled"));
    assertThat(run.committed(SELECTION).orElseThrow().count("in")).isEqualTo(scores.count("scored"));
    assertThat(run.status(SELECTION, true).orElseThrow().state()).as("checksums of the files as read back from S3")
        .isEqualTo(StageStatus.State.COMMITTED);
    assertThat(run.publishesByManifest()).as("S3 has no atomic rename: commits publish by manifest").isTrue();
    assertThat(run.listCommitted()).as("every stage's files are in the data folder its manifest names")
        .allSatisfy(m -> assertThat(m.data()).startsWith(RunLayout.DATA_PREFIX));
    assertThat(files(run, run.layout().tmpRoot())).as("no stage wrote under _tmp to be renamed").isEmpty();

    // A rerun of select that dies after writing its output, before its commit (nothing cleans up after it).
    StageWriter dying = run.begin(SELECTION);
    try (var out = run.fs().create(dying.temp("part-00000-dead.parquet"))) {
      out.write(new byte[] {1, 2, 3});
    }
    String before = run.committed(SELECTION).orElseThrow().commit();
    RunDir reader = RunDir.openExisting(runDir, s3.configure(new Configuration()));
    assertThat(reader.committed(SELECTION).orElseThrow().commit()).as("readers still see the committed selection")
        .isEqualTo(before);
    assertThat(reader.status(SELECTION, true).orElseThrow().state()).as("whose files are exactly those it committed")
        .isEqualTo(StageStatus.State.COMMITTED);
    assertThat(files(run, reader.dataPath(SELECTION))).as("nothing of the dead attempt among the committed files")
        .noneMatch(f -> f.contains("dead"));
    assertThat(states(reader)).as("status shows the same stages, all committed").isEqualTo(states);

    // The rerun, with the options the selection was made with, replaces it.
    String[] rerun = PipelineTest.cli("rerun", runDir, SELECTION.path());
    assertThat(rerun[0]).as("rerun; stderr: %s", rerun[2]).isEqualTo("0");
    StageManifest replaced = run.committed(SELECTION).orElseThrow();
    assertThat(replaced.commit()).as("a new commit").isNotEqualTo(before);
    assertThat(replaced.count("selected")).isEqualTo(run.committed(SELECTION).orElseThrow().count("selected"));
    Map<String, String> after = new java.util.TreeMap<>(states);
    after.put("report", "stale"); // it showed the replaced selection: stale until the next run or 'semiweak report'
    assertThat(states(run)).as("after the rerun").isEqualTo(after);
    assertThat(files(run, run.layout().replacedRoot())).as("nothing moved aside").isEmpty();
    assertThat(files(run, run.stagePath(SELECTION))).as("the previous commit's files and the dead attempt's removed")
        .allMatch(f -> f.endsWith("/" + RunLayout.MANIFEST) || f.contains("/" + replaced.data() + "/"))
        .anyMatch(f -> f.contains("/" + replaced.data() + "/"));
  }

  @Test
  void ofSeveralProcessesTakingTheLeaseAtOnceOnS3ExactlyOneGetsIt() throws Exception {
    Configuration conf = s3.configure(new Configuration());
    // One S3 client per taker, as separate processes would have.
    conf.setBoolean("fs.s3a.impl.disable.cache", true);
    String first = s3.uri() + "/runs/lease-0";
    assertThat(RunDir.open(first, conf).fs().hasPathCapability(new org.apache.hadoop.fs.Path(first),
        "fs.option.create.conditional.overwrite")).as("S3A asks the store for conditional writes").isTrue();
    int takers = 4;
    java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(takers);
    try {
      for (int round = 0; round < 3; round++) {
        String runDir = s3.uri() + "/runs/lease-" + round;
        java.util.concurrent.CyclicBarrier together = new java.util.concurrent.CyclicBarrier(takers);
        java.util.List<java.util.concurrent.Future<RunLock>> attempts = new java.util.ArrayList<>();
        for (int i = 0; i < takers; i++) {
          int taker = i;
          attempts.add(pool.submit(() -> {
            RunDir run = RunDir.open(runDir, conf);
            together.await();
            try {
              return run.lock("taker " + taker);
            } catch (RunLockedException e) {
              return null;
            }
          }));
        }
        java.util.List<RunLock> held = new java.util.ArrayList<>();
        for (var a : attempts) {
          RunLock lock = a.get(2, java.util.concurrent.TimeUnit.MINUTES);
          if (lock != null) {
            held.add(lock);
          }
        }
        assertThat(held).as("round %d: takers holding the lease of %s", round, runDir).hasSize(1);
        held.forEach(RunLock::close);
      }
    } finally {
      pool.shutdownNow();
    }
  }

  private static Map<String, String> states(RunDir run) {
    return run.statuses(false).stream()
        .collect(Collectors.toMap(StageStatus::stage, s -> s.state().label(), (a, b) -> a, TreeMap::new));
  }

  private static java.util.List<String> files(RunDir run, org.apache.hadoop.fs.Path dir) throws Exception {
    FileSystem fs = run.fs();
    java.util.List<String> out = new java.util.ArrayList<>();
    if (!fs.exists(dir)) {
      return out;
    }
    RemoteIterator<LocatedFileStatus> it = fs.listFiles(dir, true);
    while (it.hasNext()) {
      out.add(it.next().getPath().toString());
    }
    return out;
  }
}
