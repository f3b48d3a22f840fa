package org.semiweak.train;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.storage.StorageLevel;
import org.semiweak.data.ImageSchema;
import org.semiweak.model.Devices;
import org.semiweak.model.ImageTensors;
import org.semiweak.model.Inference;
import org.semiweak.model.ModelSpec;
import org.semiweak.model.ModelWeights;
import org.semiweak.run.JavaSerialized;
import scala.Tuple2;

/**
 * Linear evaluation of an encoder, the measure self-supervised methods report: the encoder frozen,
 * only a linear classifier on its pooled features trained on the labeled images. The classifier is
 * multinomial logistic regression on features standardized by the labeled images' mean and standard
 * deviation, fitted by full-batch gradient descent with L2 regularization. The result is the spec's
 * classifier with that head, so it is evaluated like any other model.
 *
 * <p>With Spark ({@link #fit(Dataset, ModelSpec, ModelWeights)}) the features are computed where the
 * images are, one chunk per partition, and kept there. Every pass of the fit (mean, deviation, each
 * of the 500 gradient steps) sums per-chunk vectors in partition order, in groups of {@link #FAN_IN}
 * partitions. Features of at most {@link #DRIVER_FEATURE_BYTES} are collected and the passes run on
 * the driver; above, each pass is a Spark job over the cached chunks and the driver holds vectors of
 * the head's size only. Both placements do the same arithmetic in the same order, so the head is a
 * deterministic function of the encoder and the images as partitioned. In process ({@link
 * #fit(ModelSpec, ModelWeights, ExampleShard)}) the images are one chunk, as on one partition.
 */
public final class LinearProbe {
  private LinearProbe() {}

  static final int ITERATIONS = 500;
  static final double STEP = 0.5;
  static final double L2 = 1e-4;
  /**
   * Chunk sums above this many partitions are added on executors in groups of this many first, so
   * that the driver receives at most this many vectors per pass (a 1000-class head on 2048 features
   * is 16 MB per vector).
   */
  static final int FAN_IN = 32;
  /**
   * The most feature bytes the fit collects to the driver (128 MiB: 260,000 images of 128 features,
   * 16,000 of 2048); above, each pass of the fit is a Spark job over the cached features.
   */
  static final long DRIVER_FEATURE_BYTES = 128L << 20;
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(LinearProbe.class);

  /** A fitted probe: the encoder with its new head, and the number of labeled images it was fitted on. */
  public record Probe(ModelWeights weights, long images) {}

  /**
   * {@code encoder}'s weights (a classifier of {@code spec}, whose head is ignored) with a new head
   * fitted on the frozen features of {@code labeled}'s images (columns {@code image_id}, {@code
   * image}, {@code label}), computed on the executors.
   *
   * @throws IllegalArgumentException if {@code labeled} has no rows or lacks a column
   * @throws org.apache.spark.SparkException wrapping the first bad row (no label, a label out of
   *     range, an undecodable image), naming its image_id
   */
  public static Probe fit(Dataset<Row> labeled, ModelSpec spec, ModelWeights encoder) {
    return fit(labeled, spec, encoder, FAN_IN, DRIVER_FEATURE_BYTES, ITERATIONS);
  }

