package org.semiweak.run;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.ChecksumFileSystem;
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
 * <p>Commit protocol (see {@link StageWriter}), on local disks and HDFS (atomic rename): a stage
 * writes everything under {@code _tmp/<stage>-<uuid>/}, then the folder is renamed to its final
 * place, then {@code _MANIFEST.json} is written last (itself via a temporary name). A stage folder
 * without a manifest is a leftover of a crash and is never read; the next commit replaces it.
 *
 * <p>On object stores ({@code s3a://}, {@code gs://}, {@code abfs://}...: a directory rename is a
 * copy of every object, not atomic) a commit publishes by manifest instead: the stage writes into
 * a fresh {@code <stage>/_data-<uuid>/}, the manifest (one object, written whole) names that folder
 * and is the switch, and only then are the folders it supersedes deleted. Nothing is renamed or
 * copied; readers reach the files through {@link #dataPath}. The Hadoop key
 * {@value #COMMIT_MODE_KEY} ({@code auto}, {@code rename}, {@code manifest}) overrides the choice.
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

  /** Hadoop configuration key choosing how commits publish: {@code auto} (by file system), {@code rename}, {@code manifest}. */
  public static final String COMMIT_MODE_KEY = "semiweak.commit.mode";

  /** Version of the run-directory layout. A run written by a newer version is refused; 2 added typed results. */
  public static final int FORMAT_VERSION = 2;

  private final FileSystem fs;
  /**
   * The file system for semiweak's own small files (manifests, plans, the run file, the lock). On a
   * checksummed local file system it is the raw one underneath: Hadoop's hidden {@code .crc} side
   * files would turn a harmless edit of a manifest (an added newline) into a {@code ChecksumException}
   * that makes the whole run unreadable. A manifest is checked by parsing it, and the data files by
   * the sizes and checksums it lists.
   */
  private final FileSystem metaFs;
  private final Path root;
  private final RunLayout layout;
  /** The lease this instance took, checked before each commit. */
  private volatile RunLock activeLock;
  /** Commits write into {@code <stage>/_data-<uuid>/} and publish by manifest, without a rename. */
  private final boolean publishByManifest;

  private RunDir(FileSystem fs, Path root, boolean publishByManifest) {
    this.fs = fs;
    this.metaFs = fs instanceof ChecksumFileSystem c ? c.getRawFileSystem() : fs;
    this.root = root;
    this.layout = new RunLayout(root);
    this.publishByManifest = publishByManifest;
  }

  /** Whether {@code conf}'s {@value #COMMIT_MODE_KEY} (default {@code auto}) makes commits on {@code fs} publish by manifest. */
  static boolean publishesByManifest(FileSystem fs, Configuration conf) {
    String mode = conf.getTrimmed(COMMIT_MODE_KEY, "auto");
    return switch (mode) {
      case "manifest" -> true;
      case "rename" -> false;
      case "auto" -> HadoopFiles.isObjectStore(fs); // no atomic directory rename there
      default -> throw new org.semiweak.config.ConfigException(COMMIT_MODE_KEY + " is '" + mode
          + "'; use auto (rename on local disks and HDFS, manifest on object stores), rename or manifest");
    };
  }

  /** Whether this run's commits publish by manifest ({@code <stage>/_data-<id>/}) instead of a rename. */
  public boolean publishesByManifest() {
    return publishByManifest;
  }

  /**
   * Opens the run directory at {@code uri}, checking the format of an existing one. Nothing is created
   * here: the folder and its {@code _RUN.json} are made by the first {@link #lock} or {@link #begin},
   * so that a command refused for bad usage leaves no run directory behind.
   */
  public static RunDir open(String uri, Configuration conf) {
    if (uri == null || uri.isBlank()) {
      throw new org.semiweak.config.ConfigException(
          "run directory is not set: pass --run-dir PATH or set 'run-dir' in the config");
    }
    return at(uri, conf, false);
  }

  /**
   * Opens an existing run directory without creating or changing anything (for {@code status}); a
   * clear error when {@code uri} holds no run.
   */
  public static RunDir openExisting(String uri, Configuration conf) {
    if (uri == null || uri.isBlank()) {
      throw new IllegalArgumentException("run directory is not set");
    }
    return at(uri, conf, true);
  }

  private static RunDir at(String uri, Configuration conf, boolean mustExist) {
    try {
      Path p = new Path(uri);
      FileSystem fs = p.getFileSystem(conf);
      RunDir run = new RunDir(fs, fs.makeQualified(p), publishesByManifest(fs, conf));
      if (mustExist && !fs.exists(run.layout.runFile())) {
        throw new IllegalArgumentException(run.root + " is not a semiweak run directory (it has no "
            + RunLayout.RUN_FILE + (fs.exists(run.root) ? ")" : "; it does not exist)"));
      }
      run.checkFormat();
      return run;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot open run directory " + uri + ": " + e.getMessage(), e);
    }
  }

  /** Refuses a run of another format, and a folder that holds something else than a run. */
  private void checkFormat() throws IOException {
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
  }

  /**
   * Creates the folder and its {@code _RUN.json} unless they exist: before the first write. Of several
   * processes starting on one new run directory, the first to create it stands (the others' files would
   * differ only in their time).
   */
  private synchronized void create() {
    Path runFile = layout.runFile();
    try {
      if (fs.exists(runFile)) {
        return;
      }
      fs.mkdirs(root);
      HadoopFiles.createIfAbsent(metaFs, runFile, Json.write(Map.of(
          "formatVersion", FORMAT_VERSION,
          "semiweakVersion", Versions.semiweak(),
          "createdAt", Instant.now().toString())).getBytes(StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create run directory " + root + ": " + e.getMessage(), e);
    }
  }

  /** Whether the run directory has been created (it has a {@code _RUN.json}). */
  public boolean exists() {
    try {
      return fs.exists(layout.runFile());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + layout.runFile() + ": " + e.getMessage(), e);
    }
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

  /**
   * The folder of a stage, whether committed or not: where its manifest is. Its files are in
   * {@link #dataPath}, which is this folder unless the commit published by manifest.
   */
  public Path stagePath(StageId stage) {
    return layout.stage(stage);
  }

  /** The folder holding the files of a committed stage (its stage folder, or the data folder its manifest names). */
  public Path dataPath(StageId stage) {
    return committed(stage).map(this::dataPath).orElseGet(() -> stagePath(stage));
  }

  /** The folder holding the files that {@code m} committed. */
  public Path dataPath(StageManifest m) {
    return m.data() == null ? stagePath(m.id()) : layout.data(m.id(), m.data());
  }

  /**
   * The plan ({@code _PLAN.json}) of a stage's last commit, beside its files. When the manifest is
   * unreadable (the case a rerun repairs), the stage folder's, or else the newest data folder's.
   */
  public Path planPath(StageId stage) {
    try {
      Optional<StageManifest> m = committed(stage);
      if (m.isPresent()) {
        return new Path(dataPath(m.get()), RunLayout.PLAN_FILE);
      }
    } catch (DamagedStageException e) {
      // fall through: look for a plan without the manifest
    }
    Path inStage = layout.plan(stage);
    try {
      if (fs.exists(inStage) || !fs.exists(stagePath(stage))) {
        return inStage;
      }
      FileStatus newest = null;
      for (FileStatus st : fs.listStatus(stagePath(stage))) {
        Path plan = new Path(st.getPath(), RunLayout.PLAN_FILE);
        if (st.isDirectory() && st.getPath().getName().startsWith(RunLayout.DATA_PREFIX) && fs.exists(plan)
            && (newest == null || st.getModificationTime() > newest.getModificationTime())) {
          newest = st;
        }
      }
      return newest == null ? inStage : new Path(newest.getPath(), RunLayout.PLAN_FILE);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list " + stagePath(stage) + ": " + e.getMessage(), e);
    }
  }

  /**
   * The committed manifest of a stage, or empty when the stage has not been committed; a
   * {@link DamagedStageException} (saying how to repair it) when its manifest cannot be read.
   */
  public Optional<StageManifest> committed(StageId stage) {
    Path m = layout.manifest(stage);
    String json;
    try {
      json = readString(m);
    } catch (FileNotFoundException e) {
      return Optional.empty();
    } catch (IOException e) {
      throw damaged(stage, List.of("its manifest " + m + " cannot be read: " + e.getMessage()));
    }
    StageManifest manifest;
    try {
      manifest = StageManifest.fromJson(json);
    } catch (IllegalArgumentException e) {
      throw damaged(stage, List.of("its manifest " + m + " is " + e.getMessage()));
    }
    if (!stage.path().equals(manifest.stage())) {
      throw damaged(stage, List.of("its manifest is the manifest of stage '" + manifest.stage() + "'"));
    }
    return Optional.of(manifest);
  }

  /**
   * The committed manifest of a stage that {@code neededBy} is about to read, after checking that
   * its folder holds exactly the files the manifest lists (a listing, no data read): a missing,
   * extra or resized file is refused here, before the reader's first job, naming the file, the
   * stage and the command that repairs it.
   */
  public StageManifest requireIntact(StageId stage, StageId neededBy) {
    StageManifest m = require(stage, neededBy.path());
    List<String> problems = fileProblems(stage, m, false);
    if (!problems.isEmpty()) {
      throw damaged(stage, problems, neededBy);
    }
    return m;
  }

  /** The committed manifest of a stage the caller depends on; a clear error if it is missing. */
  public StageManifest require(StageId stage, String neededBy) {
    return committed(stage).orElseThrow(() -> new IllegalStateException(
        neededBy + " needs the committed output of stage '" + stage + "' in " + root
            + ", which is missing. Run that stage first (semiweak status " + root + " lists what is committed)."));
  }

  /** The command that makes a damaged or stale stage committed again, with the options it was run with. */
  public String repairCommand(StageId stage) {
    return "semiweak rerun " + root + " " + stage.path();
  }

  private DamagedStageException damaged(StageId stage, List<String> problems) {
    return damaged(stage, problems, null);
  }

  private DamagedStageException damaged(StageId stage, List<String> problems, StageId neededBy) {
    StageStatus status = new StageStatus(stage.path(), StageStatus.State.DAMAGED, null, problems, repairCommand(stage));
    return new DamagedStageException((neededBy == null ? "" : neededBy + " cannot read its input: ")
        + "the committed output of stage '" + stage + "' in " + root + " is damaged: " + String.join("; ", problems)
        + ".\nRepair it with: " + repairCommand(stage) + " (or semiweak run CONFIG --from " + stage.kind().command()
        + ")", status);
  }

  private List<String> fileProblems(StageId stage, StageManifest m, boolean checksums) {
    if (m.files() == null) {
      return List.of(); // written before manifests listed their files: nothing to check against
    }
    try {
      return StageFiles.problems(fs, dataPath(m), m.files(), checksums);
    } catch (IOException e) {
      return List.of("its folder cannot be listed: " + e.getMessage());
    }
  }

  /**
   * The state of one stage: committed, stale (an input was replaced or removed since), damaged (with
   * the reasons) or leftover; empty when the stage has no folder. Never throws for a damaged stage.
   *
   * @param checksums also compare each file's checksum with the manifest's (reads every Parquet footer)
   */
  public Optional<StageStatus> status(StageId stage, boolean checksums) {
    StageManifest m;
    try {
      Optional<StageManifest> c = committed(stage);
      if (c.isEmpty()) {
        return fs.exists(stagePath(stage))
            ? Optional.of(new StageStatus(stage.path(), StageStatus.State.LEFTOVER, null,
                List.of("a folder without a manifest: a crash before its commit; never read"), null))
            : Optional.empty();
      }
      m = c.get();
    } catch (DamagedStageException e) {
      return Optional.of(e.status());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + stagePath(stage) + ": " + e.getMessage(), e);
    }
    List<String> problems = fileProblems(stage, m, checksums);
    if (!problems.isEmpty()) {
      return Optional.of(new StageStatus(stage.path(), StageStatus.State.DAMAGED, m, problems, repairCommand(stage)));
    }
    List<String> stale = staleInputs(m);
    if (!stale.isEmpty()) {
      return Optional.of(new StageStatus(stage.path(), StageStatus.State.STALE, m, stale,
          "semiweak run CONFIG, or " + repairCommand(stage)));
    }
    return Optional.of(new StageStatus(stage.path(), StageStatus.State.COMMITTED, m, List.of(), null));
  }

  /** Why a committed stage no longer matches its inputs: one line per input stage replaced or removed since. */
  public List<String> staleInputs(StageManifest m) {
    List<String> out = new ArrayList<>();
    for (StageManifest.Input in : m.inputs()) {
      if (in.commit() == null) {
        continue;
      }
      StageId upstream = RunLayout.parse(in.name());
      try {
        Optional<StageManifest> now = committed(upstream);
        if (now.isEmpty()) {
          out.add("its input '" + upstream + "' is no longer committed");
        } else if (!in.commit().equals(now.get().commit())) {
          out.add("its input '" + upstream + "' was replaced (" + now.get().finishedAt() + ") after it was built");
        }
      } catch (DamagedStageException e) {
        out.add("its input '" + upstream + "' is damaged");
      }
    }
    return out;
  }

  /** Every stage folder of the run (committed, stale, damaged or leftover), in path order. */
  public List<StageStatus> statuses(boolean checksums) {
    List<StageStatus> out = new ArrayList<>();
    try {
      if (!fs.exists(root)) {
        return out; // opened, not created yet: nothing committed
      }
      collectStages(root, out, 0, checksums);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list " + root + ": " + e.getMessage(), e);
    }
    out.sort((a, b) -> a.stage().compareTo(b.stage()));
    return out;
  }

  private void collectStages(Path dir, List<StageStatus> out, int depth, boolean checksums) throws IOException {
    if (depth > 4) {
      return;
    }
    for (FileStatus st : fs.listStatus(dir)) {
      String name = st.getPath().getName();
      if (!st.isDirectory() || name.startsWith("_") || name.startsWith(".")) {
        continue;
      }
      Optional<StageId> id = layout.relative(st.getPath().toUri().getPath()).flatMap(RunDir::stageIdOf);
      if (id.isPresent()) {
        status(id.get(), checksums).ifPresent(out::add);
      } else {
        collectStages(st.getPath(), out, depth + 1, checksums);
      }
    }
  }

  private static Optional<StageId> stageIdOf(String relativePath) {
    try {
      return Optional.of(RunLayout.parse(relativePath));
    } catch (IllegalArgumentException e) {
      return Optional.empty();
    }
  }

  /** The committed stage whose folder holds {@code file} (a path or URI), if any. */
  public Optional<StageManifest> committedStageOf(String file) {
    Optional<String> rel = layout.relative(fs.makeQualified(new Path(file)).toUri().getPath());
    if (rel.isEmpty()) {
      return Optional.empty();
    }
    return listCommitted().stream().filter(m -> rel.get().startsWith(m.stage() + "/")).findFirst();
  }

  /**
   * All stages with a readable manifest and intact files (committed or stale), in path order;
   * damaged ones are left out, each with a warning that says how to repair it.
   */
  public List<StageManifest> listCommitted() {
    List<StageManifest> out = new ArrayList<>();
    for (StageStatus st : statuses(false)) {
      if (st.usable()) {
        out.add(st.manifest());
      } else if (st.state() == StageStatus.State.DAMAGED) {
        LOG.warn("stage {} is damaged ({}); repair it with: {}", st.stage(), String.join("; ", st.problems()),
            st.repair());
      }
    }
    return out;
  }

  /**
   * Starts writing a stage: a fresh temporary folder that becomes the stage on commit (renamed into
   * place), or, when publishing by manifest, a fresh {@code <stage>/_data-<uuid>/} that its manifest
   * will name.
   */
  public StageWriter begin(StageId stage) {
    create();
    String unique = UUID.randomUUID().toString();
    Path tmp = publishByManifest ? layout.data(stage, RunLayout.DATA_PREFIX + unique) : layout.temp(stage, unique);
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
      metaFs.delete(layout.manifest(stage), false);
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

  /** Takes the run's lease with the default timeout; see {@link #lock(String, RunLock.Options)}. */
  public RunLock lock(String purpose) {
    return lock(purpose, RunLock.Options.defaults());
  }

  /**
   * Takes the run's lease (creating the run directory first if needed): refused with a
   * {@link RunLockedException} while another live process holds it; a lease whose holder stopped
   * renewing it is taken over ({@link RunLock}). Until it is closed, every commit of this run first
   * checks that this process still holds it.
   */
  public RunLock lock(String purpose, RunLock.Options options) {
    create();
    RunLock lock = RunLock.acquire(metaFs, root, layout.lockFile(), purpose, options);
    activeLock = lock;
    return lock;
  }

  /** Reads one of semiweak's small text files (manifest, plan, run file, lock), ignoring checksum side files. */
  public String readString(Path p) throws IOException {
    try (InputStream in = metaFs.open(p)) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  /** Writes a small file atomically: a temporary sibling, then rename. */
  public void writeAtomically(Path p, String content) {
    HadoopFiles.writeAtomically(metaFs, p, content);
  }

  /**
   * Puts a written stage in place. A committed output of the same stage is replaced, never deleted
   * first: it is moved aside to {@code _replaced/}, the new folder takes its place, the manifest is
   * written, and only then is the old folder deleted. Until the new manifest exists the old output
   * can be put back ({@link #recoverInterruptedCommits()}); a stage that fails before its commit
   * never touches the committed output.
   */
  void commit(StageWriter writer, StageManifest manifest) throws IOException {
    RunLock lock = activeLock;
    if (lock != null && !lock.released()) {
      lock.verifyHeld();
    }
    StageId id = writer.stage();
    if (publishByManifest) {
      publishByManifest(writer, manifest);
      return;
    }
    Path target = stagePath(id);
    Path aside = null;
    if (fs.exists(target)) {
      if (metaFs.exists(layout.manifest(id))) {
        aside = layout.replaced(id, UUID.randomUUID().toString());
        fs.mkdirs(layout.replacedRoot());
        if (!fs.rename(target, aside)) {
          throw new IOException("cannot move the committed output " + target + " aside to " + aside);
        }
        LOG.info("replacing the committed output of stage {} (kept at {} until the commit completes)", id, aside);
      } else {
        LOG.info("replacing uncommitted leftover of stage {} at {}", id, target);
        fs.delete(target, true);
      }
    }
    fs.mkdirs(target.getParent());
    if (!fs.rename(writer.tempDir(), target)) {
      throw new IOException("rename " + writer.tempDir() + " -> " + target + " returned false");
    }
    writeAtomically(layout.manifest(id), manifest.toJson());
    if (aside != null) {
      fs.delete(aside, true);
    }
  }

  /**
   * The commit without a rename: the files are already in {@code <stage>/_data-<uuid>/}; writing the
   * manifest that names it is the switch (one object, complete or absent); then everything else in
   * the stage folder (the previous commit's data, leftovers of attempts that died before their
   * commit) is deleted. Before the switch readers see the previous commit, after it the new one.
   */
  private void publishByManifest(StageWriter writer, StageManifest manifest) throws IOException {
    StageId id = writer.stage();
    String data = writer.tempDir().getName();
    if (!data.equals(manifest.data())) {
      throw new IllegalStateException("the manifest of " + id + " names data folder " + manifest.data()
          + ", not the one written: " + data);
    }
    writeAtomically(layout.manifest(id), manifest.toJson());
    for (FileStatus st : fs.listStatus(stagePath(id))) {
      String name = st.getPath().getName();
      if (!name.equals(RunLayout.MANIFEST) && !name.equals(data)) {
        fs.delete(st.getPath(), true);
      }
    }
  }

  /**
   * Finishes commits that a killed process left between moving the old output aside and writing the
   * new manifest: the old output goes back where it was (its replacement never committed), or is
   * deleted when the new manifest made it. Called with the lock held, before any stage runs.
   *
   * @return one line per stage put right, for the console
   */
  public List<String> recoverInterruptedCommits() {
    List<String> done = new ArrayList<>();
    Path replaced = layout.replacedRoot();
    try {
      if (!fs.exists(replaced)) {
        return done;
      }
      for (FileStatus st : fs.listStatus(replaced)) {
        Path aside = st.getPath();
        StageManifest old;
        try {
          old = StageManifest.fromJson(readString(new Path(aside, RunLayout.MANIFEST)));
        } catch (IOException | IllegalArgumentException e) {
          LOG.warn("{} holds no readable manifest ({}); left in place for a person to look at", aside, e.getMessage());
          continue;
        }
        StageId id = old.id();
        if (metaFs.exists(layout.manifest(id))) {
          fs.delete(aside, true);
          done.add("removed the previous output of " + id + ", replaced by a completed commit");
        } else {
          Path target = stagePath(id);
          if (fs.exists(target)) {
            fs.delete(target, true);
          }
          fs.mkdirs(target.getParent());
          if (!fs.rename(aside, target)) {
            throw new IOException("cannot move " + aside + " back to " + target);
          }
          done.add("restored the committed output of " + id + " (its replacement was interrupted before its commit)");
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot recover interrupted commits under " + replaced + ": " + e.getMessage(), e);
    }
    done.forEach(line -> LOG.warn("{}", line));
    return done;
  }

  @Override
  public String toString() {
    return root.toString();
  }
}
