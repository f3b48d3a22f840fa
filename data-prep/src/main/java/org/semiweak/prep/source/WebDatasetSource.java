package org.semiweak.prep.source;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.semiweak.config.ConfigException;
import org.semiweak.prep.SourceRecords;
import org.semiweak.prep.PrepSettings;
import org.semiweak.prep.Reason;
import org.semiweak.prep.image.CanonicalImage;
import org.semiweak.prep.image.ImageCodec;
import org.semiweak.prep.image.ImageRejectedException;

/**
 * WebDataset shards: a folder of {@code .tar} files (searched recursively), each holding samples
 * as consecutive entries that share a key: {@code <key>.jpg|jpeg|png|gif|bmp|webp} plus optional
 * sidecars {@code <key>.json} ({@code {"tags": [...], "label": name or index, "split": ...,
 * "eval_label": name or index}}; the split field is the input's split column), {@code <key>.txt}
 * (tags separated by white space or '|') and {@code <key>.cls} (class index or name).
 * The key is the entry name up to the first '.' of its file name (directories included), as in
 * WebDataset.
 *
 * <p>One Spark task per tar file streams through it via the Hadoop FileSystem and commons-compress;
 * nothing is extracted to disk. The image id is {@code <tar path relative to the input>/<key>}
 * (the tar's file name when the folder is flat). Entries whose name is absolute or has a {@code ..}
 * segment, and link entries, are quarantined as {@code unsafe-name} (one record each); a key with
 * an image-named entry whose bytes are no image is {@code not-an-image}; a key with no image entry
 * is {@code missing-image}. When a key has several image entries, the first in tar order is used.
 * A tar that cannot be read further yields one {@code corrupt-archive} record for the rest.
 *
 * <p>Files of the folder that are no tar: an image or another archive is quarantined as
 * {@code not-read} (data that this source does not read); any other file (notes, a checksum list)
 * is listed and counted as a skipped file.
 */
public final class WebDatasetSource implements ImageSource {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final FileSystem fs;
  private final Path input;
  private final SplitRule splitRule;
  private Path root;
  private List<InputFiles.Entry> tars;
  private List<InputFiles.Entry> others;
  private List<InputFingerprint> fingerprints;

  public WebDatasetSource(FileSystem fs, Path input, SplitRule splitRule) {
    this.fs = fs;
    this.input = input;
    this.splitRule = splitRule;
  }

  @Override
  public List<InputFingerprint> inspect() {
    if (fingerprints != null) {
      return fingerprints;
    }
    root = InputFiles.requireFolder(fs, input, "WebDataset .tar shards");
    List<InputFiles.Entry> all = InputFiles.list(fs, root, rel -> true);
    tars = all.stream().filter(e -> e.relativePath().endsWith(".tar")).toList();
    others = all.stream().filter(e -> !e.relativePath().endsWith(".tar")).toList();
    if (tars.isEmpty()) {
      throw new ConfigException("prep.input: " + root + " holds no .tar files; a webdataset input is a folder of tar shards");
    }
    fingerprints = List.of(new InputFingerprint("input", root.toString(), InputFiles.fingerprint(tars)));
    return fingerprints;
  }

  @Override
  public long expectedRecords() {
    return -1;
  }

  @Override
  public long expectedBytes() {
    inspect();
    return tars.stream().mapToLong(InputFiles.Entry::size).sum();
  }

  @Override
  public JavaRDD<Row> candidates(SparkSession spark, PrepSettings settings, int partitions, ReadCounters counters) {
    inspect();
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    List<String> names = tars.stream().map(InputFiles.Entry::relativePath).toList();
    String rootPath = root.toString();
    SplitRule rule = splitRule;
    // One task per tar: a tar is read sequentially, so it is the unit of parallelism.
    JavaRDD<Row> samples = jsc.parallelize(names, names.size())
        .flatMap(rel -> new TarReader(new Path(rootPath), rel, settings, rule, counters));
    List<Row> notTars = new ArrayList<>();
    for (InputFiles.Entry e : others) {
      String rel = e.relativePath();
      String key = "file#" + rel;
      if (InputFiles.hasImageExtension(rel) || InputFiles.looksLikeArchiveOrDataset(rel)) {
        notTars.add(SourceRecords.rejected(key, Reason.NOT_READ, "looks like data but a webdataset input reads .tar "
            + "shards only; pack it into a shard, or give it its own input (a folder input reads image files)",
            null, rel, "whole file"));
      } else {
        notTars.add(SourceRecords.skipped(key, rel, "not a .tar shard"));
      }
    }
    return notTars.isEmpty() ? samples : samples.union(jsc.parallelize(notTars, 1));
  }

