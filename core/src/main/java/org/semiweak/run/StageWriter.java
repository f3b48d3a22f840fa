package org.semiweak.run;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.apache.hadoop.fs.Path;
import org.semiweak.util.Json;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The temporary output of one stage until it is committed. The stage writes everything under
 * {@link #tempDir()}; the pipeline runner then calls {@link #commit} once (the one commit path of
 * semiweak), or closes the writer, which deletes the temporary output.
 */
public final class StageWriter implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(StageWriter.class);

  private final RunDir run;
  private final StageId stage;
  private final Path tempDir;
  private final Instant startedAt = Instant.now();
  private boolean done;

  StageWriter(RunDir run, StageId stage, Path tempDir) {
    this.run = run;
    this.stage = stage;
    this.tempDir = tempDir;
  }

  public StageId stage() {
    return stage;
  }

  /** Where the stage writes its output before the commit. */
  public Path tempDir() {
    return tempDir;
  }

  /** A path under the temporary folder. */
  public Path temp(String child) {
    return new Path(tempDir, child);
  }

  /**
   * Moves the output into place, writes the manifest (plan + output + timing) last, deletes the
   * stage's resumable work, and returns the manifest.
   */
  public StageManifest commit(StagePlan plan, StageOutput output) {
    if (done) {
      throw new IllegalStateException("stage " + stage + " was already committed or aborted");
    }
    if (!stage.equals(plan.id())) {
      throw new IllegalArgumentException("the plan is for stage " + plan.id() + ", not " + stage);
    }
    Class<?> expected = stage.kind().resultType();
    if (!expected.isInstance(output.result())) {
      throw new IllegalArgumentException("a " + stage.kind().command() + " stage records a " + expected.getSimpleName()
          + ", not " + (output.result() == null ? "nothing" : output.result().getClass().getSimpleName()));
    }
    try {
      // The plan beside the manifest: a rerun can rebuild the stage from it if the manifest is damaged.
      run.writeAtomically(temp(RunLayout.PLAN_FILE), Json.write(new PlanRecord(stage.path(), stage.kind().command(),
          plan.fingerprint(), plan.options(), plan.inputs())));
      List<StageFile> files = StageFiles.list(run.fs(), tempDir);
      Instant end = Instant.now();
      StageManifest manifest = new StageManifest(RunDir.FORMAT_VERSION, stage.path(), stage.kind().command(),
          Versions.semiweak(), plan.fingerprint(), plan.options(), inputsWithCommits(plan), output.counts(),
          Json.MAPPER.valueToTree(output.result()), startedAt.toString(), end.toString(),
          Duration.between(startedAt, end).toMillis() / 1000.0, UUID.randomUUID().toString(), files,
          run.publishesByManifest() ? tempDir.getName() : null);
      run.commit(this, manifest);
      done = true;
      LOG.info("committed stage {} at {}", stage, run.stagePath(stage));
      run.deleteWork(stage);
      return manifest;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot commit stage " + stage + ": " + e.getMessage(), e);
    }
  }

  /**
   * The plan's inputs, each stage of this run with the commit it read: a later replacement of that
   * stage makes this one stale instead of silently built on data that changed.
   */
  private List<StageManifest.Input> inputsWithCommits(StagePlan plan) {
    List<StageManifest.Input> out = new ArrayList<>();
    for (StageManifest.Input in : plan.inputs()) {
      Optional<StageId> upstream = stageOf(in);
      out.add(upstream.flatMap(run::committed).map(m -> in.withCommit(m.commit())).orElse(in));
    }
    return out;
  }

  /** The stage of this run an input is (named by its stage path, in its folder), or empty for an external file. */
  public static Optional<StageId> stageOf(StageManifest.Input in) {
    try {
      StageId id = RunLayout.parse(in.name());
      return in.path() != null && in.path().endsWith("/" + id.path()) ? Optional.of(id) : Optional.empty();
    } catch (IllegalArgumentException e) {
      return Optional.empty();
    }
  }

  /** What {@code _PLAN.json} holds. */
  record PlanRecord(String stage, String kind, String fingerprint, Map<String, Object> options,
      List<StageManifest.Input> inputs) {}

  /** Deletes the temporary output. Safe to call after a failed write. */
  public void abort() {
    if (done) {
      return;
    }
    done = true;
    try {
      run.fs().delete(tempDir, true);
    } catch (IOException e) {
      LOG.warn("could not delete temporary output {}: {}", tempDir, e.getMessage());
    }
  }

  /** Aborts unless committed, so {@code try (StageWriter w = run.begin(..))} never leaks temp folders. */
  @Override
  public void close() {
    abort();
  }
}
