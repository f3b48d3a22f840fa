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
import org.apache.spark.util.LongAccumulator;
import org.semiweak.config.ConfigException;
import org.semiweak.prep.SourceRecords;
import org.semiweak.prep.PrepSettings;
import org.semiweak.prep.Reason;
import org.semiweak.prep.image.CanonicalImage;
import org.semiweak.prep.image.ImageCodec;
import org.semiweak.prep.image.ImageRejectedException;

/**
 * WebDataset shards: a folder of {@code .tar} files (searched recursively), each holding samples
 * as consecutive entries that share a key: {@code <key>.jpg|jpeg|png|gif|bmp} plus optional
 * sidecars {@code <key>.json} ({@code {"tags": [...], "label": name or index, "split": ...}}),
 * {@code <key>.txt} (tags separated by white space or '|') and {@code <key>.cls} (class index).
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
 */
public final class WebDatasetSource implements ImageSource {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final FileSystem fs;
  private final Path input;
  private Path root;
  private List<InputFiles.Entry> tars;
  private List<InputFingerprint> fingerprints;

  public WebDatasetSource(FileSystem fs, Path input) {
    this.fs = fs;
    this.input = input;
  }

  @Override
  public List<InputFingerprint> inspect() {
    if (fingerprints != null) {
      return fingerprints;
    }
    root = InputFiles.requireFolder(fs, input, "WebDataset .tar shards");
    tars = InputFiles.list(fs, root, rel -> rel.endsWith(".tar"));
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
  public JavaRDD<Row> candidates(SparkSession spark, PrepSettings settings, int partitions, LongAccumulator processed) {
    inspect();
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    List<String> names = tars.stream().map(InputFiles.Entry::relativePath).toList();
    String rootPath = root.toString();
    // One task per tar: a tar is read sequentially, so it is the unit of parallelism.
    return jsc.parallelize(names, names.size())
        .flatMap(rel -> new TarReader(new Path(rootPath), rel, settings, processed));
  }

  /** Streams through one tar file and yields one candidate row per sample or unsafe entry. */
  static final class TarReader implements Iterator<Row> {
    private final String tarRel;
    private final PrepSettings settings;
    private final LongAccumulator processed;
    private final ImageCodec codec;
    private final Deque<Row> ready = new ArrayDeque<>();
    private TarArchiveInputStream tar;
    private int entryIndex;
    private String groupKey;
    private int groupIndex;
    private final Map<String, Payload> group = new LinkedHashMap<>();

    /** An entry of the current sample: its full name and bytes (null when over max-file-bytes). */
    private record Payload(String name, byte[] bytes, long size) {}

    TarReader(Path root, String tarRel, PrepSettings settings, LongAccumulator processed) throws IOException {
      this.tarRel = tarRel;
      this.settings = settings;
      this.processed = processed;
      this.codec = settings.newCodec();
      Path p = new Path(root, tarRel);
      FileSystem fs = p.getFileSystem(settings.conf().get());
      this.tar = new TarArchiveInputStream(fs.open(p));
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
      processed.add(1);
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
        return SourceRecords.rejected(recordKey, Reason.MISSING_IMAGE, "sample has no image entry (.jpg, .jpeg, .png, .gif, .bmp); it has "
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
          if (n.hasNonNull("split")) {
            split = n.get("split").asText();
          }
        } catch (IOException ex) {
          return SourceRecords.rejected(recordKey, Reason.BAD_METADATA, json.name() + ": " + ex.getMessage().split("\n")[0],
              imageId, tarRel, entry);
        }
      }
      Metadata.Row resolved = Metadata.resolve(imageId, tags, label, split, settings.vocabulary(), settings.defaultSplit());
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
