package org.semiweak.prep.source;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.function.Predicate;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocatedFileStatus;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RemoteIterator;
import org.semiweak.config.ConfigException;
import org.semiweak.util.Fingerprint;

/** Listing, fingerprinting and reading input files through the Hadoop FileSystem. */
public final class InputFiles {
  private InputFiles() {}

  /** A file under an input folder. */
  public record Entry(String relativePath, long size, long modificationTime) {}

  /** The input as a qualified folder; a clear error when it is missing or not a folder. */
  public static Path requireFolder(FileSystem fs, Path input, String what) {
    try {
      if (!fs.exists(input)) {
        throw new ConfigException("prep.input: " + what + " folder " + input + " does not exist; check the 'input' option");
      }
      if (!fs.getFileStatus(input).isDirectory()) {
        throw new ConfigException("prep.input: " + input + " is a file, expected a folder holding " + what);
      }
      return fs.makeQualified(input);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + input + ": " + e.getMessage(), e);
    }
  }

  /**
   * Files under {@code root}, recursively, sorted by relative path; names starting with '.' or '_'
   * (hidden files, {@code _SUCCESS}, checksums) are skipped at any depth.
   */
  public static List<Entry> list(FileSystem fs, Path root, Predicate<String> keep) {
    List<Entry> out = new ArrayList<>();
    String prefix = fs.makeQualified(root).toUri().getPath();
    if (!prefix.endsWith("/")) {
      prefix += "/";
    }
    try {
      RemoteIterator<LocatedFileStatus> it = fs.listFiles(root, true);
      while (it.hasNext()) {
        LocatedFileStatus st = it.next();
        String path = st.getPath().toUri().getPath();
        if (!path.startsWith(prefix)) {
          continue;
        }
        String rel = path.substring(prefix.length());
        if (isHidden(rel) || !keep.test(rel)) {
          continue;
        }
        out.add(new Entry(rel, st.getLen(), st.getModificationTime()));
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list " + root + ": " + e.getMessage(), e);
    }
    out.sort(Comparator.comparing(Entry::relativePath));
    return out;
  }

  static boolean isHidden(String rel) {
    for (String part : rel.split("/")) {
      if (part.startsWith(".") || part.startsWith("_")) {
        return true;
      }
    }
    return false;
  }

  /** Fingerprint of a listing: relative paths, sizes and modification times. */
  public static String fingerprint(List<Entry> entries) {
    MessageDigest md = Fingerprint.sha256();
    for (Entry e : entries) {
      md.update((e.relativePath() + "\t" + e.size() + "\t" + e.modificationTime() + "\n").getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }
    return HexFormat.of().formatHex(md.digest());
  }

  /** SHA-256 of a file's bytes, streamed. */
  public static String contentHash(FileSystem fs, Path p) {
    MessageDigest md = Fingerprint.sha256();
    byte[] buf = new byte[1 << 16];
    try (InputStream in = fs.open(p)) {
      int n;
      while ((n = in.read(buf)) > 0) {
        md.update(buf, 0, n);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + p + ": " + e.getMessage(), e);
    }
    return HexFormat.of().formatHex(md.digest());
  }

  /** Opens a file, transparently decompressing gzip (recognized by its magic bytes, not its name). */
  public static InputStream openMaybeGzip(FileSystem fs, Path p) throws IOException {
    BufferedInputStream in = new BufferedInputStream(fs.open(p), 1 << 16);
    in.mark(2);
    int b0 = in.read();
    int b1 = in.read();
    in.reset();
    if (b0 == 0x1f && b1 == 0x8b) {
      return new BufferedInputStream(new java.util.zip.GZIPInputStream(in, 1 << 16), 1 << 16);
    }
    return in;
  }

  /** The lower-case extension after the last dot of the file name, or "". */
  public static String extension(String name) {
    int slash = name.lastIndexOf('/');
    int dot = name.lastIndexOf('.');
    return dot > slash ? name.substring(dot + 1).toLowerCase(Locale.ROOT) : "";
  }

  /**
   * Whether a file name looks like data that no image decoder reads directly: an archive (tar, zip,
   * 7z, rar, compressed tar), an IDX file, Parquet or TFRecord. A source that does not read such a
   * file quarantines it as {@code not-read} rather than passing over it.
   */
  public static boolean looksLikeArchiveOrDataset(String name) {
    String lower = name.toLowerCase(Locale.ROOT);
    if (lower.endsWith("-ubyte") || lower.endsWith("-ubyte.gz") || lower.endsWith(".tar.gz")
        || lower.endsWith(".tar.zst") || lower.endsWith(".tar.bz2") || lower.endsWith(".tar.xz")) {
      return true;
    }
    return switch (extension(name)) {
      case "tar", "tgz", "zip", "7z", "rar", "parquet", "tfrecord", "tfrecords", "arrow" -> true;
      default -> false;
    };
  }

  /** Whether a file name looks like an image this stage decodes. */
  public static boolean hasImageExtension(String name) {
    return switch (extension(name)) {
      case "png", "jpg", "jpeg", "gif", "bmp", "webp", "tif", "tiff" -> true;
      default -> false;
    };
  }
}
