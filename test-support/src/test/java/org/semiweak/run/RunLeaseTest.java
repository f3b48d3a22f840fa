package org.semiweak.run;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.semiweak.run.result.Publication;
import org.semiweak.run.result.ScoreResult;
import org.semiweak.testing.cluster.MiniHdfs;

/**
 * The run directory's lease, on the local file system and on a real HDFS (MiniDFSCluster): a live
 * holder excludes every other process however long it works; a lease whose holder stopped its
 * heartbeat (what SIGKILL leaves) is taken over and the takeover is reported; of several processes
 * taking over one stale lease at once exactly one wins; {@code --break-lock} takes a live lease and
 * its former holder then refuses to commit; the heartbeat stops when the lease is released.
 *
 * <p>Each "process" is a {@link RunDir} of its own; on HDFS each has its own client
 * ({@code fs.hdfs.impl.disable.cache}), as separate JVMs would.
 */
class RunLeaseTest {
  @TempDir static Path tmp;
  static MiniHdfs hdfs;
  static final AtomicInteger RUNS = new AtomicInteger();
  static final StageId SCORES = RunLayout.scores("semi-weak");

  @BeforeAll
  static void startHdfs() {
    hdfs = MiniHdfs.start(tmp.resolve("hdfs"));
  }

  @AfterAll
  static void stopHdfs() {
    if (hdfs != null) {
      hdfs.close();
    }
  }

  /** A new run directory on {@code fs} ("local" or "hdfs"). */
  private static String newRun(String fs) {
    String name = "run-" + RUNS.incrementAndGet();
    return fs.equals("hdfs") ? hdfs.uri() + "/runs/" + name : tmp.resolve(name).toUri().toString();
  }

  /** The run directory as another process opens it: its own file system client. */
  private static RunDir process(String uri) {
    Configuration conf = new Configuration();
    conf.setBoolean("fs.hdfs.impl.disable.cache", true);
    return RunDir.open(uri, conf);
  }

  private static RunLock.Options timeout(Duration d) {
    return new RunLock.Options(d, false);
  }

  private static String leaseText(RunDir run) throws Exception {
    return run.readString(run.layout().lockFile());
  }

  /** Tries to take the lease until it succeeds: a lease without heartbeat becomes stale after its timeout. */
  private static RunLock takeWhenStale(RunDir run, RunLock.Options options) throws Exception {
    long guard = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (true) {
      try {
        return run.lock("rerun", options);
      } catch (RunLockedException refused) {
        assertThat(System.nanoTime()).as("the stale lease is taken over within a minute (guard)").isLessThan(guard);
        Thread.sleep(200);
      }
    }
  }

  private static void commitScores(RunDir run) throws Exception {
    StageWriter w = run.begin(SCORES);
    try (OutputStream out = run.fs().create(w.temp("part-0"))) {
      out.write("scores".getBytes(StandardCharsets.UTF_8));
    }
    StagePlan plan = StagePlan.builder(SCORES, Map.of("pmax", 1)).publishes(new Publication.Scores(1, 2)).build();
    w.commit(plan, new StageOutput(Map.of("in", 1L, "scored", 1L),
        new ScoreResult("unlabeled", 1, 2, null, 1.0, 1, 1, List.of(), List.of())));
  }

