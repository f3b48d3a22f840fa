package org.semiweak.testing;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.zip.GZIPInputStream;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.semiweak.data.ImageSchema;
import org.semiweak.util.PngEncoder;

/**
 * Test helper: reads the real Fashion-MNIST IDX files (gzip) into pixels and labels, and turns
 * them into PNG rows. The folder comes from system property {@code semiweak.fashionMnistDir}
 * (set by surefire), else {@code /usr/share/datasets/fashion-mnist}.
 *
 * <pre>{@code
 * FashionMnist train = FashionMnist.load("train", 2000);
 * Dataset<Row> rows = train.toRows(spark);   // image_id, image (PNG), label
 * }</pre>
 */
public final class FashionMnist {
  public static final int SIZE = 28;
  public static final int CLASSES = 10;
  public static final List<String> CLASS_NAMES = List.of(
      "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot");
  /** Mean and std of the training pixels scaled to [0, 1]. */
  public static final float MEAN = 0.2860f;
  public static final float STD = 0.3530f;

  private final String split;
  private final byte[][] pixels;
  private final int[] labels;

  private FashionMnist(String split, byte[][] pixels, int[] labels) {
    this.split = split;
    this.pixels = pixels;
    this.labels = labels;
  }

  public static Path dir() {
    return Path.of(System.getProperty("semiweak.fashionMnistDir", "/usr/share/datasets/fashion-mnist"));
  }

  /**
   * Reads the first {@code limit} images of {@code split} ("train" or "t10k").
   *
   * @throws UncheckedIOException if the files are missing (install package dataset-fashion-mnist)
   */
  public static FashionMnist load(String split, int limit) {
    return load(dir(), split, limit);
  }

  /** Reads the first {@code limit} images of {@code split} from the IDX files in {@code dir}. */
  public static FashionMnist load(Path dir, String split, int limit) {
    Path images = dir.resolve(split + "-images-idx3-ubyte.gz");
    Path labelFile = dir.resolve(split + "-labels-idx1-ubyte.gz");
    try (DataInputStream in = open(images);
        DataInputStream lin = open(labelFile)) {
      int magic = in.readInt();
      if (magic != 0x803) {
        throw new IOException(images + ": expected IDX image magic 0x803, found 0x" + Integer.toHexString(magic));
      }
      int count = in.readInt();
      int rows = in.readInt();
      int cols = in.readInt();
      if (rows != SIZE || cols != SIZE) {
        throw new IOException(images + ": expected 28x28 images, found " + rows + "x" + cols);
      }
      int lmagic = lin.readInt();
      int lcount = lin.readInt();
      if (lmagic != 0x801 || lcount != count) {
        throw new IOException(labelFile + ": expected label magic 0x801 and " + count + " labels, found 0x"
            + Integer.toHexString(lmagic) + " and " + lcount);
      }
      int n = Math.min(limit, count);
      byte[][] px = new byte[n][SIZE * SIZE];
      int[] lb = new int[n];
      for (int i = 0; i < n; i++) {
        in.readFully(px[i]);
        lb[i] = lin.readUnsignedByte();
      }
      return new FashionMnist(split, px, lb);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read Fashion-MNIST '" + split + "' from " + dir
          + " (apt-get install dataset-fashion-mnist): " + e.getMessage(), e);
    }
  }

  private static DataInputStream open(Path p) throws IOException {
    InputStream raw = Files.newInputStream(p);
    return new DataInputStream(new GZIPInputStream(raw, 1 << 16));
  }

  public int size() {
    return labels.length;
  }

  /** Unsigned 28x28 gray pixels of image {@code i} (a copy). */
  public byte[] pixels(int i) {
    return pixels[i].clone();
  }

  public int label(int i) {
    return labels[i];
  }

  /** Stable id, e.g. {@code fmnist-train-00042}. */
  public String id(int i) {
    return String.format(Locale.ROOT, "fmnist-%s-%05d", split, i);
  }

  /** One encoder per thread: {@link PngEncoder} reuses its deflater. */
  private static final ThreadLocal<PngEncoder> PNG = ThreadLocal.withInitial(PngEncoder::new);

  /** Image {@code i} as a gray PNG, encoded as data-prep encodes its images. */
  public byte[] png(int i) {
    return PNG.get().encode(pixels[i], SIZE, SIZE, 1);
  }

  /** Schema of {@link #toRows}: image_id string, image binary, label int. */
  public static final StructType ROW_SCHEMA = new StructType()
      .add(ImageSchema.IMAGE_ID, DataTypes.StringType, false)
      .add(ImageSchema.IMAGE, DataTypes.BinaryType, false)
      .add(ImageSchema.LABEL, DataTypes.IntegerType, true);

  /** All images as rows (image_id, image PNG, label), in order. */
  public List<Row> rowList() {
    List<Row> rows = new ArrayList<>(size());
    for (int i = 0; i < size(); i++) {
      rows.add(new org.apache.spark.sql.catalyst.expressions.GenericRowWithSchema(
          new Object[] {id(i), png(i), labels[i]}, ROW_SCHEMA));
    }
    return rows;
  }

  /** All images as a DataFrame with {@link #ROW_SCHEMA}. */
  public Dataset<Row> toRows(SparkSession spark) {
    List<Row> rows = new ArrayList<>(size());
    for (int i = 0; i < size(); i++) {
      rows.add(RowFactory.create(id(i), png(i), labels[i]));
    }
    return spark.createDataFrame(rows, ROW_SCHEMA);
  }
}
