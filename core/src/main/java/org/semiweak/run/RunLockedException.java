package org.semiweak.run;

import org.apache.hadoop.fs.Path;

/** Another process holds the run directory's lease, or took it from this one (exit code 3). */
public final class RunLockedException extends IllegalStateException {
  private static final long serialVersionUID = 1L;

  public RunLockedException(Path root, String holder) {
    super("run directory " + root + " is in use by another semiweak process: " + holder
        + ". Wait for it to finish; a killed process's lease is taken over once its heartbeat is that old. If you"
        + " know that process is gone, run again with --break-lock (its lease is " + root + "/" + RunLayout.LOCK_FILE
        + ").");
  }

  public RunLockedException(String message) {
    super(message);
  }
}
