package org.semiweak.prep;

import org.semiweak.run.RunLayout;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPOutputStream;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.functions;
import org.junit.jupiter.api.Test;
import org.semiweak.data.ImageSchema;
import org.semiweak.run.RunDir;
import org.semiweak.run.StageManifest;

/**
 * The same IDX input and seed give identical rows with 1 or 4 read partitions, and duplicates are
 * resolved the documented way (test before train, then smallest id).
 */
class PrepareImagesDeterminismTest {
  /** Removed after each test, as every test's files are. */
  @org.junit.jupiter.api.io.TempDir java.nio.file.Path scratch;

  private static final int TRAIN = 1_500;
  private static final int TEST = 300;

  /** A small IDX set from the real Fashion-MNIST, with planted duplicates; train raw, test gzip. */
  static java.nio.file.Path smallIdx(java.nio.file.Path dir) throws IOException {
    PrepTestSupport.Idx train = PrepTestSupport.loadIdx(PrepTestSupport.fashionMnistDir(), "train");
    PrepTestSupport.Idx test = PrepTestSupport.loadIdx(PrepTestSupport.fashionMnistDir(), "t10k");
    byte[][] trainImages = new byte[TRAIN][];
    int[] trainLabels = new int[TRAIN];
    for (int i = 0; i < TRAIN; i++) {
      trainImages[i] = train.images()[i];
      trainLabels[i] = train.labels()[i];
    }
    trainImages[10] = test.images()[5]; // a train copy of a test image
    trainLabels[10] = test.labels()[5];
    trainImages[21] = trainImages[20]; // two identical train images
    trainLabels[21] = trainLabels[20];
    byte[][] testImages = new byte[TEST][];
    int[] testLabels = new int[TEST];
    for (int i = 0; i < TEST; i++) {
      testImages[i] = test.images()[i];
      testLabels[i] = test.labels()[i];
    }
    Files.createDirectories(dir);
    writeIdx(Files.newOutputStream(dir.resolve("train-images-idx3-ubyte")), Files.newOutputStream(dir.resolve("train-labels-idx1-ubyte")),
        trainImages, trainLabels);
    writeIdx(new GZIPOutputStream(Files.newOutputStream(dir.resolve("t10k-images-idx3-ubyte.gz"))),
        new GZIPOutputStream(Files.newOutputStream(dir.resolve("t10k-labels-idx1-ubyte.gz"))), testImages, testLabels);
    return dir;
  }

  private static void writeIdx(OutputStream imagesOut, OutputStream labelsOut, byte[][] images, int[] labels) throws IOException {
    try (DataOutputStream img = new DataOutputStream(imagesOut); DataOutputStream lbl = new DataOutputStream(labelsOut)) {
      img.writeInt(0x00000803);
      img.writeInt(images.length);
      img.writeInt(28);
      img.writeInt(28);
      for (byte[] b : images) {
        img.write(b);
      }
      lbl.writeInt(0x00000801);
      lbl.writeInt(labels.length);
      for (int l : labels) {
        lbl.writeByte(l);
      }
    }
  }

  @Test
  void oneOrFourPartitionsGiveIdenticalRows() throws IOException {
    java.nio.file.Path tmp = PrepTestSupport.tempDir(scratch, "prep-determinism");
    java.nio.file.Path idx = smallIdx(tmp.resolve("mini-fmnist"));
    Map<String, String> common = Map.of("input", idx.toString(), "labeled-per-class", "10", "seed", "7",
        "shard-records", "500");
    RunDir one = PrepTestSupport.newRun(tmp.resolve("one"));
    RunDir four = PrepTestSupport.newRun(tmp.resolve("four"));
    Map<String, String> withOne = new java.util.HashMap<>(common);
    withOne.put("partitions", "1");
    Map<String, String> withFour = new java.util.HashMap<>(common);
    withFour.put("partitions", "4");
    StageManifest m1 = PrepTestSupport.prep(one, withOne);
    StageManifest m4 = PrepTestSupport.prep(four, withFour);

    assertThat(m1.counts()).as("same counts").isEqualTo(m4.counts());
    assertThat(m1.count("duplicates")).as("the train copy of test-00005 and the second of two equal train images").isEqualTo(2);
    assertThat(m1.count("written.labeled")).as("10 labeled per class").isEqualTo(100);
    assertThat(m1.count("written.test")).as("all test images").isEqualTo(TEST);
    for (String split : PrepareImages.SPLITS) {
      List<String> rows1 = canonicalRows(one, split);
      List<String> rows4 = canonicalRows(four, split);
      assertThat(rows1).as(split + " rows with 1 and with 4 read partitions").isEqualTo(rows4);
    }
    List<String> unlabeledIds = PrepareImagesFolderTest.ids(new Path(one.stagePath(RunLayout.prep()), "unlabeled"));
    List<String> labeledIds = PrepareImagesFolderTest.ids(new Path(one.stagePath(RunLayout.prep()), "labeled"));
    assertThat(unlabeledIds).as("the train copy of a test image is removed").doesNotContain("mini-fmnist-train-00010");
    assertThat(labeledIds).as("nor labeled").doesNotContain("mini-fmnist-train-00010");
    List<String> trainIds = new java.util.ArrayList<>(unlabeledIds);
    trainIds.addAll(labeledIds);
    assertThat(trainIds).as("of two equal train images the smaller id is kept")
        .contains("mini-fmnist-train-00020").doesNotContain("mini-fmnist-train-00021");
    assertThat(m1.options().get("id-prefix")).as("id prefix derived from the folder name").isEqualTo("mini-fmnist");

  }

  /** Every column of every row as text, sorted by image id. */
  private static List<String> canonicalRows(RunDir run, String split) {
    List<Row> rows = PrepTestSupport.spark().read().schema(ImageSchema.SCHEMA)
        .parquet(new Path(run.stagePath(RunLayout.prep()), split).toString())
        .orderBy(functions.col(ImageSchema.IMAGE_ID)).collectAsList();
    return rows.stream().map(r -> {
      StringBuilder sb = new StringBuilder();
      for (int i = 0; i < r.size(); i++) {
        Object v = r.get(i);
        sb.append(v instanceof byte[] b ? HexFormat.of().formatHex(b) : String.valueOf(v)).append('|');
      }
      return sb.toString();
    }).toList();
  }
}