  @ParameterizedTest
  @ValueSource(strings = {"local", "hdfs"})
  void aLiveHolderExcludesOthersForLongerThanItsTimeoutByRenewingItsHeartbeat(String fs) throws Exception {
    String uri = newRun(fs);
    RunDir holder = process(uri);
    Duration timeout = Duration.ofSeconds(2);
    try (RunLock lock = holder.lock("semiweak prep", timeout(timeout))) {
      String first = leaseText(holder);
      // Three timeouts: without its heartbeat the lease would have been stale twice over.
      long until = System.nanoTime() + timeout.multipliedBy(3).toNanos();
      int refusals = 0;
      while (System.nanoTime() < until) {
        assertThatThrownBy(() -> process(uri).lock("semiweak run", timeout(timeout)))
            .as("a second process is refused while the holder lives")
            .isInstanceOf(RunLockedException.class)
            .hasMessageContaining("is in use by another semiweak process")
            .hasMessageContaining("pid " + ProcessHandle.current().pid() + " (semiweak prep)")
            .hasMessageContaining("last heartbeat")
            .hasMessageContaining("--break-lock");
        refusals++;
        Thread.sleep(500);
      }
      assertThat(refusals).isGreaterThan(1);
      assertThat(leaseText(holder)).as("the heartbeat rewrote the lease").isNotEqualTo(first);
      lock.verifyHeld();
    }
    assertThat(holder.fs().exists(holder.layout().lockFile())).as("released: the lease file is gone").isFalse();
    try (RunLock again = process(uri).lock("semiweak run", timeout(timeout))) {
      assertThat(again.takeover()).as("a released lease is simply taken, not taken over").isEmpty();
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"local", "hdfs"})
  void aLeaseWithoutHeartbeatIsTakenOverSaidSoAndItsFormerHolderCannotCommit(String fs) throws Exception {
    String uri = newRun(fs);
    RunDir killed = process(uri);
    RunLock dead = killed.lock("semiweak train-teacher", timeout(Duration.ofSeconds(1)));
    String deadLease = leaseText(killed);
    dead.abandon(); // what SIGKILL leaves: the file, and no heartbeat

    RunDir next = process(uri);
    // The takeover follows the dead holder's timeout (1 s), not the newcomer's (10 min).
    try (RunLock lock = takeWhenStale(next, timeout(Duration.ofMinutes(10)))) {
      assertThat(lock.takeover()).as("the takeover is reported").isPresent();
      assertThat(lock.takeover().get())
          .contains("took over the stale lease of " + next.root())
          .contains("semiweak train-teacher")
          .contains("the lease it replaced was: " + deadLease.strip());
      assertThat(leaseText(next)).as("the lease is the newcomer's").contains("\"purpose\" : \"rerun\"");

      // Had the old holder only stalled, it must not commit beside the new one.
      assertThatThrownBy(() -> commitScores(killed))
          .isInstanceOf(RunLockedException.class)
          .hasMessageContaining("no longer holds run directory")
          .hasMessageContaining("its lease was taken over by");
      assertThat(next.committed(SCORES)).as("nothing was committed by the old holder").isEmpty();
      commitScores(next);
      assertThat(next.committed(SCORES)).as("the holder commits").isPresent();
    }
    assertThat(next.fs().exists(next.layout().lockFile())).isFalse();
  }

  /**
   * {@code takers} processes lock {@code uri} for "taker" at the same moment; returns the locks taken.
   * A process refused must be told {@code refusal}; none may fail otherwise (neither the run file
   * nor the lease may fail to be written).
   */
  private List<RunLock> lockAtOnce(ExecutorService pool, String uri, int takers, String refusal) throws Exception {
    CountDownLatch start = new CountDownLatch(1);
    List<Future<RunLock>> attempts = new ArrayList<>();
    for (int i = 0; i < takers; i++) {
      RunDir run = process(uri);
      attempts.add(pool.submit(() -> {
        start.await();
        try {
          return run.lock("taker", timeout(Duration.ofMinutes(10)));
        } catch (RunLockedException refused) {
          assertThat(refused).hasMessageContaining(refusal);
          return null;
        }
      }));
    }
    start.countDown();
    List<RunLock> taken = new ArrayList<>();
    for (Future<RunLock> f : attempts) {
      RunLock l = f.get(2, TimeUnit.MINUTES);
      if (l != null) {
        taken.add(l);
      }
    }
    return taken;
  }