  static Probe fit(Dataset<Row> labeled, ModelSpec spec, ModelWeights encoder, int fanIn, long driverFeatureBytes,
      int iterations) {
    DistributedTrainer.require(labeled.schema(), ImageSchema.IMAGE_ID, DataTypes.StringType);
    DistributedTrainer.require(labeled.schema(), ImageSchema.IMAGE, DataTypes.BinaryType);
    DistributedTrainer.require(labeled.schema(), ImageSchema.LABEL, DataTypes.IntegerType);
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(labeled.sparkSession().sparkContext());
    ModelSpec featureSpec = featureSpec(spec);
    Broadcast<JavaSerialized<ModelWeights>> shipped = jsc.broadcast(JavaSerialized.of(identityHead(spec, encoder)));
    JavaRDD<Chunk> chunks = labeled.select(ImageSchema.IMAGE_ID, ImageSchema.IMAGE, ImageSchema.LABEL).javaRDD()
        .mapPartitions((Iterator<Row> rows) -> Collections.singletonList(
            features(rows, featureSpec, spec, shipped.value().get())).iterator())
        .persist(StorageLevel.MEMORY_AND_DISK());
    try {
      long images = chunks.map(c -> (long) c.labels.length).fold(0L, Long::sum);
      long featureBytes = images * featureWidth(spec) * Float.BYTES;
      Chunks placed;
      if (featureBytes <= driverFeatureBytes) {
        // Small enough to hold: every pass of the fit would otherwise be a Spark job (500 of them).
        LOG.info("linear evaluation: fitting on the driver on the features of {} labeled images ({} KiB, at most {} KiB)",
            images, featureBytes >> 10, driverFeatureBytes >> 10);
        List<Chunk> local = chunks.collect();
        placed = (shared, f) -> {
          List<double[]> parts = new ArrayList<>(local.size());
          local.forEach(c -> parts.add(f.apply(c, shared)));
          return addInGroups(parts, fanIn);
        };
      } else {
        LOG.info("linear evaluation: fitting on the executors, the features of {} labeled images ({} MiB, more than"
            + " {} MiB) kept in {} partitions: {} passes, one Spark job each", images, featureBytes >> 20,
            driverFeatureBytes >> 20, chunks.getNumPartitions(), iterations + 2);
        placed = new SparkChunks(jsc, chunks, fanIn);
      }
      return fit(spec, encoder, placed, iterations);
    } finally {
      chunks.unpersist(false);
      shipped.destroy();
    }
  }

  /**
   * As {@link #fit(Dataset, ModelSpec, ModelWeights)}, in this process on already decoded images
   * (small sets, tests).
   */
  public static ModelWeights fit(ModelSpec spec, ModelWeights encoder, ExampleShard labeled) {
    ModelSpec featureSpec = featureSpec(spec);
    ModelWeights identity = identityHead(spec, encoder);
    int values = spec.imageValues();
    float[] batch = new float[labeled.size() * values];
    int[] labels = new int[labeled.size()];
    for (int i = 0; i < labeled.size(); i++) {
      ImageTensors.normalize(labeled.pixelsView(i), spec, batch, i * values);
      labels[i] = checkLabel(labeled.id(i), labeled.label(i), spec.numClasses());
    }
    float[][] features;
    try (Inference model = Inference.open(featureSpec, identity)) {
      features = labeled.size() == 0 ? new float[0][] : model.logits(batch, labeled.size());
    }
    Chunk all = new Chunk(features, labels);
    return fit(spec, encoder, (shared, f) -> f.apply(all, shared), ITERATIONS).weights();
  }

