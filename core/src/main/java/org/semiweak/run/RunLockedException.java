package org.semiweak.run;

import org.apache.hadoop.fs.Path;

/** Another process holds the run directory's lock. */
public final class RunLockedException extends IllegalStateException {
  private static final long serialVersionUID = 1L;

  public RunLockedException(Path root, String owner) {
    super("run directory " + root + " is in use by another semiweak process " + owner
        + ". Wait for it to finish. If that process is gone (crashed or killed), delete "
        + root + "/" + RunLayout.LOCK_FILE + " and start again.");
  }
}
