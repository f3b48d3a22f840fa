package org.semiweak.prep.source;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.semiweak.config.ConfigException;
import org.semiweak.data.Vocabulary;
import org.semiweak.prep.SourceRecords;
import org.semiweak.prep.PrepSettings;
import org.semiweak.prep.image.CanonicalImage;
import org.semiweak.prep.image.ImageCodec;
import org.semiweak.util.Fingerprint;
import org.semiweak.util.SeededRandom;

/**
 * MNIST-family IDX files: {@code train-images-idx3-ubyte}, {@code train-labels-idx1-ubyte},
 * {@code t10k-images-idx3-ubyte}, {@code t10k-labels-idx1-ubyte}, each raw or gzip-compressed
 * ({@code .gz}), in the input folder.
 *
 * <p>Read as a Spark job: each task reads a range of record indices through the Hadoop FileSystem,
 * skipping to its first record (a gzip file is inflated and skipped, as gzip has no index). Train
 * records get split {@code train} (the labeled subset is drawn after deduplication), t10k records
 * split {@code test}. Image ids are {@code <prefix>-train-00042} / {@code <prefix>-test-00042}.
 * Every train image carries simulated tags when the settings have a {@link
 * org.semiweak.prep.sim.TagSimulator}; test images carry none.
 */
public final class IdxSource implements ImageSource {
  /** Seeds the hash that draws the labeled subset; distinct from the tag simulation's hashes. */
  public static final long SALT_LABELED = 0x4c4142454c454421L;

  private static final int IMAGES_MAGIC = 0x00000803;
  private static final int LABELS_MAGIC = 0x00000801;

  private final FileSystem fs;
  private final Path input;
  private final Vocabulary vocabulary;
  private List<Part> parts;
  private List<InputFingerprint> fingerprints;

  /** One image file with its label file. */
  record Part(String split, String imagesPath, String labelsPath, long count, int rows, int cols, int idDigits)
      implements Serializable {}

  public IdxSource(FileSystem fs, Path input, Vocabulary vocabulary) {
    this.fs = fs;
    this.input = input;
    this.vocabulary = vocabulary;
  }

