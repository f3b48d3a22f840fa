package org.semiweak.run;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.zip.CRC32;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.Path;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.hadoop.util.HadoopInputFile;

/**
 * Lists what a stage folder holds ({@link StageFile}s) at commit, and checks a committed folder
 * against that list: a missing, extra or resized file is named, so that a reader refuses a damaged
 * stage before its first job instead of reading part of it.
 */
public final class StageFiles {
  /** Non-Parquet files up to this size get a checksum of their whole content. */
  static final long WHOLE_FILE_CHECKSUM_LIMIT = 64L << 20;
  private static final byte[] PARQUET_MAGIC = {'P', 'A', 'R', '1'};

  private StageFiles() {}

  /**
   * The files under {@code dir} (recursively), sorted by path, with their sizes, Parquet row counts
   * and checksums. Hidden files (Hadoop's {@code .crc} side files) and the manifest are not listed.
   */
  public static List<StageFile> list(FileSystem fs, Path dir) throws IOException {
    List<StageFile> out = new ArrayList<>();
    for (Map.Entry<String, FileStatus> e : listed(fs, dir).entrySet()) {
      Path p = e.getValue().getPath();
      long bytes = e.getValue().getLen();
      if (isParquet(e.getKey())) {
        out.add(new StageFile(e.getKey(), bytes, parquetRows(fs, p), footerChecksum(fs, p, bytes)));
      } else {
        out.add(new StageFile(e.getKey(), bytes, null,
            bytes <= WHOLE_FILE_CHECKSUM_LIMIT ? wholeChecksum(fs, p) : null));
      }
    }
    return out;
  }

  /**
   * What differs between the folder and the list: one line per missing, extra or resized file
   * (and, when {@code checksums}, per file whose checksum differs); empty when the folder holds
   * exactly what was committed.
   */
  public static List<String> problems(FileSystem fs, Path dir, List<StageFile> expected, boolean checksums)
      throws IOException {
    Map<String, FileStatus> actual = listed(fs, dir);
    List<String> problems = new ArrayList<>();
    for (StageFile f : expected) {
      FileStatus st = actual.remove(f.path());
      if (st == null) {
        problems.add(String.format(Locale.ROOT, "file %s (%,d bytes) is missing", f.path(), f.bytes()));
      } else if (st.getLen() != f.bytes()) {
        problems.add(String.format(Locale.ROOT, "file %s has %,d bytes, committed with %,d", f.path(), st.getLen(),
            f.bytes()));
      } else if (checksums && f.checksum() != null) {
        String now = isParquet(f.path()) ? footerChecksum(fs, st.getPath(), st.getLen()) : wholeChecksum(fs, st.getPath());
        if (!f.checksum().equals(now)) {
          problems.add("file " + f.path() + " changed since its commit (checksum " + now + ", committed " + f.checksum() + ")");
        }
      }
    }
    for (String extra : actual.keySet()) {
      problems.add("file " + extra + " was not part of the commit");
    }
    return problems;
  }

  /** Sum of the Parquet row counts of the listed files under {@code folder} (e.g. {@code labeled}). */
  public static long rows(List<StageFile> files, String folder) {
    String prefix = folder.isEmpty() ? "" : folder + "/";
    return files.stream().filter(f -> f.rows() != null && f.path().startsWith(prefix)).mapToLong(StageFile::rows).sum();
  }

  /** Hadoop's FileOutputCommitter's pending folder ({@code FileOutputCommitter.PENDING_DIR_NAME}). */
  static final String COMMITTER_SCRATCH = "_temporary";

  private static Map<String, FileStatus> listed(FileSystem fs, Path dir) throws IOException {
    Map<String, FileStatus> out = new TreeMap<>();
    collect(fs, dir, "", out);
    return out;
  }

  // A plain walk with listStatus: no block locations needed, one listing per folder.
  private static void collect(FileSystem fs, Path dir, String prefix, Map<String, FileStatus> out) throws IOException {
    for (FileStatus st : fs.listStatus(dir)) {
      String rel = prefix + st.getPath().getName();
      if (!isListed(rel)) {
        continue;
      }
      if (st.isDirectory()) {
        try {
          collect(fs, st.getPath(), rel + "/", out);
        } catch (FileNotFoundException gone) {
          // An object store lists a folder from the keys under it: one whose last key was deleted
          // between the parent's listing and its own holds no file. Anything else is an error.
          if (fs.exists(st.getPath())) {
            throw gone;
          }
        }
      } else {
        out.put(rel, st);
      }
    }
  }

  /**
   * Hidden files ({@code .crc} side files, temporary names), Hadoop output committers' scratch
   * folders ({@code _temporary}, left on an object store as a prefix with no object after a job
   * commit deleted its files) and the manifest itself are not part of the list.
   */
  private static boolean isListed(String relativePath) {
    for (String part : relativePath.split("/")) {
      if (part.startsWith(".") || part.equals(COMMITTER_SCRATCH)) {
        return false;
      }
    }
    return !relativePath.equals(RunLayout.MANIFEST);
  }

  private static boolean isParquet(String path) {
    return path.endsWith(".parquet");
  }

  private static long parquetRows(FileSystem fs, Path p) throws IOException {
    try (ParquetFileReader r = ParquetFileReader.open(HadoopInputFile.fromPath(p, fs.getConf()))) {
      return r.getRecordCount();
    } catch (RuntimeException e) {
      throw new IOException("cannot read the Parquet footer of " + p + ": " + e.getMessage(), e);
    }
  }

  /** CRC-32 of the footer: its length and magic at the end, then the footer bytes before them. */
  private static String footerChecksum(FileSystem fs, Path p, long length) throws IOException {
    if (length < 12) {
      return "size:" + length;
    }
    try (FSDataInputStream in = fs.open(p)) {
      byte[] tail = new byte[8];
      in.readFully(length - 8, tail);
      int footerLength = (tail[0] & 0xff) | (tail[1] & 0xff) << 8 | (tail[2] & 0xff) << 16 | (tail[3] & 0xff) << 24;
      boolean magic = tail[4] == PARQUET_MAGIC[0] && tail[5] == PARQUET_MAGIC[1] && tail[6] == PARQUET_MAGIC[2]
          && tail[7] == PARQUET_MAGIC[3];
      if (!magic || footerLength < 0 || footerLength > length - 12) {
        return "not-parquet";
      }
      byte[] footer = new byte[footerLength];
      in.readFully(length - 8 - footerLength, footer);
      CRC32 crc = new CRC32();
      crc.update(footer);
      crc.update(tail);
      return String.format(Locale.ROOT, "crc32:%08x", crc.getValue());
    }
  }

  private static String wholeChecksum(FileSystem fs, Path p) throws IOException {
    CRC32 crc = new CRC32();
    byte[] buf = new byte[1 << 16];
    try (InputStream in = fs.open(p)) {
      for (int n; (n = in.read(buf)) > 0; ) {
        crc.update(buf, 0, n);
      }
    }
    return String.format(Locale.ROOT, "crc32:%08x", crc.getValue());
  }
}
