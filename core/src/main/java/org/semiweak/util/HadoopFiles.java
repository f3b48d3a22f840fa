package org.semiweak.util;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Set;
import java.util.UUID;
import org.apache.hadoop.fs.FileAlreadyExistsException;
import org.apache.hadoop.fs.FileContext;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocalFileSystem;
import org.apache.hadoop.fs.Options;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RawLocalFileSystem;

/**
 * Small whole-file writes on any Hadoop file system, each with the strongest guarantee the store
 * offers: a reader never sees a half-written file, and a create-if-absent has exactly one winner
 * where the store can say so (local files, HDFS, S3 with conditional writes).
 */
public final class HadoopFiles {
  private HadoopFiles() {}

  /** Schemes of object stores: no atomic rename, but an upload becomes visible whole, at its close. */
  private static final Set<String> OBJECT_STORES =
      Set.of("s3a", "s3", "s3n", "gs", "abfs", "abfss", "wasb", "wasbs", "oss", "cos", "cosn", "obs");

  /** Hadoop's createFile() option for a create that fails if the file exists (S3's If-None-Match: *). */
  public static final String CONDITIONAL_CREATE = "fs.option.create.conditional.overwrite";

  /** Whether {@code fs} is an object store (S3, GCS, Azure, ...), where renames copy. */
  public static boolean isObjectStore(FileSystem fs) {
    return OBJECT_STORES.contains(fs.getScheme());
  }

