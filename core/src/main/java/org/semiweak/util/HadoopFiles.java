package org.semiweak.util;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.util.UUID;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/** Small whole-file writes on any Hadoop file system. */
public final class HadoopFiles {
  private HadoopFiles() {}

  /**
   * Writes {@code bytes} to {@code target} via a temporary sibling and a rename, so that a reader
   * sees the old file or the new one, never a half-written one.
   */
  public static void writeAtomically(FileSystem fs, Path target, byte[] bytes) {
    Path tmp = new Path(target.getParent(), "." + target.getName() + ".tmp-" + UUID.randomUUID());
    try {
      try (OutputStream out = fs.create(tmp, false)) {
        out.write(bytes);
      }
      if (fs.exists(target) && !fs.delete(target, false)) {
        throw new IOException("cannot replace " + target);
      }
      if (!fs.rename(tmp, target)) {
        fs.delete(tmp, false);
        throw new IOException("rename " + tmp + " -> " + target + " returned false");
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + target + ": " + e.getMessage(), e);
    }
  }

  /** {@link #writeAtomically(FileSystem, Path, byte[])} of UTF-8 text. */
  public static void writeAtomically(FileSystem fs, Path target, String text) {
    writeAtomically(fs, target, text.getBytes(java.nio.charset.StandardCharsets.UTF_8));
  }
}