  @ParameterizedTest
  @ValueSource(strings = {"local", "hdfs"})
  void ofSeveralProcessesTakingOverOneStaleLeaseAtOnceExactlyOneWins(String fs) throws Exception {
    String uri = newRun(fs);
    int takers = 6;
    ExecutorService pool = Executors.newFixedThreadPool(takers);
    try {
      for (int round = 0; round < 4; round++) {
        RunLock dead = process(uri).lock("killed", timeout(Duration.ofSeconds(1)));
        dead.abandon();
        Thread.sleep(1500); // the lease is stale now: every taker sees it so
        List<RunLock> winners = lockAtOnce(pool, uri, takers, "is in use by another semiweak process");
        assertThat(winners).as("round %d: exactly one process takes over the stale lease", round).hasSize(1);
        RunLock winner = winners.get(0);
        winner.verifyHeld();
        assertThat(leaseText(process(uri))).as("the stale lease is gone").contains("\"purpose\" : \"taker\"");
        winner.close();
      }
    } finally {
      pool.shutdownNow();
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"local", "hdfs"})
  void ofSeveralProcessesStartingOnOneNewRunDirectoryAtOnceOneHoldsItAndTheOthersAreToldWho(String fs)
      throws Exception {
    int takers = 6;
    ExecutorService pool = Executors.newFixedThreadPool(takers);
    try {
      for (int round = 0; round < 4; round++) {
        String uri = newRun(fs);
        List<RunLock> holders = lockAtOnce(pool, uri, takers, "taker");
        assertThat(holders).as("round %d: processes holding the lease of the new %s", round, uri).hasSize(1);
        RunDir reader = RunDir.openExisting(uri, new Configuration());
        assertThat(reader.readString(reader.layout().runFile())).as("the run file, written whole once")
            .contains("\"formatVersion\"");
        holders.forEach(RunLock::close);
      }
    } finally {
      pool.shutdownNow();
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"local", "hdfs"})
  void aWholeFileCreatedIfAbsentByManyAtOnceHasExactlyOneCreatorAndIsNeverSeenHalfWritten(String fs)
      throws Exception {
    RunDir run = process(newRun(fs));
    org.apache.hadoop.fs.FileSystem files = run.fs() instanceof org.apache.hadoop.fs.ChecksumFileSystem c
        ? c.getRawFileSystem() : run.fs();
    org.apache.hadoop.fs.Path target = new org.apache.hadoop.fs.Path(run.root(), "created-once.json");
    int writers = 8;
    ExecutorService pool = Executors.newFixedThreadPool(writers);
    try {
      CountDownLatch start = new CountDownLatch(1);
      List<Future<Boolean>> attempts = new ArrayList<>();
      for (int i = 0; i < writers; i++) {
        byte[] content = ("writer " + i + " ").repeat(20_000).getBytes(StandardCharsets.UTF_8);
        attempts.add(pool.submit(() -> {
          start.await();
          return org.semiweak.util.HadoopFiles.createIfAbsent(files, target, content);
        }));
      }
      start.countDown();
      List<Integer> creators = new ArrayList<>();
      for (int i = 0; i < writers; i++) {
        if (attempts.get(i).get(2, TimeUnit.MINUTES)) {
          creators.add(i);
        }
      }
      assertThat(creators).as("writers told they created %s", target).hasSize(1);
      assertThat(run.readString(target)).as("the file holds exactly the creator's bytes")
          .isEqualTo(("writer " + creators.get(0) + " ").repeat(20_000));
      assertThat(files.listStatus(run.root())).as("no temporary file left beside it")
          .extracting(st -> st.getPath().getName()).containsExactly("created-once.json");
    } finally {
      pool.shutdownNow();
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"local", "hdfs"})
  void breakLockTakesALiveLeaseAndTheFormerHolderStopsBeforeItsNextCommit(String fs) throws Exception {
    String uri = newRun(fs);
    RunDir first = process(uri);
    RunLock live = first.lock("semiweak score", timeout(Duration.ofMinutes(10)));
    RunDir person = process(uri);
    try (RunLock broken = person.lock("semiweak run", new RunLock.Options(Duration.ofMinutes(10), true))) {
      assertThat(broken.takeover()).get().asString().contains("broke the lock of").contains("semiweak score");
      assertThatThrownBy(() -> commitScores(first)).isInstanceOf(RunLockedException.class)
          .hasMessageContaining("no longer holds run directory");
      live.close();
      assertThat(leaseText(person)).as("the former holder's release leaves the new lease alone")
          .contains("\"purpose\" : \"semiweak run\"");
      broken.verifyHeld();
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"local", "hdfs"})
  void theHeartbeatThreadStopsWhenTheLeaseIsReleased(String fs) throws Exception {
    String uri = newRun(fs);
    RunDir run = process(uri);
    String threadName = "semiweak-lease-heartbeat " + run.root();
    RunLock lock = run.lock("semiweak run", timeout(Duration.ofSeconds(1)));
    assertThat(heartbeatThreads(threadName)).as("a heartbeat thread while held").isEqualTo(1);
    lock.close();
    assertThat(heartbeatThreads(threadName)).as("no heartbeat thread after release").isZero();
    assertThat(run.fs().exists(run.layout().lockFile())).isFalse();
  }

  private static long heartbeatThreads(String name) {
    return Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().equals(name) && t.isAlive()).count();
  }
}