  /** The fit on any placement of the chunks: standardization, gradient descent, the head folded in. */
  private static Probe fit(ModelSpec spec, ModelWeights encoder, Chunks chunks, int iterations) {
    int width = featureWidth(spec);
    int classes = spec.numClasses();
    // Pass 1: the count and the sum of each feature (count last).
    double[] sums = chunks.sum(new double[0], (c, none) -> {
      double[] s = new double[width + 1];
      for (float[] f : c.features) {
        for (int d = 0; d < width; d++) {
          s[d] += f[d];
        }
      }
      s[width] = c.labels.length;
      return s;
    });
    long n = (long) sums[width];
    if (n == 0) {
      throw new IllegalArgumentException("linear evaluation needs labeled images");
    }
    double[] mean = new double[width];
    for (int d = 0; d < width; d++) {
      mean[d] = sums[d] / n;
    }
    // Pass 2: squared deviations from the mean (two passes: no cancellation of a one-pass variance).
    double[] deviations = chunks.sum(mean, (c, m) -> {
      double[] s = new double[width];
      for (float[] f : c.features) {
        for (int d = 0; d < width; d++) {
          s[d] += (f[d] - m[d]) * (f[d] - m[d]);
        }
      }
      return s;
    });
    double[] std = new double[width];
    for (int d = 0; d < width; d++) {
      std[d] = Math.sqrt(deviations[d] / n) + 1e-6;
    }
    double[][] w = new double[classes][width];
    double[] b = new double[classes];
    logisticRegression(chunks, n, mean, std, w, b, iterations);
    // Fold the standardization into the head: w (f - mean) / std + b = (w / std) f + (b - w mean / std).
    float[] headWeight = new float[classes * width];
    float[] headBias = new float[classes];
    for (int c = 0; c < classes; c++) {
      double shift = b[c];
      for (int d = 0; d < width; d++) {
        headWeight[c * width + d] = (float) (w[c][d] / std[d]);
        shift -= w[c][d] * mean[d] / std[d];
      }
      headBias[c] = (float) shift;
    }
    return new Probe(withHead(encoder, classes, width, headWeight, headBias), n);
  }

  /**
   * Multinomial logistic regression of the standardized features {@code (f - mean) / std} by
   * full-batch gradient descent on mean cross-entropy + L2/2 |w|^2, from {@code w} and {@code b}.
   */
  private static void logisticRegression(Chunks chunks, long n, double[] mean, double[] std, double[][] w, double[] b,
      int iterations) {
    int classes = w.length;
    int width = mean.length;
    // What each step ships: mean, std, then w row by row, then b.
    double[] shared = new double[2 * width + classes * width + classes];
    System.arraycopy(mean, 0, shared, 0, width);
    System.arraycopy(std, 0, shared, width, width);
    for (int it = 0; it < iterations; it++) {
      for (int c = 0; c < classes; c++) {
        System.arraycopy(w[c], 0, shared, 2 * width + c * width, width);
      }
      System.arraycopy(b, 0, shared, 2 * width + classes * width, classes);
      // The gradient's sums: w's row by row, then b's.
      double[] g = chunks.sum(shared, (chunk, s) -> gradientSums(chunk, s, classes, width));
      for (int c = 0; c < classes; c++) {
        b[c] -= STEP * g[classes * width + c] / n;
        for (int d = 0; d < width; d++) {
          w[c][d] -= STEP * (g[c * width + d] / n + L2 * w[c][d]);
        }
      }
    }
  }

  /** {@link #logisticRegression} on features taken as already standardized (mean 0, std 1), in process. */
  static void logisticRegression(float[][] features, int[] labels, double[][] w, double[] b) {
    Chunk all = new Chunk(features, labels);
    double[] ones = new double[w[0].length];
    java.util.Arrays.fill(ones, 1);
    logisticRegression((shared, f) -> f.apply(all, shared), features.length, new double[ones.length], ones, w, b,
        ITERATIONS);
  }

  /** One chunk's sums of the cross-entropy gradient, at the parameters packed in {@code shared}. */
  static double[] gradientSums(Chunk chunk, double[] shared, int classes, int width) {
    int wAt = 2 * width;
    int bAt = wAt + classes * width;
    double[] g = new double[classes * width + classes];
    double[] x = new double[width];
    double[] p = new double[classes];
    for (int i = 0; i < chunk.labels.length; i++) {
      float[] f = chunk.features[i];
      for (int d = 0; d < width; d++) {
        x[d] = (f[d] - shared[d]) / shared[width + d];
      }
      double max = Double.NEGATIVE_INFINITY;
      for (int c = 0; c < classes; c++) {
        double z = shared[bAt + c];
        for (int d = 0; d < width; d++) {
          z += shared[wAt + c * width + d] * x[d];
        }
        p[c] = z;
        max = Math.max(max, z);
      }
      double sum = 0;
      for (int c = 0; c < classes; c++) {
        p[c] = Math.exp(p[c] - max);
        sum += p[c];
      }
      for (int c = 0; c < classes; c++) {
        double gc = p[c] / sum - (c == chunk.labels[i] ? 1 : 0);
        g[classes * width + c] += gc;
        for (int d = 0; d < width; d++) {
          g[c * width + d] += gc * x[d];
        }
      }
    }
    return g;
  }