  /** Streams through one tar file and yields one candidate row per sample or unsafe entry. */
  static final class TarReader implements Iterator<Row> {
    private final String tarRel;
    private final PrepSettings settings;
    private final SplitRule splitRule;
    private final ReadCounters counters;
    private final ImageCodec codec;
    private final Deque<Row> ready = new ArrayDeque<>();
    private final CountingInputStream counted;
    private long reportedBytes;
    private TarArchiveInputStream tar;
    private int entryIndex;
    private String groupKey;
    private int groupIndex;
    private final Map<String, Payload> group = new LinkedHashMap<>();

    /** An entry of the current sample: its full name and bytes (null when over max-file-bytes). */
    private record Payload(String name, byte[] bytes, long size) {}

    TarReader(Path root, String tarRel, PrepSettings settings, SplitRule splitRule, ReadCounters counters)
        throws IOException {
      this.tarRel = tarRel;
      this.settings = settings;
      this.splitRule = splitRule;
      this.counters = counters;
      this.codec = settings.newCodec();
      Path p = new Path(root, tarRel);
      FileSystem fs = p.getFileSystem(settings.conf().get());
      this.counted = new CountingInputStream(fs.open(p));
      this.tar = new TarArchiveInputStream(counted);
    }

    @Override
    public boolean hasNext() {
      while (ready.isEmpty() && tar != null) {
        advance();
      }
      return !ready.isEmpty();
    }

    @Override
    public Row next() {
      if (!hasNext()) {
        throw new java.util.NoSuchElementException();
      }
      long bytes = counted.count() - reportedBytes;
      reportedBytes += bytes;
      counters.read(bytes);
      return ready.poll();
    }

    private void advance() {
      TarArchiveEntry e;
      try {
        e = tar.getNextEntry();
      } catch (IOException ex) {
        flushGroup();
        ready.add(SourceRecords.rejected(tarRel + "#" + String.format("%09d", entryIndex), Reason.CORRUPT_ARCHIVE,
            "cannot read past entry " + entryIndex + ": " + ex + "; the remaining entries of this tar are lost",
            null, tarRel, "entry " + entryIndex));
        close();
        return;
      }
      if (e == null) {
        flushGroup();
        close();
        return;
      }
      int index = entryIndex++;
      if (e.isDirectory()) {
        return;
      }
      String name = e.getName();
      String recordKey = tarRel + "#" + String.format("%09d", index);
      if (e.isSymbolicLink() || e.isLink()) {
        ready.add(SourceRecords.rejected(recordKey, Reason.UNSAFE_NAME, "link entry (to " + e.getLinkName()
            + ") is not followed", null, tarRel, name));
        return;
      }
      if (!e.isFile()) {
        return; // device files, FIFOs: not payloads
      }
      String safe = Metadata.normalizePath(name);
      if (safe == null) {
        ready.add(SourceRecords.rejected(recordKey, Reason.UNSAFE_NAME,
            "entry name is absolute or has a '..' segment; it is never used as a key", null, tarRel, name));
        return;
      }
      int slash = safe.lastIndexOf('/');
      int dot = safe.indexOf('.', slash + 1);
      String key = dot < 0 ? safe : safe.substring(0, dot);
      String ext = dot < 0 ? "" : safe.substring(dot + 1).toLowerCase(java.util.Locale.ROOT);
      if (!key.equals(groupKey)) {
        flushGroup();
        groupKey = key;
        groupIndex = index;
      }
      byte[] bytes = null;
      if (e.getSize() <= settings.maxFileBytes()) {
        try {
          bytes = tar.readAllBytes();
        } catch (IOException ex) {
          ready.add(SourceRecords.rejected(recordKey, Reason.CORRUPT_ARCHIVE, "cannot read entry " + name + ": " + ex
              + "; the remaining entries of this tar are lost", null, tarRel, name));
          group.clear();
          groupKey = null;
          close();
          return;
        }
      }
      group.putIfAbsent(ext, new Payload(name, bytes, e.getSize()));
    }

    private void flushGroup() {
      if (groupKey == null) {
        return;
      }
      ready.add(sample());
      group.clear();
      groupKey = null;
    }

