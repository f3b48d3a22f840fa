package org.semiweak.run;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.semiweak.util.HadoopFiles;
import org.semiweak.util.Json;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The lease on a run directory, held by one {@code semiweak} process at a time: the file
 * {@code _LOCK} names its holder (host, pid, purpose, start) and the time of its last heartbeat,
 * which a background thread renews every {@link #heartbeatInterval(Duration) timeout / 6}.
 *
 * <p>A process that finds a lease whose heartbeat is older than the holder's timeout (written in the
 * lease: a process with a shorter timeout cannot break the lease of one that renews less often)
 * takes it over, says so and logs the lease it broke: a killed run (SIGKILL, an OOM-killed
 * container, a preempted pod) does not block its retries. {@link Options#breakLock()} takes over a
 * fresh lease too, for a person who knows its holder is gone.
 *
 * <p>Guarantees. The lease is created exclusively: a hard link on a local file system, a
 * rename on HDFS, whose NameNode refuses it if the name exists, and on an object store
 * that offers conditional writes (S3A since Hadoop 3.5: {@code If-None-Match: *}) a conditional
 * create; there a renewal also rewrites the lease only if it is still the version it read
 * ({@code If-Match: <etag>}). On a store with neither, the lease is advisory. Of several processes that take over one stale lease at once, exactly one
 * wins: each must first create {@code _LOCK.takeover-<token>} exclusively and then find the same
 * stale lease still in place. Staleness compares the holder's clock (its heartbeat) with the
 * taker's: clocks must agree to well within the timeout (NTP). A holder that stalls longer than its
 * timeout (a frozen VM) can lose its lease; its next heartbeat notices, and {@link #verifyHeld()},
 * called before every commit, fails the stage instead of committing beside the new holder.
 */
public final class RunLock implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(RunLock.class);

  /** The default lease timeout: long past any pause of a live JVM, short enough for a retry a few minutes later. */
  public static final Duration DEFAULT_TIMEOUT = Duration.ofMinutes(2);
  /** The shortest timeout accepted: heartbeats must not flood the file system. */
  public static final Duration MIN_TIMEOUT = Duration.ofSeconds(1);

  /** How to take the lease. */
  public record Options(Duration timeout, boolean breakLock) {
    public Options {
      if (timeout == null || timeout.compareTo(MIN_TIMEOUT) < 0) {
        throw new IllegalArgumentException("the lock timeout must be at least " + MIN_TIMEOUT.toSeconds()
            + " s, found " + timeout);
      }
    }

    public static Options defaults() {
      return new Options(DEFAULT_TIMEOUT, false);
    }
  }

  private final LeaseFile file;
  private final Path root;
  private final Lease mine;
  private final String takeover;
  private final ScheduledExecutorService heartbeat;
  private volatile Thread heartbeatThread;
  private final Thread shutdownHook;
  private volatile String lost;
  private boolean released;

  private RunLock(LeaseFile file, Path root, Lease mine, String takeover) {
    this.file = file;
    this.root = root;
    this.mine = mine;
    this.takeover = takeover;
    this.heartbeat = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "semiweak-lease-heartbeat " + root);
      t.setDaemon(true);
      heartbeatThread = t;
      return t;
    });
    long every = heartbeatInterval(Duration.ofMillis(mine.timeoutMillis())).toMillis();
    heartbeat.scheduleWithFixedDelay(this::renew, every, every, TimeUnit.MILLISECONDS);
    // A SIGTERM (YARN killing a container, Kubernetes evicting a pod) releases the lease at once, so
    // the retry need not wait for the timeout; a commit still in flight then fails verifyHeld().
    this.shutdownHook = new Thread(this::close, "semiweak-lease-release " + root);
    Runtime.getRuntime().addShutdownHook(shutdownHook);
  }

  /** How often a holder renews a lease of the given timeout: six beats may be missed before it is stale. */
  public static Duration heartbeatInterval(Duration timeout) {
    return Duration.ofMillis(Math.max(100, timeout.toMillis() / 6));
  }

  /**
   * Takes the lease at {@code path}: creates it, or takes over a stale one (or any one, with
   * {@link Options#breakLock()}); a {@link RunLockedException} naming the holder otherwise.
   */
  static RunLock acquire(FileSystem fs, Path root, Path path, String purpose, Options options) {
    LeaseFile file = new LeaseFile(fs, path);
    Lease mine = Lease.create(purpose, options.timeout());
    Observed last = null;
    for (int attempt = 0; attempt < 5; attempt++) {
      try {
        if (file.createExclusive(path, mine.toJson())) {
          return new RunLock(file, root, mine, null);
        }
        Observed held = file.read();
        if (held == null) {
          continue; // released between our attempt and our read
        }
        last = held;
        long now = System.currentTimeMillis();
        if (!options.breakLock() && !held.staleAt(now, options.timeout())) {
          throw new RunLockedException(root, held.describe(now, options.timeout()));
        }
        // Only one process may break a given lease: the one that creates its takeover marker.
        Path marker = new Path(path.getParent(), path.getName() + ".takeover-" + held.key());
        if (!file.createExclusive(marker, mine.toJson())) {
          Long markedAt = file.modificationTime(marker);
          if (markedAt == null) {
            continue; // the other taker has finished: decide again
          }
          if (now - markedAt > held.timeoutMillis(options.timeout())) {
            LOG.warn("removing {}, left by a process that died while taking over the lease", marker);
            file.delete(marker);
            continue;
          }
          throw new RunLockedException(root, "another process is taking over the lease of "
              + held.describe(now, options.timeout()));
        }
        try {
          Observed again = file.read();
          if (again == null || !again.sameLease(held, options.breakLock())) {
            continue; // renewed, released or replaced meanwhile: decide again
          }
          file.delete(path);
          // Ours, unless a process that came after the deletion created one first: then that one holds it.
          if (file.createExclusive(path, mine.toJson())) {
            String tookOver = (options.breakLock() ? "broke the lock of " : "took over the stale lease of ") + root
                + ": " + held.describe(now, options.timeout()) + "; the lease it replaced was: " + held.raw().strip();
            LOG.warn("{}", tookOver);
            return new RunLock(file, root, mine, tookOver);
          }
        } finally {
          file.delete(marker);
        }
      } catch (IOException e) {
        throw new java.io.UncheckedIOException("cannot take the lock " + path + ": " + e.getMessage(), e);
      }
    }
    throw new RunLockedException(root, last == null ? "(the lease changed hands too often to name its holder)"
        : last.describe(System.currentTimeMillis(), options.timeout()));
  }

  /** When this process took over another's lease: what it broke, for the console; empty otherwise. */
  public Optional<String> takeover() {
    return Optional.ofNullable(takeover);
  }

  /** This process's lease (host, pid, purpose, start, heartbeat) as written in {@code _LOCK}. */
  public String describe() {
    return mine.toJson();
  }

  /**
   * Fails when the lease is no longer this process's (taken over after this process stalled past its
   * timeout, or broken by a person): called before a commit, so that two processes never both commit.
   */
  public void verifyHeld() {
    if (lost == null) {
      try {
        Observed now = file.read();
        if (now == null) {
          lost = "its lease file " + file.path + " was deleted";
        } else if (now.lease() == null) {
          lost = "its lease file " + file.path + " holds no lease: " + now.raw().strip();
        } else if (!mine.token().equals(now.lease().token())) {
          lost = "its lease was taken over by " + now.describe(System.currentTimeMillis(), Duration.ZERO);
        }
      } catch (IOException e) {
        throw new java.io.UncheckedIOException("cannot read the lock " + file.path + ": " + e.getMessage(), e);
      }
    }
    if (lost != null) {
      throw new RunLockedException("this semiweak process no longer holds run directory " + root + ": " + lost
          + ". It stops without committing; the process that holds the lease now works on the run.");
    }
  }

  private void renew() {
    try {
      Observed now = file.read();
      if (now == null) {
        lost = "its lease file " + file.path + " was deleted";
      } else if (now.lease() == null) {
        // Being rewritten by someone, or damaged: never overwrite what might be another holder's lease.
        LOG.warn("the lease {} is unreadable; not renewed this time", file.path);
        return;
      } else if (!mine.token().equals(now.lease().token())) {
        lost = "its lease was taken over by " + now.describe(System.currentTimeMillis(), Duration.ZERO);
      } else {
        file.overwrite(mine.renewed().toJson(), now.etag());
        return;
      }
      LOG.error("lost the lease on run directory {}: {}; this process will not commit", root, lost);
      heartbeat.shutdown();
    } catch (IOException | RuntimeException e) {
      // A slow or failing file system: try again at the next beat; the lease survives several misses.
      LOG.warn("could not renew the lease {}: {}", file.path, e.getMessage());
    }
  }

  /** True once {@link #close()} ran. */
  public synchronized boolean released() {
    return released;
  }

  /** Stops the heartbeat and deletes the lease if it is still this process's. */
  @Override
  public void close() {
    synchronized (this) {
      if (released) {
        return;
      }
      released = true;
    }
    stopHeartbeat();
    if (Thread.currentThread() != shutdownHook) {
      try {
        Runtime.getRuntime().removeShutdownHook(shutdownHook);
      } catch (IllegalStateException e) {
        // the JVM is shutting down: the hook runs or ran
      }
    }
    try {
      Observed now = file.read();
      if (now != null && now.lease() != null && mine.token().equals(now.lease().token())) {
        file.delete(file.path);
      }
    } catch (IOException e) {
      LOG.warn("could not release run lock {}: {}", file.path, e.getMessage());
    }
  }

  private void stopHeartbeat() {
    heartbeat.shutdownNow();
    try {
      heartbeat.awaitTermination(30, TimeUnit.SECONDS);
      Thread t = heartbeatThread;
      if (t != null && t != Thread.currentThread()) {
        t.join(TimeUnit.SECONDS.toMillis(30));
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** What a process that was killed leaves behind: the lease file, no heartbeat. For tests. */
  void abandon() {
    stopHeartbeat();
    Runtime.getRuntime().removeShutdownHook(shutdownHook);
  }

  /** The lease as written in {@code _LOCK}. */
  record Lease(String token, String host, long pid, String purpose, String since, long heartbeatMillis,
      long timeoutMillis) {
    static Lease create(String purpose, Duration timeout) {
      return new Lease(UUID.randomUUID().toString(), hostName(), ProcessHandle.current().pid(), purpose,
          Instant.now().toString(), System.currentTimeMillis(), timeout.toMillis());
    }

    Lease renewed() {
      return new Lease(token, host, pid, purpose, since, System.currentTimeMillis(), timeoutMillis);
    }

    String toJson() {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("token", token);
      m.put("host", host);
      m.put("pid", pid);
      m.put("purpose", purpose);
      m.put("since", since);
      m.put("heartbeat", Instant.ofEpochMilli(heartbeatMillis).toString());
      m.put("heartbeatMillis", heartbeatMillis);
      m.put("timeoutSeconds", timeoutMillis / 1000.0);
      return Json.write(m);
    }

    /** The lease in {@code json}, or null when it is not one (empty while being written, or foreign). */
    static Lease parse(String json) {
      try {
        Map<?, ?> m = Json.MAPPER.readValue(json, Map.class);
        Object token = m.get("token");
        Object beat = m.get("heartbeatMillis");
        Object timeout = m.get("timeoutSeconds");
        if (token == null || !(beat instanceof Number b) || !(timeout instanceof Number t)) {
          return null;
        }
        Object pid = m.get("pid");
        return new Lease(String.valueOf(token), String.valueOf(m.get("host")),
            pid instanceof Number p ? p.longValue() : -1, String.valueOf(m.get("purpose")),
            String.valueOf(m.get("since")), b.longValue(), Math.round(t.doubleValue() * 1000));
      } catch (IOException | RuntimeException e) {
        return null;
      }
    }
  }

  /** A lease file as read: its lease (null when unreadable), its text and its modification time. */
  record Observed(Lease lease, String raw, long modifiedMillis, String etag) {
    /** The time of the last sign of life: the heartbeat, or for an unreadable file its modification. */
    long lastBeat() {
      return lease != null ? lease.heartbeatMillis() : modifiedMillis;
    }

    long timeoutMillis(Duration fallback) {
      return lease != null ? lease.timeoutMillis() : fallback.toMillis();
    }

    boolean staleAt(long now, Duration fallback) {
      return now - lastBeat() > timeoutMillis(fallback);
    }

    String key() {
      return lease != null ? lease.token() : "unreadable-" + modifiedMillis;
    }

    /** Still the lease judged stale: unchanged, or (when breaking it on purpose) the same holder. */
    boolean sameLease(Observed earlier, boolean sameHolderIsEnough) {
      if (sameHolderIsEnough && lease != null && earlier.lease != null) {
        return lease.token().equals(earlier.lease.token());
      }
      return raw.equals(earlier.raw) && modifiedMillis == earlier.modifiedMillis;
    }

    String describe(long now, Duration fallback) {
      double age = (now - lastBeat()) / 1000.0;
      if (lease == null) {
        return "(an unreadable lease file, last modified " + String.format(java.util.Locale.ROOT, "%.0f", age)
            + " s ago: " + raw.strip() + ")";
      }
      return String.format(java.util.Locale.ROOT,
          "host %s, pid %d (%s), since %s, last heartbeat %.0f s ago; a lease without heartbeat for %.0f s is taken"
              + " over", lease.host(), lease.pid(), lease.purpose(), lease.since(), Math.max(0, age),
          lease.timeoutMillis() / 1000.0);
    }
  }

  /** The file operations of the lease, exclusive where the file system allows it. */
  static final class LeaseFile {
    /** The createFile() option for an overwrite only of the version with this etag (S3's If-Match). */
    static final String CONDITIONAL_ETAG = "fs.option.create.conditional.overwrite.etag";

    private final FileSystem fs;
    private final Path path;
    /** The store makes a create exclusive and an overwrite conditional on the server (S3A 3.5+). */
    private final boolean conditional;

    LeaseFile(FileSystem fs, Path path) {
      this.fs = fs;
      this.path = path;
      this.conditional = HadoopFiles.supportsConditionalCreate(fs, path);
    }

    /** Creates {@code p} with {@code content} unless it exists; false if it does (see {@link HadoopFiles#createIfAbsent}). */
    boolean createExclusive(Path p, String content) throws IOException {
      return HadoopFiles.createIfAbsent(fs, p, content.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * Replaces the lease's content so that readers see the old or the new one whole ({@link
     * HadoopFiles#writeAtomically}); on a conditional store only if the lease is still the version
     * {@code etag} that was read (else it changed hands in between: not renewed, and the next beat
     * reads who holds it).
     */
    void overwrite(String content, String etag) throws IOException {
      if (conditional && etag != null) {
        try (OutputStream out = (OutputStream) fs.createFile(path).overwrite(true).must(CONDITIONAL_ETAG, etag).build()) {
          out.write(content.getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
          if (HadoopFiles.preconditionFailed(e)) {
            LOG.warn("the lease {} changed since it was read; not renewed this time", path);
            return;
          }
          throw e;
        }
        return;
      }
      try {
        HadoopFiles.writeAtomically(fs, path, content);
      } catch (java.io.UncheckedIOException e) {
        throw e.getCause();
      }
    }

    /**
     * The lease, or null when there is none. A file being written (empty, or cut short) is read
     * again for up to a second before it counts as unreadable.
     */
    Observed read() throws IOException {
      Observed o = null;
      for (int i = 0; i < 10; i++) {
        String raw;
        long modified;
        String etag;
        try {
          org.apache.hadoop.fs.FileStatus status = fs.getFileStatus(path);
          modified = status.getModificationTime();
          etag = status instanceof org.apache.hadoop.fs.EtagSource e ? e.getEtag() : null;
          try (InputStream in = fs.open(path)) {
            raw = new String(in.readAllBytes(), StandardCharsets.UTF_8);
          }
        } catch (FileNotFoundException e) {
          return null;
        }
        o = new Observed(Lease.parse(raw), raw, modified, etag);
        if (o.lease() != null) {
          return o;
        }
        try {
          Thread.sleep(100);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          break;
        }
      }
      return o;
    }

    /** The modification time of {@code p}, or null when it does not exist. */
    Long modificationTime(Path p) throws IOException {
      try {
        return fs.getFileStatus(p).getModificationTime();
      } catch (FileNotFoundException e) {
        return null;
      }
    }

    void delete(Path p) throws IOException {
      fs.delete(p, false);
    }
  }

  private static String hostName() {
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (IOException e) {
      return "unknown";
    }
  }
}