  /**
   * Writes {@code bytes} to {@code target}, replacing it, so that a reader sees the old file or the
   * new one, never a half-written one and never none: a rename over it locally and on HDFS, a single
   * upload (visible only when complete) on an object store.
   */
  public static void writeAtomically(FileSystem fs, Path target, byte[] bytes) {
    try {
      // Only the raw local file system: through the checksummed one the file's .crc must follow it.
      if (fs instanceof RawLocalFileSystem local) {
        Path tmp = sibling(target, ".tmp-");
        write(fs, tmp, bytes);
        Files.move(local.pathToFile(tmp).toPath(), local.pathToFile(target).toPath(), StandardCopyOption.ATOMIC_MOVE,
            StandardCopyOption.REPLACE_EXISTING);
        return;
      }
      if (isObjectStore(fs)) {
        // A rename would be a copy and a delete, with a moment without the file in between.
        try (OutputStream out = fs.create(target, true)) {
          out.write(bytes);
        }
        return;
      }
      Path tmp = sibling(target, ".tmp-");
      write(fs, tmp, bytes);
      try {
        // HDFS renames over the target atomically in its NameNode; the checksummed local one moves the .crc too.
        fileContext(fs).rename(tmp, target, Options.Rename.OVERWRITE);
      } catch (org.apache.hadoop.fs.UnsupportedFileSystemException | UnsupportedOperationException e) {
        if (fs.exists(target) && !fs.delete(target, false)) {
          throw new IOException("cannot replace " + target);
        }
        if (!fs.rename(tmp, target)) {
          fs.delete(tmp, false);
          throw new IOException("rename " + tmp + " -> " + target + " returned false");
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + target + ": " + e.getMessage(), e);
    }
  }

  /**
   * One FileContext per FileSystem instance: making one creates a client of the store (for HDFS a
   * DFSClient, with its threads and connections, never closed), so one per write leaked one per
   * checkpoint and manifest. FileSystem instances are themselves cached by Hadoop, so this map stays
   * small, and its weak keys let a closed FileSystem's context go.
   */
  private static final java.util.Map<FileSystem, FileContext> FILE_CONTEXTS = new java.util.WeakHashMap<>();

  private static FileContext fileContext(FileSystem fs) throws org.apache.hadoop.fs.UnsupportedFileSystemException {
    synchronized (FILE_CONTEXTS) {
      FileContext fc = FILE_CONTEXTS.get(fs);
      if (fc == null) {
        fc = FileContext.getFileContext(fs.getUri(), fs.getConf());
        FILE_CONTEXTS.put(fs, fc);
      }
      return fc;
    }
  }

  /** {@link #writeAtomically(FileSystem, Path, byte[])} of UTF-8 text. */
  public static void writeAtomically(FileSystem fs, Path target, String text) {
    writeAtomically(fs, target, text.getBytes(java.nio.charset.StandardCharsets.UTF_8));
  }

  /**
   * Creates {@code target} with {@code bytes} unless it exists: true if this call created it, false if
   * it existed. Readers never see it half-written. Of several processes creating it at once exactly
   * one gets true on a local file system (a hard link, which fails if the name exists), on HDFS (a
   * rename, which its NameNode refuses if the name exists) and on an object store with conditional
   * writes (S3A since Hadoop 3.5: {@code If-None-Match: *}). Elsewhere the check and the create are
   * two steps: two processes could both get true.
   */
  public static boolean createIfAbsent(FileSystem fs, Path target, byte[] bytes) throws IOException {
    RawLocalFileSystem local = rawLocal(fs);
    if (local != null) {
      return createLocalIfAbsent(local, target, bytes);
    }
    if (supportsConditionalCreate(fs, target)) {
      // S3A checks for the file, then uploads; the upload's If-None-Match makes the store refuse it
      // (412 at close) when another process created the file in between.
      try (OutputStream out = (OutputStream) fs.createFile(target).overwrite(false).must(CONDITIONAL_CREATE, true)
          .build()) {
        out.write(bytes);
        return true;
      } catch (FileAlreadyExistsException e) {
        return false;
      } catch (IOException e) {
        if (preconditionFailed(e)) {
          return false;
        }
        throw e;
      }
    }
    if (fs.exists(target)) {
      return false;
    }
    Path tmp = sibling(target, ".new-");
    write(fs, tmp, bytes);
    if (fs.rename(tmp, target)) {
      return true;
    }
    // The source exists and its folder too (both just written): the name was taken. It may be gone
    // again by now (a lock's takeover marker lives for milliseconds), so it is not looked up.
    fs.delete(tmp, false);
    return false;
  }

  private static boolean createLocalIfAbsent(RawLocalFileSystem local, Path target, byte[] bytes) throws IOException {
    Path tmp = sibling(target, ".new-");
    write(local, tmp, bytes);
    java.nio.file.Path file = local.pathToFile(target).toPath();
    try {
      Files.createLink(file, local.pathToFile(tmp).toPath());
      return true;
    } catch (java.nio.file.FileAlreadyExistsException e) {
      return false;
    } catch (UnsupportedOperationException | FileSystemException e) {
      // No hard links here (some mounted file systems): O_EXCL, where a reader may see it half-written.
      try {
        Files.write(file, bytes, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        return true;
      } catch (java.nio.file.FileAlreadyExistsException exists) {
        return false;
      }
    } finally {
      local.delete(tmp, false);
    }
  }

  /** A new hidden name beside {@code target}, for a file written whole before it takes its name. */
  private static Path sibling(Path target, String kind) {
    return new Path(target.getParent(), "." + target.getName() + kind + UUID.randomUUID());
  }

  /** Writes a new file through {@code fs} (its create makes the missing folders). */
  private static void write(FileSystem fs, Path p, byte[] bytes) throws IOException {
    try (OutputStream out = fs.create(p, false)) {
      out.write(bytes);
    }
  }

  /** Whether the store makes a create exclusive on the server (S3A 3.5+ against a store with conditional writes). */
  public static boolean supportsConditionalCreate(FileSystem fs, Path p) {
    if (rawLocal(fs) != null) {
      return false;
    }
    try {
      return fs.hasPathCapability(p, CONDITIONAL_CREATE);
    } catch (IOException e) {
      return false;
    }
  }

  /** A 412 from the store: the condition of a conditional write did not hold. */
  public static boolean preconditionFailed(IOException e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      String m = t.getClass().getSimpleName() + ": " + t.getMessage();
      if (m.contains("RemoteFileChangedException") || m.contains("Status Code: 412")
          || m.contains("PreconditionFailed") || m.contains("preconditions you specified did not hold")) {
        return true;
      }
    }
    return false;
  }

  /** The raw local file system under {@code fs}, or null when it is not the local file system. */
  private static RawLocalFileSystem rawLocal(FileSystem fs) {
    if (fs instanceof RawLocalFileSystem raw) {
      return raw;
    }
    if (fs instanceof LocalFileSystem checksummed && checksummed.getRawFileSystem() instanceof RawLocalFileSystem raw) {
      return raw;
    }
    return null;
  }
}
