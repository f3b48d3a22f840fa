package org.semiweak.run;

import java.io.IOException;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.slf4j.LoggerFactory;

/** The exclusive lock of a run directory, held by one {@code semiweak} process at a time. */
public final class RunLock implements AutoCloseable {
  private final FileSystem fs;
  private final Path path;
  private boolean released;

  RunLock(FileSystem fs, Path path) {
    this.fs = fs;
    this.path = path;
  }

  @Override
  public synchronized void close() {
    if (released) {
      return;
    }
    released = true;
    try {
      fs.delete(path, false);
    } catch (IOException e) {
      LoggerFactory.getLogger(RunLock.class).warn("could not release run lock {}: {}", path, e.getMessage());
    }
  }
}
