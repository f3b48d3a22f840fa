package org.semiweak.run;

import java.io.IOException;
import java.io.UncheckedIOException;
import org.apache.hadoop.fs.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The temporary output of one stage until it is committed. Write everything under
 * {@link #tempDir()}, then call {@link #commit} once; on failure call {@link #abort}.
 */
public final class StageWriter implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(StageWriter.class);

  private final RunDir run;
  private final String stage;
  private final Path tempDir;
  private boolean done;

  StageWriter(RunDir run, String stage, Path tempDir) {
    this.run = run;
    this.stage = stage;
    this.tempDir = tempDir;
  }

  public String stage() {
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

  /** Moves the output into place and writes the manifest last. */
  public void commit(StageManifest manifest) {
    if (done) {
      throw new IllegalStateException("stage " + stage + " was already committed or aborted");
    }
    if (!stage.equals(manifest.stage())) {
      throw new IllegalArgumentException("manifest is for stage " + manifest.stage() + ", not " + stage);
    }
    try {
      run.commit(this, manifest);
      done = true;
      LOG.info("committed stage {} at {}", stage, run.stagePath(stage));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot commit stage " + stage + ": " + e.getMessage(), e);
    }
  }

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