  /**
   * The pooled features of one partition's images and their labels: the logits of the encoder with
   * an identity head ({@code features x features}, bias 0), which are its features.
   */
  private static Chunk features(Iterator<Row> rows, ModelSpec featureSpec, ModelSpec spec, ModelWeights identity) {
    List<float[]> features = new ArrayList<>();
    List<Integer> labels = new ArrayList<>();
    if (rows.hasNext()) {
      int batchSize = Inference.defaultBatchSize(featureSpec);
      int values = spec.imageValues();
      float[] batch = new float[batchSize * values];
      try (Inference model = Inference.open(featureSpec, identity, Devices.forCurrentTask(), batchSize)) {
        int n = 0;
        while (rows.hasNext()) {
          Row r = rows.next();
          String id = r.getString(0);
          labels.add(checkLabel(id, r.isNullAt(2) ? null : r.getInt(2), spec.numClasses()));
          ImageTensors.normalize(ImageTensors.decodePixels((byte[]) r.get(1), spec, id), spec, batch, n * values);
          n++;
          if (n == batchSize || !rows.hasNext()) {
            Collections.addAll(features, model.logits(batch, n));
            n = 0;
          }
        }
      }
    }
    return new Chunk(features.toArray(new float[0][]), labels.stream().mapToInt(Integer::intValue).toArray());
  }

  private static int checkLabel(String imageId, Integer label, int classes) {
    if (label == null) {
      throw new IllegalArgumentException("image " + imageId + " has no label; linear evaluation needs labeled images");
    }
    if (label < 0 || label >= classes) {
      throw new IllegalArgumentException("image " + imageId + " has label " + label + ", expected 0.." + (classes - 1));
    }
    return label;
  }

  private static int featureWidth(ModelSpec spec) {
    int[] widths = spec.stageWidths();
    return widths[widths.length - 1];
  }

  /** The spec whose "logits" are the encoder's pooled features. */
  private static ModelSpec featureSpec(ModelSpec spec) {
    return spec.withNumClasses(featureWidth(spec));
  }

  /** The encoder's weights with an identity head, so that its logits are its features. */
  private static ModelWeights identityHead(ModelSpec spec, ModelWeights encoder) {
    int width = featureWidth(spec);
    float[] eye = new float[width * width];
    for (int d = 0; d < width; d++) {
      eye[d * width + d] = 1;
    }
    return withHead(encoder, width, width, eye, new float[width]);
  }

  /**
   * {@code encoder}'s tensors but its last two (the classifier, the network's only linear layer),
   * then a linear head of {@code outputs x width} weights and {@code outputs} biases.
   */
  private static ModelWeights withHead(ModelWeights encoder, int outputs, int width, float[] weight, float[] bias) {
    ModelWeights.Builder out = ModelWeights.builder();
    List<String> names = encoder.names();
    for (int i = 0; i < names.size() - 2; i++) {
      out.addOwned(names.get(i), encoder.shape(names.get(i)), encoder.values(names.get(i)));
    }
    out.addOwned(names.get(names.size() - 2), new long[] {outputs, width}, weight);
    out.addOwned(names.get(names.size() - 1), new long[] {outputs}, bias);
    return out.build();
  }

  /**
   * One partition's features and labels. A plain class, not a record: Spark's Kryo serializes it
   * when the chunk is spilled to disk, and Kryo cannot serialize records.
   */
  static final class Chunk implements Serializable {
    private static final long serialVersionUID = 1L;
    final float[][] features;
    final int[] labels;

