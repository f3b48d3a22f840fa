package org.semiweak.prep;

import org.semiweak.run.result.PrepResult;
import org.semiweak.run.RunLayout;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import javax.imageio.ImageIO;
import org.apache.hadoop.fs.Path;
import org.apache.parquet.example.data.Group;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.PrimitiveType;
import org.apache.parquet.schema.Type;
import org.apache.spark.sql.types.StructField;
import org.junit.jupiter.api.Test;
import org.semiweak.data.ImageSchema;
import org.semiweak.data.Vocabulary;
import org.semiweak.prep.sim.FashionMnistVocabulary;
import org.semiweak.run.RunDir;
import org.semiweak.run.StageManifest;

/** The real Fashion-MNIST (60,000 train + 10,000 test IDX records) through the idx source. */
class PrepareImagesFashionMnistTest {
  /** Removed after each test, as every test's files are. */
  @org.junit.jupiter.api.io.TempDir java.nio.file.Path scratch;


  @Test
  void preparesTheRealFashionMnistWithoutLosingARecord() throws IOException {
    String dir = PrepTestSupport.fashionMnistDir();
    RunDir run = PrepTestSupport.newRun(PrepTestSupport.tempDir(scratch, "prep-fmnist"));
    PrepTestSupport.spark();
    long t0 = System.nanoTime();
    double cpu0 = PrepTestSupport.processCpuSeconds();
    StageManifest m = PrepTestSupport.prep(run, Map.of("input", dir));
    System.out.printf("Fashion-MNIST prep: %.1f s wall, %.1f s CPU, counts %s, metrics %s%n", (System.nanoTime() - t0) / 1e9,
        PrepTestSupport.processCpuSeconds() - cpu0, m.counts(), m.result());

    // The oracle: distinct pixel arrays, computed here from the IDX files without data-prep.
    PrepTestSupport.Idx train = PrepTestSupport.loadIdx(dir, "train");
    PrepTestSupport.Idx test = PrepTestSupport.loadIdx(dir, "t10k");
    Set<ByteBuffer> testPixels = new HashSet<>();
    for (byte[] img : test.images()) {
      testPixels.add(ByteBuffer.wrap(img));
    }
    Set<ByteBuffer> trainPixels = new HashSet<>();
    for (byte[] img : train.images()) {
      if (!testPixels.contains(ByteBuffer.wrap(img))) {
        trainPixels.add(ByteBuffer.wrap(img));
      }
    }

    assertThat(m.count("in")).as("every IDX record is read").isEqualTo(70_000);
    assertThat(m.count("quarantined")).as("the real IDX files have no bad record").isZero();
    assertThat(m.count("in")).as("in = written + quarantined + duplicates")
        .isEqualTo(m.count("written") + m.count("quarantined") + m.count("duplicates"));
    assertThat(m.count("written.labeled")).as("100 labeled images per class").isEqualTo(1_000);
    assertThat(m.count("written.labeled") + m.count("written.unlabeled"))
        .as("train images kept = distinct train pixel arrays that are not also test images")
        .isEqualTo(trainPixels.size());
    assertThat(m.count("written.test")).as("test images kept = distinct test pixel arrays").isEqualTo(testPixels.size());
    assertThat(m.count("written.labeled") + m.count("written.unlabeled") + trainDuplicates(m, testPixels.size()))
        .as("labeled + unlabeled + train duplicates = 60,000").isEqualTo(60_000);
    PrepResult result = m.result(PrepResult.class);
    Map<String, Long> labeledPerClass = result.perClass().get("labeled");
    assertThat(labeledPerClass).as("labeled per class").hasSize(10);
    labeledPerClass.forEach((cls, n) -> assertThat(n).as("labeled images of " + cls).isEqualTo(100));
    assertThat(result.imageSize()).as("image size published for later stages").isEqualTo(28);
    assertThat(result.classes()).as("classes published for later stages").hasSize(10);
    assertThat(result.simulatedTagAccuracy())
        .as("simulated tags name the true class with probability 0.6").isCloseTo(0.6, within(0.015));

    // Read the shards back with plain parquet-hadoop, not Spark.
    Path prep = run.stagePath(RunLayout.prep());
    MessageType schema = PrepTestSupport.parquetSchema(PrepTestSupport.parts(new Path(prep, "labeled")).get(0));
    assertSchema(schema);
    Vocabulary vocabulary = Vocabulary.fromJson(run.readString(new Path(prep, "vocabulary.json")));
    assertThat(vocabulary).as("the stored vocabulary is the built-in one").isEqualTo(FashionMnistVocabulary.vocabulary());

    assertThat(PrepTestSupport.parts(new Path(prep, "quarantine"))).as("an empty quarantine still has a Parquet file").isNotEmpty();
    assertThat(PrepTestSupport.readGroups(new Path(prep, "quarantine"))).as("and it has no rows").isEmpty();
    assertThat(PrepTestSupport.parts(new Path(prep, "unlabeled"))).as("59,000 rows in shards of at most 20,000").hasSize(3);

    List<Group> labeled = PrepTestSupport.readGroups(new Path(prep, "labeled"));
    assertThat(labeled).as("labeled rows read back").hasSize(1_000);
    for (Group g : labeled.subList(0, 50)) {
      String id = g.getString(ImageSchema.IMAGE_ID, 0);
      assertThat(id).as("image id style").matches("fashion-mnist-train-\\d{5}");
      int index = Integer.parseInt(id.substring(id.lastIndexOf('-') + 1));
      byte[] decoded = grayPixels(g.getBinary(ImageSchema.IMAGE, 0).getBytes());
      assertThat(decoded).as("decoded PNG of " + id + " equals its IDX pixels").isEqualTo(train.images()[index]);
      assertThat(g.getInteger(ImageSchema.LABEL, 0)).as("label of " + id).isEqualTo(train.labels()[index]);
      assertThat(PrepTestSupport.stringList(g, ImageSchema.TAGS)).as("labeled images carry simulated tags").isNotEmpty();
    }

    List<Group> testRows = PrepTestSupport.readGroups(new Path(prep, "test"));
    assertThat(testRows).as("test rows read back").hasSize((int) m.count("written.test"));
    Group t = testRows.get(123);
    String testId = t.getString(ImageSchema.IMAGE_ID, 0);
    int testIndex = Integer.parseInt(testId.substring(testId.lastIndexOf('-') + 1));
    assertThat(grayPixels(t.getBinary(ImageSchema.IMAGE, 0).getBytes())).as("decoded test image " + testId)
        .isEqualTo(test.images()[testIndex]);
    assertThat(testRows).as("test images carry no tags")
        .allSatisfy(g -> assertThat(PrepTestSupport.stringList(g, ImageSchema.TAGS)).isEmpty());

    // Tag accuracy measured from the written rows themselves.
    List<Group> unlabeled = PrepTestSupport.readGroups(new Path(prep, "unlabeled"), ImageSchema.TAGS, ImageSchema.LABEL);
    assertThat(unlabeled).as("unlabeled rows read back").hasSize((int) m.count("written.unlabeled"));
    long hits = 0;
    Map<Integer, Set<String>> synonymsSeen = new HashMap<>();
    for (Group g : unlabeled) {
      int label = g.getInteger(ImageSchema.LABEL, 0);
      List<String> tags = PrepTestSupport.stringList(g, ImageSchema.TAGS);
      int cls = vocabulary.classOf(tags.get(0));
      synonymsSeen.computeIfAbsent(cls, k -> new HashSet<>()).add(tags.get(0));
      if (cls == label) {
        hits++;
      }
    }
    assertThat(hits / (double) unlabeled.size()).as("share of unlabeled images whose hashtag names the true class")
        .isCloseTo(0.6, within(0.015));
    assertThat(synonymsSeen.get(0)).as("several hashtags of class T-shirt/top are used").contains("#tshirt", "#tee", "#top");
    assertThat(m.count("tags.unknown")).as("off-vocabulary noise hashtags are counted").isPositive();
  }

