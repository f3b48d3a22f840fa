package org.semiweak.testing;

import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPOutputStream;

/** Writes the first N images of the real Fashion-MNIST splits as IDX files: a small real dataset. */
public final class IdxSubset {
  private IdxSubset() {}

  /** Writes {@code train-*} and {@code t10k-*} gzipped IDX files under {@code dir}; returns {@code dir}. */
  public static Path write(Path dir, int trainImages, int testImages) throws IOException {
    return write(FashionMnist.dir(), dir, trainImages, testImages);
  }

  /** The same, reading the full data set from {@code source}. */
  public static Path write(Path source, Path dir, int trainImages, int testImages) throws IOException {
    Files.createDirectories(dir);
    write(dir, "train", FashionMnist.load(source, "train", trainImages));
    write(dir, "t10k", FashionMnist.load(source, "t10k", testImages));
    return dir;
  }

  private static void write(Path dir, String split, FashionMnist data) throws IOException {
    try (DataOutputStream images = gz(dir.resolve(split + "-images-idx3-ubyte.gz"));
        DataOutputStream labels = gz(dir.resolve(split + "-labels-idx1-ubyte.gz"))) {
      images.writeInt(0x00000803);
      images.writeInt(data.size());
      images.writeInt(FashionMnist.SIZE);
      images.writeInt(FashionMnist.SIZE);
      labels.writeInt(0x00000801);
      labels.writeInt(data.size());
      for (int i = 0; i < data.size(); i++) {
        images.write(data.pixels(i));
        labels.writeByte(data.label(i));
      }
    }
  }

  private static DataOutputStream gz(Path p) throws IOException {
    OutputStream out = new GZIPOutputStream(Files.newOutputStream(p));
    return new DataOutputStream(out);
  }
}
