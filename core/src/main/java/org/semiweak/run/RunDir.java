package org.semiweak.run;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileAlreadyExistsException;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.semiweak.util.HadoopFiles;
import org.semiweak.util.Json;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A run directory: one folder per stage on any Hadoop file system ({@code file://}, {@code hdfs://},
 * {@code s3a://}), each committed atomically with a manifest. Its paths are {@link RunLayout}'s.
 *
 * <p>Commit protocol (see {@link StageWriter}): a stage writes everything under
 * {@code _tmp/<stage>-<uuid>/}, then the folder is renamed to its final place, then
 * {@code _MANIFEST.json} is written last (itself via a temporary name). A stage folder without a
 * manifest is a leftover of a crash and is never read; the next commit replaces it. On object
 * stores where directory rename is not atomic, the manifest-last rule still keeps readers safe.
 *
 * <pre>{@code
 * RunDir run = RunDir.open("hdfs://nn/runs/r1", hadoopConf);
 * try (StageWriter w = run.begin(RunLayout.scores("semi-weak"))) {
 *   df.write().parquet(w.tempDir().toString());
 *   w.commit(plan, output);
 * }
 * }</pre>
 */
public final class RunDir {
  private static final Logger LOG = LoggerFactory.getLogger(RunDir.class);

  /** Version of the run-directory layout. A run written by a newer version is refused; 2 added typed results. */
  public static final int FORMAT_VERSION = 2;

  private final FileSystem fs;
  private final Path root;
  private final RunLayout layout;

  private RunDir(FileSystem fs, Path root) {
    this.fs = fs;
    this.root = root;
    this.layout = new RunLayout(root);
  }

  /** Opens (creating if needed) the run directory at {@code uri}. */
  public static RunDir open(String uri, Configuration conf) {
    if (uri == null || uri.isBlank()) {
      throw new IllegalArgumentException("run directory is not set: pass --run-dir PATH or set 'run-dir' in the config");
    }
    try {
      Path p = new Path(uri);
      FileSystem fs = p.getFileSystem(conf);
      Path root = fs.makeQualified(p);
      RunDir run = new RunDir(fs, root);
      run.initialize();
      return run;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot open run directory " + uri + ": " + e.getMessage(), e);
    }
  }

  private void initialize() throws IOException {
    Path runFile = layout.runFile();
    if (fs.exists(runFile)) {
      Map<?, ?> info = Json.read(readString(runFile), Map.class);
      Object v = info.get("formatVersion");
      int version = v instanceof Number n ? n.intValue() : -1;
      if (version > FORMAT_VERSION) {
        throw new IllegalStateException(
            "run directory " + root + " was written by semiweak " + info.get("semiweakVersion")
                + " (run format " + version + "); this semiweak reads format " + FORMAT_VERSION
                + ". Use a newer semiweak, or start a new run directory.");
      }
      if (version < 1) {
        throw new IllegalStateException(runFile + " has no valid formatVersion: is this a semiweak run directory?");
      }
      if (version < FORMAT_VERSION) {
        throw new IllegalStateException(
            "run directory " + root + " was written by semiweak " + info.get("semiweakVersion") + " (run format "
                + version + "), whose manifests have no typed results; this semiweak reads format " + FORMAT_VERSION
                + ". Start a new run directory (the stages are deterministic for a seed).");
      }
      return;
    }
    if (fs.exists(root) && fs.listStatus(root).length > 0) {
      throw new IllegalStateException(
          "refusing to use " + root + " as a run directory: it exists, is not empty and has no "
              + RunLayout.RUN_FILE + ". Choose an empty or new folder.");
    }
    fs.mkdirs(root);
    writeAtomically(runFile, Json.write(Map.of(
        "formatVersion", FORMAT_VERSION,
        "semiweakVersion", Versions.semiweak(),
        "createdAt", Instant.now().toString())));
  }

  public FileSystem fs() {
    return fs;
  }

  public Path root() {
    return root;
  }

  /** Every path of this run directory. */
  public RunLayout layout() {
    return layout;
  }

  /** The final folder of a stage, whether committed or not. */
  public Path stagePath(StageId stage) {
    return layout.stage(stage);
  }

  /** The committed manifest of a stage, or empty when the stage has not been committed. */
  public Optional<StageManifest> committed(StageId stage) {
    Path m = layout.manifest(stage);
    try {
      return Optional.of(StageManifest.fromJson(readString(m)));
    } catch (FileNotFoundException e) {
      return Optional.empty();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + m + ": " + e.getMessage(), e);
    }
  }

  /** The committed manifest of a stage the caller depends on; a clear error if it is missing. */
  public StageManifest require(StageId stage, String neededBy) {
    return committed(stage).orElseThrow(() -> new IllegalStateException(
        neededBy + " needs the committed output of stage '" + stage + "' in " + root
            + ", which is missing. Run that stage first (semiweak status " + root + " lists what is committed)."));
  }

  /** The committed stage whose folder holds {@code file} (a path or URI), if any. */
  public Optional<StageManifest> committedStageOf(String file) {
    Optional<String> rel = layout.relative(fs.makeQualified(new Path(file)).toUri().getPath());
    if (rel.isEmpty()) {
      return Optional.empty();
    }
    return listCommitted().stream().filter(m -> rel.get().startsWith(m.stage() + "/")).findFirst();
  }

  /** All committed stages, found by their manifests, in path order. */
  public List<StageManifest> listCommitted() {
    List<StageManifest> out = new ArrayList<>();
    try {
      collect(root, out, 0);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    out.sort((a, b) -> a.stage().compareTo(b.stage()));
    return out;
  }

  private void collect(Path dir, List<StageManifest> out, int depth) throws IOException {
    if (depth > 4) {
      return;
    }
    for (FileStatus st : fs.listStatus(dir)) {
      String name = st.getPath().getName();
      if (!st.isDirectory() || name.startsWith("_") || name.startsWith(".")) {
        continue;
      }
      Path m = new Path(st.getPath(), RunLayout.MANIFEST);
      if (fs.exists(m)) {
        out.add(StageManifest.fromJson(readString(m)));
      } else {
        collect(st.getPath(), out, depth + 1);
      }
    }
  }

  /** Starts writing a stage: a fresh temporary folder that becomes the stage on commit. */
  public StageWriter begin(StageId stage) {
    Path tmp = layout.temp(stage, UUID.randomUUID().toString());
    try {
      fs.mkdirs(tmp);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create " + tmp + ": " + e.getMessage(), e);
    }
    return new StageWriter(this, stage, tmp);
  }

  /** Removes a committed stage (used by reruns, e.g. {@code run --from}). */
  public void delete(StageId stage) {
    Path p = stagePath(stage);
    try {
      // The manifest goes first so that a crash midway leaves an uncommitted folder, never a half stage.
      fs.delete(layout.manifest(stage), false);
      fs.delete(p, true);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot delete stage " + p + ": " + e.getMessage(), e);
    }
  }

  /** Deletes a stage's resumable work (after its commit, when it is no longer needed). */
  public void deleteWork(StageId stage) {
    try {
      fs.delete(layout.work(stage), true);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot delete " + layout.work(stage) + ": " + e.getMessage(), e);
    }
  }

  /** Takes the run's lock, refusing if another process holds it. */
  public RunLock lock(String purpose) {
    Path lock = layout.lockFile();
    String owner = Json.write(Map.of(
        "host", hostName(),
        "pid", ProcessHandle.current().pid(),
        "purpose", purpose,
        "since", Instant.now().toString()));
    try (OutputStream out = fs.create(lock, false)) {
      out.write(owner.getBytes(StandardCharsets.UTF_8));
    } catch (FileAlreadyExistsException e) {
      throw new RunLockedException(root, readLockOwner(lock));
    } catch (IOException e) {
      if (isAlreadyExists(e)) {
        throw new RunLockedException(root, readLockOwner(lock));
      }
      throw new UncheckedIOException("cannot create lock " + lock + ": " + e.getMessage(), e);
    }
    return new RunLock(fs, lock);
  }

  private static boolean isAlreadyExists(IOException e) {
    String m = String.valueOf(e.getMessage());
    return m.contains("already exists") || m.contains("AlreadyExists");
  }

  private String readLockOwner(Path lock) {
    try {
      return readString(lock);
    } catch (IOException e) {
      return "(unreadable: " + e.getMessage() + ")";
    }
  }

  private static String hostName() {
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (IOException e) {
      return "unknown";
    }
  }

  public String readString(Path p) throws IOException {
    try (InputStream in = fs.open(p)) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  /** Writes a small file atomically: a temporary sibling, then rename. */
  public void writeAtomically(Path p, String content) {
    HadoopFiles.writeAtomically(fs, p, content);
  }

  void commit(StageWriter writer, StageManifest manifest) throws IOException {
    Path target = stagePath(writer.stage());
    if (fs.exists(target)) {
      if (fs.exists(layout.manifest(writer.stage()))) {
        throw new IllegalStateException(
            "stage " + writer.stage() + " is already committed in " + root
                + "; delete it first (semiweak run CONFIG --from " + writer.stage().kind().command() + ") to rerun it");
      }
      LOG.info("replacing uncommitted leftover of stage {} at {}", writer.stage(), target);
      fs.delete(target, true);
    }
    fs.mkdirs(target.getParent());
    if (!fs.rename(writer.tempDir(), target)) {
      throw new IOException("rename " + writer.tempDir() + " -> " + target + " returned false");
    }
    writeAtomically(layout.manifest(writer.stage()), manifest.toJson());
  }

  @Override
  public String toString() {
    return root.toString();
  }
}