    Chunk(float[][] features, int[] labels) {
      this.features = features;
      this.labels = labels;
    }
  }

  /** A per-chunk vector of the fit, computed from the chunk and the pass's shared values. */
  @FunctionalInterface
  interface ChunkVector extends Serializable {
    double[] apply(Chunk chunk, double[] shared);
  }

  /** Where the chunks are: the elementwise sum of a per-chunk vector over all chunks, in chunk order. */
  @FunctionalInterface
  private interface Chunks {
    double[] sum(double[] shared, ChunkVector f);
  }

  /**
   * Chunks cached in Spark, one per partition. Each pass broadcasts its shared values and adds the
   * chunks' vectors in partition order; above {@code fanIn} partitions, groups of {@code fanIn}
   * consecutive partitions are first added on executors (each group in partition order), then the
   * groups in order on the driver. The same partitions give the same sums on every run.
   */
  private record SparkChunks(JavaSparkContext jsc, JavaRDD<Chunk> chunks, int fanIn) implements Chunks {
    @Override
    public double[] sum(double[] shared, ChunkVector f) {
      Broadcast<double[]> values = jsc.broadcast(shared);
      try {
        int partitions = chunks.getNumPartitions();
        if (partitions <= fanIn) {
          return addInGroups(chunks.map(c -> f.apply(c, values.value())).collect(), fanIn);
        } else {
          int groups = (partitions + fanIn - 1) / fanIn;
          int groupSize = fanIn;
          JavaPairRDD<Integer, Tuple2<Integer, double[]>> keyed = chunks.mapPartitionsWithIndex((i, it) -> {
            List<Tuple2<Integer, Tuple2<Integer, double[]>>> out = new ArrayList<>(1);
            while (it.hasNext()) {
              out.add(new Tuple2<>(i / groupSize, new Tuple2<>(i, f.apply(it.next(), values.value()))));
            }
            return out.iterator();
          }, true).mapToPair(t -> t);
          List<Tuple2<Integer, double[]>> groupSums = new ArrayList<>(keyed.groupByKey(groups)
              .mapValues(members -> {
                List<Tuple2<Integer, double[]>> ordered = new ArrayList<>();
                members.forEach(ordered::add);
                ordered.sort((a, z) -> Integer.compare(a._1(), z._1()));
                List<double[]> vectors = new ArrayList<>(ordered.size());
                ordered.forEach(t -> vectors.add(t._2()));
                return addInOrder(vectors);
              }).collect());
          groupSums.sort((a, z) -> Integer.compare(a._1(), z._1()));
          List<double[]> parts = new ArrayList<>(groupSums.size());
          groupSums.forEach(t -> parts.add(t._2()));
          return addInOrder(parts);
        }
      } finally {
        values.destroy();
      }
    }
  }

  /**
   * The elementwise sum of {@code vectors}: each run of {@code fanIn} consecutive vectors added first
   * to last, then those sums first to last; the arithmetic of {@link SparkChunks}, wherever the
   * chunks are.
   */
  static double[] addInGroups(List<double[]> vectors, int fanIn) {
    if (vectors.size() <= fanIn) {
      return addInOrder(vectors);
    }
    List<double[]> groups = new ArrayList<>();
    for (int from = 0; from < vectors.size(); from += fanIn) {
      groups.add(addInOrder(vectors.subList(from, Math.min(vectors.size(), from + fanIn))));
    }
    return addInOrder(groups);
  }

  /** The elementwise sum of {@code vectors}, added first to last. */
  static double[] addInOrder(List<double[]> vectors) {
    double[] sum = vectors.get(0).clone();
    for (int v = 1; v < vectors.size(); v++) {
      double[] x = vectors.get(v);
      for (int i = 0; i < sum.length; i++) {
        sum[i] += x[i];
      }
    }
    return sum;
  }
}
