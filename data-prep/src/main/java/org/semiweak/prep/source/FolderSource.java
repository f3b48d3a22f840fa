package org.semiweak.prep.source;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.semiweak.prep.SourceRecords;
import org.semiweak.prep.PrepSettings;
import org.semiweak.prep.Reason;
import org.semiweak.prep.image.CanonicalImage;
import org.semiweak.prep.image.ImageCodec;
import org.semiweak.prep.image.ImageRejectedException;

/**
 * A folder of images (searched recursively) with a metadata file ({@link Metadata}) giving each
 * image's tags, label and split. The image id is the path relative to the folder.
 *
 * <p>Metadata rows and the folder listing are joined on Spark: a row whose file is not in the folder
 * is quarantined as {@code missing-file}, a row with an absolute or escaping path as
 * {@code unsafe-path}. An image file (by extension) without a metadata row is quarantined as
 * {@code no-metadata}, or, with {@code unlisted-files: unlabeled}, becomes an unlabeled image
 * without tags. A file without a row that looks like data this source does not read (a tar or zip
 * archive, IDX, Parquet: {@link InputFiles#looksLikeArchiveOrDataset}) is quarantined as
 * {@code not-read}; other files without a row (text files, the metadata itself) are no records:
 * they are listed and counted as skipped files. Without a metadata file every image is unlisted.
 * Hidden files and names starting with '_' are never read.
 */
public final class FolderSource implements ImageSource {
  private static final StructType META_SCHEMA = new StructType()
      .add("meta_line", DataTypes.LongType, false)
      .add("path", DataTypes.StringType, true)
      .add("tags", DataTypes.createArrayType(DataTypes.StringType, false), true)
      .add("label", DataTypes.IntegerType, true)
      .add("split", DataTypes.StringType, true)
      .add("meta_reason", DataTypes.StringType, true)
      .add("meta_detail", DataTypes.StringType, true);

  private static final StructType FILE_SCHEMA = new StructType()
      .add("file_path", DataTypes.StringType, false)
      .add("file_size", DataTypes.LongType, false);

  private final FileSystem fs;
  private final Path input;
  private final Path metadataPath;
  private final SplitRule splitRule;
  private final boolean unlistedAsUnlabeled;
  private Path root;
  private Metadata metadata;
  private List<InputFiles.Entry> files;
  private List<InputFingerprint> fingerprints;

  /**
   * @param metadataPath the metadata file, or null when there is none
   * @param splitRule how a metadata row gets its split
   * @param unlistedAsUnlabeled image files without a metadata row become unlabeled images without
   *     tags (true) or are quarantined as {@code no-metadata} (false)
   */
  public FolderSource(FileSystem fs, Path input, Path metadataPath, SplitRule splitRule, boolean unlistedAsUnlabeled) {
    this.fs = fs;
    this.input = input;
    this.metadataPath = metadataPath;
    this.splitRule = splitRule;
    this.unlistedAsUnlabeled = unlistedAsUnlabeled;
  }

  /** The parsed metadata header (after {@link #inspect()}), or null without a metadata file. */
  public Metadata metadata() {
    inspect();
    return metadata;
  }

  @Override
  public List<InputFingerprint> inspect() {
    if (fingerprints != null) {
      return fingerprints;
    }
    root = InputFiles.requireFolder(fs, input, "images");
    files = InputFiles.list(fs, root, rel -> true);
    List<InputFingerprint> out = new ArrayList<>();
    out.add(new InputFingerprint("input", root.toString(), InputFiles.fingerprint(files)));
    if (metadataPath != null) {
      metadata = Metadata.open(fs, metadataPath, splitRule);
      Path q = fs.makeQualified(metadataPath);
      out.add(new InputFingerprint("metadata", q.toString(), InputFiles.contentHash(fs, q)));
    }
    fingerprints = List.copyOf(out);
    return fingerprints;
  }

  @Override
  public long expectedRecords() {
    return -1;
  }

  @Override
  public long expectedBytes() {
    inspect();
    return files.stream().filter(e -> InputFiles.hasImageExtension(e.relativePath())).mapToLong(InputFiles.Entry::size)
        .sum();
  }

  @Override
  public JavaRDD<Row> candidates(SparkSession spark, PrepSettings settings, int partitions, ReadCounters counters) {
    inspect();
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    List<Row> fileRows = new ArrayList<>(files.size());
    for (InputFiles.Entry e : files) {
      fileRows.add(RowFactory.create(e.relativePath(), e.size()));
    }
    Dataset<Row> fileDf = spark.createDataFrame(fileRows, FILE_SCHEMA);
    Dataset<Row> metaDf;
    if (metadata != null) {
      Metadata md = metadata;
      JavaRDD<Row> metaRows = jsc.textFile(fs.makeQualified(metadataPath).toString())
          .zipWithIndex()
          .flatMap(t -> {
            long lineNo = t._2() + 1;
            if (md.hasHeader() && lineNo == 1) {
              return java.util.Collections.emptyIterator();
            }
            Metadata.Row r = md.parse(t._1(), settings.vocabulary());
            if (r == null) {
              return java.util.Collections.emptyIterator();
            }
            return List.of(RowFactory.create(lineNo, r.path(), r.tags() == null ? null : r.tags().toArray(new String[0]),
                r.label(), r.split(), r.reason() == null ? null : r.reason().code(), r.detail())).iterator();
          });
      metaDf = spark.createDataFrame(metaRows, META_SCHEMA);
    } else {
      metaDf = spark.createDataFrame(List.of(), META_SCHEMA);
    }
    Dataset<Row> joined = metaDf.join(fileDf, metaDf.col("path").equalTo(fileDf.col("file_path")), "full_outer");
    int tasks = partitions > 0 ? partitions : Math.max(2 * jsc.defaultParallelism(), (files.size() + 4_999) / 5_000);
    String root = this.root.toString();
    String metaName = metadataPath == null ? "" : metadataPath.getName();
    boolean unlisted = unlistedAsUnlabeled;
    return joined.javaRDD()
        .repartition(tasks)
        .mapPartitions(rows -> new FileReader(rows, root, metaName, settings, unlisted, counters));
  }

