package org.semiweak.bench;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;

/**
 * The real Fashion-MNIST images (Debian's dataset-fashion-mnist, IDX files, gzip) as benchmark
 * input: read the first N images of a split, or write them as a smaller IDX folder that the
 * data-prep stage reads.
 *
 * @param pixels one {@code byte[28*28]} per image, row major, unsigned
 * @param labels class of each image, 0..9
 */
record FashionMnistIdx(byte[][] pixels, int[] labels) {
  static final int SIZE = 28;
  static final String DEFAULT_DIR = "/usr/share/datasets/fashion-mnist";

  /** Reads the first {@code limit} images of {@code split} ({@code train} or {@code t10k}) from {@code dir}. */
  static FashionMnistIdx load(Path dir, String split, int limit) {
    Path images = dir.resolve(split + "-images-idx3-ubyte.gz");
    Path labels = dir.resolve(split + "-labels-idx1-ubyte.gz");
    try (DataInputStream in = gz(images); DataInputStream lin = gz(labels)) {
      if (in.readInt() != 0x00000803 || lin.readInt() != 0x00000801) {
        throw new IllegalArgumentException(images + " or " + labels + " is not an IDX image/label file");
      }
      int n = Math.min(in.readInt(), limit);
      lin.readInt();
      if (in.readInt() != SIZE || in.readInt() != SIZE) {
        throw new IllegalArgumentException(images + ": expected 28x28 images");
      }
      byte[][] px = new byte[n][SIZE * SIZE];
      int[] lab = new int[n];
      for (int i = 0; i < n; i++) {
        in.readFully(px[i]);
        lab[i] = lin.readUnsignedByte();
      }
      return new FashionMnistIdx(px, lab);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read Fashion-MNIST " + split + " from " + dir
          + " (install Debian's dataset-fashion-mnist, or pass --fashion-mnist DIR): " + e.getMessage(), e);
    }
  }

  int size() {
    return labels.length;
  }

  /** Writes the first {@code train} and {@code test} images as IDX files into {@code out}. */
  static Path writeSubset(Path source, Path out, int train, int test) {
    try {
      Files.createDirectories(out);
      write(out, "train", load(source, "train", train));
      write(out, "t10k", load(source, "t10k", test));
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write an IDX subset to " + out + ": " + e.getMessage(), e);
    }
  }

  private static void write(Path dir, String split, FashionMnistIdx data) throws IOException {
    try (DataOutputStream images = gzOut(dir.resolve(split + "-images-idx3-ubyte.gz"));
        DataOutputStream labels = gzOut(dir.resolve(split + "-labels-idx1-ubyte.gz"))) {
      images.writeInt(0x00000803);
      images.writeInt(data.size());
      images.writeInt(SIZE);
      images.writeInt(SIZE);
      labels.writeInt(0x00000801);
      labels.writeInt(data.size());
      for (int i = 0; i < data.size(); i++) {
        images.write(data.pixels()[i]);
        labels.writeByte(data.labels()[i]);
      }
    }
  }

  private static DataInputStream gz(Path p) throws IOException {
    InputStream in = new GZIPInputStream(Files.newInputStream(p), 1 << 16);
    return new DataInputStream(in);
  }

  private static DataOutputStream gzOut(Path p) throws IOException {
    OutputStream out = new GZIPOutputStream(Files.newOutputStream(p), 1 << 16);
    return new DataOutputStream(out);
  }
}