  /** Train duplicates: all duplicates minus those inside the test set. */
  private static long trainDuplicates(StageManifest m, int distinctTest) {
    return m.count("duplicates") - (10_000 - distinctTest);
  }

  private static void assertSchema(MessageType schema) {
    List<Type> fields = schema.getFields();
    StructField[] expected = ImageSchema.SCHEMA.fields();
    assertThat(fields).as("Parquet columns").hasSize(expected.length);
    for (int i = 0; i < expected.length; i++) {
      Type f = fields.get(i);
      assertThat(f.getName()).as("column " + i).isEqualTo(expected[i].name());
      assertThat(f.isRepetition(Type.Repetition.OPTIONAL)).as("nullability of " + f.getName()).isEqualTo(expected[i].nullable());
    }
    assertThat(schema.getType(ImageSchema.IMAGE).asPrimitiveType().getPrimitiveTypeName())
        .as("image is binary").isEqualTo(PrimitiveType.PrimitiveTypeName.BINARY);
    assertThat(schema.getType(ImageSchema.HEIGHT).asPrimitiveType().getPrimitiveTypeName())
        .as("height is int32").isEqualTo(PrimitiveType.PrimitiveTypeName.INT32);
    assertThat(schema.getType(ImageSchema.TAGS).isPrimitive()).as("tags is a list").isFalse();
  }

  static byte[] grayPixels(byte[] png) throws IOException {
    BufferedImage img = ImageIO.read(new ByteArrayInputStream(png));
    assertThat(img.getType()).as("canonical PNG decodes as 8-bit gray").isEqualTo(BufferedImage.TYPE_BYTE_GRAY);
    byte[] out = new byte[img.getWidth() * img.getHeight()];
    img.getRaster().getDataElements(0, 0, img.getWidth(), img.getHeight(), out);
    return out;
  }
}