  /** Turns joined (metadata row, file) pairs into candidate rows, reading and decoding each file. */
  static final class FileReader implements Iterator<Row> {
    private final Iterator<Row> rows;
    private final Path root;
    private final String metaName;
    private final PrepSettings settings;
    private final boolean unlistedAsUnlabeled;
    private final ReadCounters counters;
    private final ImageCodec codec;
    private final FileSystem fs;
    private Row pending;
    private long pendingBytes;

    FileReader(Iterator<Row> rows, String root, String metaName, PrepSettings settings, boolean unlistedAsUnlabeled,
        ReadCounters counters) throws IOException {
      this.rows = rows;
      this.root = new Path(root);
      this.metaName = metaName;
      this.settings = settings;
      this.unlistedAsUnlabeled = unlistedAsUnlabeled;
      this.counters = counters;
      this.codec = settings.newCodec();
      this.fs = this.root.getFileSystem(settings.conf().get());
    }

    @Override
    public boolean hasNext() {
      while (pending == null && rows.hasNext()) {
        pending = convert(rows.next());
      }
      return pending != null;
    }

    @Override
    public Row next() {
      if (!hasNext()) {
        throw new java.util.NoSuchElementException();
      }
      Row r = pending;
      pending = null;
      counters.read(pendingBytes);
      pendingBytes = 0;
      return r;
    }

    private Row convert(Row j) {
      boolean hasMeta = !j.isNullAt(j.fieldIndex("meta_line"));
      String filePath = j.getAs("file_path");
      if (!hasMeta) {
        String key = "file#" + filePath;
        if (!InputFiles.hasImageExtension(filePath)) {
          if (InputFiles.looksLikeArchiveOrDataset(filePath)) {
            return SourceRecords.rejected(key, Reason.NOT_READ, "looks like data (an archive or data set file) but a "
                + "folder input reads image files only; give it its own input with the source that reads it "
                + "(webdataset for .tar shards), or move it out of the folder", null, filePath, "whole file");
          }
          return SourceRecords.skipped(key, filePath, metaName.equals(filePath) ? "the metadata file"
              : "no metadata row and not an image file");
        }
        if (!unlistedAsUnlabeled) {
          return SourceRecords.rejected(key, Reason.NO_METADATA, "image file has no row in the metadata"
              + (metaName.isEmpty() ? " (no metadata file given)" : " " + metaName)
              + "; add one, or set unlisted-files: unlabeled", filePath, filePath, "no metadata row");
        }
        return decode(key, filePath, j.getLong(j.fieldIndex("file_size")), List.of(), null, SourceRecords.UNLABELED,
            "no metadata row");
      }
      long line = j.getLong(j.fieldIndex("meta_line"));
      String key = "meta#" + String.format("%012d", line);
      String entry = metaName + " line " + line;
      String path = j.getAs("path");
      String reason = j.getAs("meta_reason");
      if (reason != null) {
        boolean safe = !reason.equals(Reason.UNSAFE_PATH.code()) && path != null;
        return SourceRecords.rejected(key, reasonOf(reason), j.getAs("meta_detail"), safe ? path : null,
            path == null ? metaName : path, entry);
      }
      if (filePath == null) {
        return SourceRecords.rejected(key, Reason.MISSING_FILE, "metadata names " + path + " but the input folder has no such file",
            path, path, entry);
      }
      List<String> tags = j.getList(j.fieldIndex("tags"));
      Integer label = j.isNullAt(j.fieldIndex("label")) ? null : j.getInt(j.fieldIndex("label"));
      return decode(key, path, j.getLong(j.fieldIndex("file_size")), tags, label, j.getAs("split"), entry);
    }

    private Row decode(String key, String path, long size, List<String> tags, Integer label, String split, String entry) {
      if (size > settings.maxFileBytes()) {
        return SourceRecords.rejected(key, Reason.TOO_LARGE, "file has " + size + " bytes, more than max-file-bytes "
            + settings.maxFileBytes(), path, path, entry);
      }
      byte[] bytes;
      pendingBytes = size;
      try (InputStream in = fs.open(new Path(root, path))) {
        bytes = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, settings.maxFileBytes() + 1));
      } catch (IOException e) {
        return SourceRecords.rejected(key, Reason.UNREADABLE, "cannot read: " + e, path, path, entry);
      }
      try {
        CanonicalImage img = codec.canonicalize(bytes);
        return SourceRecords.image(key, split, 0L, path, img, tags, settings.mapTags(tags), label, path, entry);
      } catch (ImageRejectedException e) {
        return SourceRecords.rejected(key, e.reason(), e.detail(), path, path, entry);
      }
    }
  }

  static Reason reasonOf(String code) {
    for (Reason r : Reason.values()) {
      if (r.code().equals(code)) {
        return r;
      }
    }
    throw new IllegalArgumentException("unknown reason " + code);
  }
}
