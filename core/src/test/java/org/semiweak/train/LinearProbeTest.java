package org.semiweak.train;

import static org.assertj.core.api.Assertions.assertThat;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageIO;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.semiweak.data.ImageSchema;
import org.semiweak.model.ModelSpec;
import org.semiweak.model.ModelWeights;

/** Linear evaluation: a linear classifier on a frozen encoder's features. */
class LinearProbeTest {
  private static final ModelSpec SPEC = ModelSpec.smallResNet(1, 28, 10, 1, 16, 32)
      .withNormalization(new float[] {0.286f}, new float[] {0.353f});

  private static SparkSession spark;
  /** 400 Fashion-MNIST training images, and a random encoder: features good enough to fit on. */
  private static ExampleShard images;
  private static final ModelWeights ENCODER = ModelWeights.initial(SPEC, 7);

  @BeforeAll
  static void start() throws IOException {
    images = SelfSupervisedTrainingTest.fashionMnist(400);
    // Kryo, as the cluster templates configure it: the chunks, broadcasts and task results must ship under it.
    spark = SparkSession.builder().master("local[2]").appName("LinearProbeTest")
        .config("spark.ui.enabled", "false")
        .config("spark.serializer", "org.apache.spark.serializer.KryoSerializer")
        .getOrCreate();
  }

  @AfterAll
  static void stop() {
    spark.stop();
  }

  @Test
  void logisticRegressionSeparatesSeparableClasses() {
    // Three classes at the corners of a triangle, with a constant feature that only the bias may use.
    float[][] x = {{0, 0, 1}, {0.1f, 0, 1}, {4, 0, 1}, {4, 0.1f, 1}, {0, 4, 1}, {0.1f, 4, 1}};
    int[] y = {0, 0, 1, 1, 2, 2};
    double[][] w = new double[3][3];
    double[] b = new double[3];
    LinearProbe.logisticRegression(x, y, w, b);
    for (int i = 0; i < x.length; i++) {
      int best = 0;
      double bestScore = Double.NEGATIVE_INFINITY;
      for (int c = 0; c < 3; c++) {
        double z = b[c] + w[c][0] * x[i][0] + w[c][1] * x[i][1] + w[c][2] * x[i][2];
        if (z > bestScore) {
          bestScore = z;
          best = c;
        }
      }
      assertThat(best).as("point %d", i).isEqualTo(y[i]);
    }
  }

  @Test
  void theEncoderStaysFrozenAndOnlyTheHeadIsFitted() {
    ModelWeights probe = LinearProbe.fit(SPEC, ENCODER, images);
    int n = ENCODER.names().size();
    assertThat(probe.names()).isEqualTo(ENCODER.names());
    for (String name : ENCODER.names().subList(0, n - 2)) {
      assertThat(probe.values(name)).as("%s is frozen", name).containsExactly(ENCODER.values(name));
    }
    assertThat(probe.values(ENCODER.names().get(n - 2))).as("the head is new")
        .isNotEqualTo(ENCODER.values(ENCODER.names().get(n - 2)));
    assertThat(probe).as("a pure function of encoder and images").isEqualTo(LinearProbe.fit(SPEC, ENCODER, images));
    // Even a random encoder's features separate Fashion-MNIST's classes far better than chance (10%).
    double top1 = Evaluator.evaluate(images, SPEC, probe).top1();
    assertThat(top1).as("top-1 of the probe on its own 400 training images").isGreaterThan(0.6);
  }

  @Test
  void withSparkOnOnePartitionTheHeadIsTheInProcessOne() {
    LinearProbe.Probe probe = LinearProbe.fit(rows(images).coalesce(1), SPEC, ENCODER);
    assertThat(probe.images()).isEqualTo(400);
    assertThat(probe.weights()).as("the same sums in the same order as in process")
        .isEqualTo(LinearProbe.fit(SPEC, ENCODER, images));
  }

  @Test
  void onManyPartitionsTheHeadIsTheInProcessOneUpToTheOrderOfTheSums() {
    LinearProbe.Probe probe = LinearProbe.fit(rows(images).repartition(5), SPEC, ENCODER);
    assertThat(probe.images()).isEqualTo(400);
    String head = ENCODER.names().get(ENCODER.names().size() - 2);
    float[] expected = LinearProbe.fit(SPEC, ENCODER, images).values(head);
    float[] actual = probe.weights().values(head);
    for (int i = 0; i < expected.length; i++) {
      assertThat(actual[i]).as("head weight %d", i)
          .isCloseTo(expected[i], org.assertj.core.data.Offset.offset(1e-3f + 1e-3f * Math.abs(expected[i])));
    }
    assertThat(Evaluator.evaluate(images, SPEC, probe.weights()).top1()).isGreaterThan(0.6);
  }

  @Test
  void featuresTooBigForTheDriverAreFittedOnTheExecutorsWithTheSameArithmetic() {
    Dataset<Row> labeled = rows(images).repartition(5).cache();
    // Five partitions in groups of two: three group sums added on executors, then on the driver.
    int fanIn = 2;
    int iterations = 20;
    LinearProbe.Probe onExecutors = LinearProbe.fit(labeled, SPEC, ENCODER, fanIn, 0, iterations);
    LinearProbe.Probe onDriver = LinearProbe.fit(labeled, SPEC, ENCODER, fanIn, Long.MAX_VALUE, iterations);
    assertThat(onExecutors.images()).isEqualTo(400);
    assertThat(onExecutors.weights()).as("the same sums in the same groups and order").isEqualTo(onDriver.weights());
    labeled.unpersist();
  }

  @Test
  void chunkSumsAreAddedInGroupsOfConsecutiveChunks() {
    List<double[]> parts = List.of(new double[] {1e16}, new double[] {1}, new double[] {-1e16}, new double[] {1});
    // ((1e16 + 1) + (-1e16 + 1)) in doubles: the groups decide which ones are absorbed.
    assertThat(LinearProbe.addInGroups(parts, 2)[0]).isEqualTo((1e16 + 1) + (-1e16 + 1));
    assertThat(LinearProbe.addInGroups(parts, 4)[0]).isEqualTo(((1e16 + 1) + -1e16) + 1);
  }

  @Test
  void anUnlabeledImageIsNamed() {
    List<Row> rows = new ArrayList<>(rows(images).limit(20).collectAsList());
    rows.set(7, RowFactory.create("no-label-here", rows.get(7).get(1), null));
    Dataset<Row> labeled = spark.createDataFrame(rows, SCHEMA);
    assertThatThrownBy(() -> LinearProbe.fit(labeled, SPEC, ENCODER))
        .hasStackTraceContaining("image no-label-here has no label");
  }

  private static final StructType SCHEMA = new StructType()
      .add(ImageSchema.IMAGE_ID, DataTypes.StringType, false)
      .add(ImageSchema.IMAGE, DataTypes.BinaryType, false)
      .add(ImageSchema.LABEL, DataTypes.IntegerType, true);

  /** The images as prep writes them: id, PNG, label. */
  private static Dataset<Row> rows(ExampleShard images) {
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < images.size(); i++) {
      BufferedImage img = new BufferedImage(28, 28, BufferedImage.TYPE_BYTE_GRAY);
      img.getRaster().setDataElements(0, 0, 28, 28, images.pixels(i));
      ByteArrayOutputStream png = new ByteArrayOutputStream();
      try {
        ImageIO.write(img, "png", png);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      rows.add(RowFactory.create(images.id(i), png.toByteArray(), images.label(i)));
    }
    return spark.createDataFrame(rows, SCHEMA);
  }
}