    private Row sample() {
      String imageId = tarRel + "/" + groupKey;
      String recordKey = tarRel + "#" + String.format("%09d", groupIndex);
      Payload image = null;
      for (Map.Entry<String, Payload> en : group.entrySet()) {
        if (isImageExtension(en.getKey())) {
          image = en.getValue();
          break;
        }
      }
      if (image == null) {
        return SourceRecords.rejected(recordKey, Reason.MISSING_IMAGE, "sample has no image entry (.jpg, .jpeg, .png, .gif, .bmp, .webp); it has "
            + group.values().stream().map(Payload::name).toList(), imageId, tarRel, groupKey);
      }
      String entry = image.name();
      if (image.bytes() == null) {
        return SourceRecords.rejected(recordKey, Reason.TOO_LARGE, "entry has " + image.size()
            + " bytes, more than max-file-bytes " + settings.maxFileBytes(), imageId, tarRel, entry);
      }
      List<String> tags = new ArrayList<>();
      String label = null;
      String split = null;
      String evalLabel = null;
      Payload txt = group.get("txt");
      if (txt != null && txt.bytes() != null) {
        tags.addAll(Metadata.splitTags(new String(txt.bytes(), StandardCharsets.UTF_8)));
      }
      Payload cls = group.get("cls");
      if (cls != null && cls.bytes() != null) {
        label = new String(cls.bytes(), StandardCharsets.UTF_8).strip();
      }
      Payload json = group.get("json");
      if (json != null) {
        try {
          if (json.bytes() == null) {
            throw new IOException("over max-file-bytes");
          }
          JsonNode n = JSON.readTree(json.bytes());
          if (n == null || !n.isObject()) {
            throw new IOException("not a JSON object");
          }
          JsonNode t = n.get("tags");
          if (t != null && t.isArray()) {
            for (JsonNode x : t) {
              tags.add(x.asText());
            }
          } else if (t != null && !t.isNull()) {
            tags.addAll(Metadata.splitTags(t.asText()));
          }
          if (n.hasNonNull("label")) {
            label = n.get("label").asText();
          }
          if (n.hasNonNull(splitRule.column())) {
            split = n.get(splitRule.column()).asText();
          }
          if (n.hasNonNull(Metadata.EVAL_LABEL)) {
            evalLabel = n.get(Metadata.EVAL_LABEL).asText();
          }
        } catch (IOException ex) {
          return SourceRecords.rejected(recordKey, Reason.BAD_METADATA, json.name() + ": " + ex.getMessage().split("\n")[0],
              imageId, tarRel, entry);
        }
      }
      Metadata.Row resolved = Metadata.resolve(imageId, tags, label, evalLabel, split, settings.vocabulary(), splitRule);
      if (resolved.reason() != null) {
        return SourceRecords.rejected(recordKey, resolved.reason(), resolved.detail(), imageId, tarRel, entry);
      }
      try {
        CanonicalImage img = codec.canonicalize(image.bytes());
        return SourceRecords.image(recordKey, resolved.split(), 0L, imageId, img, tags, settings.mapTags(tags),
            resolved.label(), tarRel, entry);
      } catch (ImageRejectedException ex) {
        return SourceRecords.rejected(recordKey, ex.reason(), ex.detail(), imageId, tarRel, entry);
      }
    }

    /** Whether the last extension names an image ({@code a.b.jpg} counts as jpg). */
    private static boolean isImageExtension(String ext) {
      return switch (ext.substring(ext.lastIndexOf('.') + 1)) {
        case "jpg", "jpeg", "png", "gif", "bmp", "webp" -> true;
        default -> false;
      };
    }

    /** Counts the bytes read from the tar file, for progress. */
    private static final class CountingInputStream extends java.io.FilterInputStream {
      private long count;

      CountingInputStream(java.io.InputStream in) {
        super(in);
      }

      long count() {
        return count;
      }

      @Override
      public int read() throws IOException {
        int b = super.read();
        if (b >= 0) {
          count++;
        }
        return b;
      }

      @Override
      public int read(byte[] buf, int off, int len) throws IOException {
        int n = super.read(buf, off, len);
        if (n > 0) {
          count += n;
        }
        return n;
      }

      @Override
      public long skip(long n) throws IOException {
        long k = super.skip(n);
        count += Math.max(0, k);
        return k;
      }
    }

    private void close() {
      try {
        if (tar != null) {
          tar.close();
        }
      } catch (IOException ex) {
        // read-only stream
      }
      tar = null;
    }
  }
}