  /** A default image-id prefix from the folder name: lower case, runs of other characters as '-'. */
  public static String defaultIdPrefix(Path input) {
    String p = input.getName().toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]+", "-").replaceAll("^-|-$", "");
    return p.isEmpty() ? "idx" : p;
  }

  @Override
  public List<InputFingerprint> inspect() {
    if (fingerprints != null) {
      return fingerprints;
    }
    Path root = InputFiles.requireFolder(fs, input, "IDX files (train-images-idx3-ubyte[.gz], ...)");
    List<Part> found = new ArrayList<>();
    List<String> hashes = new ArrayList<>();
    for (String[] names : new String[][] {{"train", "train"}, {"test", "t10k"}}) {
      Path images = find(root, names[1] + "-images-idx3-ubyte");
      Path labels = find(root, names[1] + "-labels-idx1-ubyte");
      int[] imgDims = readHeader(images, IMAGES_MAGIC, 3);
      int[] lblDims = readHeader(labels, LABELS_MAGIC, 1);
      if (imgDims[0] != lblDims[0]) {
        throw new IllegalStateException(images + " holds " + imgDims[0] + " images but " + labels + " holds "
            + lblDims[0] + " labels; they must belong together (re-download both)");
      }
      checkLabels(labels, lblDims[0]);
      int digits = Math.max(5, Integer.toString(Math.max(0, imgDims[0] - 1)).length());
      found.add(new Part(names[0], images.toString(), labels.toString(), imgDims[0], imgDims[1], imgDims[2], digits));
      hashes.add(images.getName() + "=" + InputFiles.contentHash(fs, images));
      hashes.add(labels.getName() + "=" + InputFiles.contentHash(fs, labels));
    }
    parts = found;
    fingerprints = List.of(new InputFingerprint("input", root.toString(), Fingerprint.ofParts(hashes.toArray(new String[0]))));
    return fingerprints;
  }

  private Path find(Path root, String base) {
    Path raw = new Path(root, base);
    Path gz = new Path(root, base + ".gz");
    try {
      boolean hasRaw = fs.exists(raw);
      boolean hasGz = fs.exists(gz);
      if (hasRaw && hasGz) {
        throw new ConfigException("prep.input: both " + raw + " and " + gz + " exist; keep one of them");
      }
      if (!hasRaw && !hasGz) {
        throw new ConfigException("prep.input: " + root + " has no " + base + " or " + base
            + ".gz; an IDX input folder holds train-images-idx3-ubyte, train-labels-idx1-ubyte, "
            + "t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte (each optionally .gz)");
      }
      return hasRaw ? raw : gz;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + root + ": " + e.getMessage(), e);
    }
  }

  /** Reads and checks an IDX header; returns its dimensions. */
  private int[] readHeader(Path p, int magic, int ndims) {
    try (DataInputStream in = new DataInputStream(InputFiles.openMaybeGzip(fs, p))) {
      int m = in.readInt();
      if (m != magic) {
        throw new IllegalStateException(p + " is not an IDX file of unsigned bytes with " + ndims
            + " dimension(s): magic number is 0x" + String.format("%08x", m) + ", expected 0x"
            + String.format("%08x", magic));
      }
      int[] dims = new int[ndims];
      for (int i = 0; i < ndims; i++) {
        dims[i] = in.readInt();
        if (dims[i] <= 0) {
          throw new IllegalStateException(p + ": dimension " + i + " is " + dims[i] + ", expected a positive size");
        }
      }
      if (ndims == 3 && (long) dims[1] * dims[2] > 64L * 1024 * 1024) {
        throw new IllegalStateException(p + ": records of " + dims[1] + "x" + dims[2] + " pixels are implausibly large");
      }
      return dims;
    } catch (EOFException e) {
      throw new IllegalStateException(p + " ends inside its IDX header: the file is truncated (download it again)", e);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + p + ": " + e.getMessage(), e);
    }
  }

  /** Reads all labels (one byte each, small) and checks they are classes of the vocabulary. */
  private void checkLabels(Path p, int count) {
    try (InputStream in = InputFiles.openMaybeGzip(fs, p)) {
      in.skipNBytes(8);
      byte[] labels = in.readNBytes(count);
      if (labels.length < count) {
        throw new IllegalStateException(p + " declares " + count + " labels but ends after " + labels.length
            + ": the file is truncated (download it again)");
      }
      for (int i = 0; i < count; i++) {
        int l = labels[i] & 0xff;
        if (l >= vocabulary.numClasses()) {
          throw new IllegalStateException(p + ": record " + i + " has label " + l + " but the vocabulary has "
              + vocabulary.numClasses() + " classes " + vocabulary.classes()
              + "; pass a 'vocabulary' whose classes match the dataset");
        }
      }
    } catch (EOFException e) {
      throw new IllegalStateException(p + " is truncated (download it again)", e);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + p + ": " + e.getMessage(), e);
    }
  }

  @Override
  public long expectedRecords() {
    inspect();
    return parts.stream().mapToLong(Part::count).sum();
  }

  @Override
  public long expectedBytes() {
    inspect();
    return parts.stream().mapToLong(p -> p.count() * (p.rows() * (long) p.cols() + 1)).sum();
  }

  /** A range of records of one part: what one task reads. */
  record Range(Part part, long start, long end) implements Serializable {}

  @Override
  public JavaRDD<Row> candidates(SparkSession spark, PrepSettings settings, int partitions, ReadCounters counters) {
    inspect();
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    long total = expectedRecords();
    int tasks = partitions > 0 ? partitions
        : (int) Math.max(2L * jsc.defaultParallelism(), (total + 49_999) / 50_000);
    List<Range> ranges = new ArrayList<>();
    for (Part part : parts) {
      int n = (int) Math.max(1, Math.min(part.count(), Math.round((double) tasks * part.count() / total)));
      long per = (part.count() + n - 1) / n;
      for (long s = 0; s < part.count(); s += per) {
        ranges.add(new Range(part, s, Math.min(part.count(), s + per)));
      }
    }
    // Spark ships parallelized elements with spark.serializer, and Kryo (what cluster configs set)
    // cannot serialize records: parallelize the ranges' indices; the task closure (Java
    // serialization) carries the ranges.
    List<Range> work = List.copyOf(ranges);
    return jsc.parallelize(java.util.stream.IntStream.range(0, work.size()).boxed().toList(), work.size())
        .flatMap(i -> new RangeReader(work.get(i), settings, counters));
  }

  /** Reads one range of records, streaming, and yields candidate rows. */
  static final class RangeReader implements Iterator<Row> {
    private final Range range;
    private final PrepSettings settings;
    private final ReadCounters counters;
    private final ImageCodec codec;
    private final int recordBytes;
    private final String imagesName;
    private DataInputStream images;
    private InputStream labels;
    private long next;

    RangeReader(Range range, PrepSettings settings, ReadCounters counters) throws IOException {
      this.range = range;
      this.settings = settings;
      this.counters = counters;
      this.codec = settings.newCodec();
      Part part = range.part();
      this.recordBytes = part.rows() * part.cols();
      this.next = range.start();
      Path imagesPath = new Path(part.imagesPath());
      this.imagesName = imagesPath.getName();
      FileSystem fs = imagesPath.getFileSystem(settings.conf().get());
      images = new DataInputStream(InputFiles.openMaybeGzip(fs, imagesPath));
      labels = InputFiles.openMaybeGzip(fs, new Path(part.labelsPath()));
      try {
        images.skipNBytes(16 + range.start() * recordBytes);
        labels.skipNBytes(8 + range.start());
      } catch (EOFException e) {
        close();
        throw truncated(range.start());
      }
    }

    private IOException truncated(long record) {
      return new IOException(range.part().imagesPath() + " or " + range.part().labelsPath() + " ends before record "
          + record + " although the header declares " + range.part().count() + " records: the file is truncated "
          + "(download it again)");
    }

    @Override
    public boolean hasNext() {
      if (next < range.end()) {
        return true;
      }
      close();
      return false;
    }

    @Override
    public Row next() {
      long i = next++;
      Part part = range.part();
      byte[] pixels = new byte[recordBytes];
      int label;
      try {
        images.readFully(pixels);
        label = labels.read();
        if (label < 0) {
          throw new EOFException();
        }
      } catch (EOFException e) {
        close();
        throw new UncheckedIOException(truncated(i));
      } catch (IOException e) {
        close();
        throw new UncheckedIOException("cannot read " + part.imagesPath() + " at record " + i + ": " + e.getMessage(), e);
      }
      String imageId = settings.idPrefix() + "-" + part.split() + "-" + String.format("%0" + part.idDigits() + "d", i);
      CanonicalImage img = codec.fromPixels(pixels, part.cols(), part.rows(), 1);
      boolean train = part.split().equals("train");
      List<String> tags = train && settings.tagSimulator() != null ? settings.tagSimulator().tags(imageId, label) : List.of();
      long selectKey = train ? SeededRandom.hash(settings.seed() ^ SALT_LABELED, imageId) : 0L;
      counters.read(recordBytes + 1L);
      return SourceRecords.image(imagesName + "#" + String.format("%012d", i), train ? SourceRecords.TRAIN : SourceRecords.TEST,
          selectKey, imageId, img, tags, settings.mapTags(tags), label, imagesName, "record " + i);
    }

    private void close() {
      try {
        if (images != null) {
          images.close();
        }
        if (labels != null) {
          labels.close();
        }
      } catch (IOException e) {
        // Closing a read-only stream: nothing to recover.
      }
      images = null;
      labels = null;
    }
  }
}
