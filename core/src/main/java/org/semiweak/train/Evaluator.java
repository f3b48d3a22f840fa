package org.semiweak.train;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.SparkContext;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.DataTypes;
import org.semiweak.data.ImageSchema;
import org.semiweak.model.Classifier;
import org.semiweak.model.ImageTensors;
import org.semiweak.model.Inference;
import org.semiweak.model.ModelSpec;
import org.semiweak.model.ModelWeights;
import org.semiweak.model.StageModel;
import org.semiweak.run.JavaSerialized;

/**
 * Measures a model on labeled images: top-1 and top-5 accuracy, per-class accuracy and the
 * confusion matrix.
 *
 * <pre>{@code
 * Evaluator.Evaluation e = Evaluator.evaluate(testRows, spec, weights);   // Spark, batched
 * System.out.printf("top-1 %.3f, top-5 %.3f on %d images%n", e.top1(), e.top5(), e.count());
 * }</pre>
 */
public final class Evaluator {
  private Evaluator() {}

  /**
   * Evaluates on rows with {@code image_id}, {@code image}, {@code label}, with {@link
   * Inference#defaultBatchSize}.
   */
  public static Evaluation evaluate(Dataset<Row> rows, ModelSpec spec, ModelWeights weights) {
    return evaluate(rows, spec, weights, Inference.defaultBatchSize(spec));
  }

  /**
   * Evaluates on rows with {@code image_id} (string), {@code image} (binary), {@code label} (int):
   * one Spark task per partition runs batched inference on its device.
   *
   * @throws IllegalArgumentException if a column is missing or mistyped (before any job runs)
   * @throws org.apache.spark.SparkException wrapping the first bad row (missing or out-of-range
   *     label, undecodable image), naming its image_id
   */
  public static Evaluation evaluate(Dataset<Row> rows, ModelSpec spec, ModelWeights weights, int batchSize) {
    return evaluate(rows, StageModel.of(spec.toString(), spec, weights), batchSize);
  }

  /**
   * Evaluates any model a stage committed (a semiweak ResNet or a TorchScript teacher) on rows with
   * {@code image_id}, {@code image}, {@code label}: one Spark task per partition opens the model on
   * its device and runs batched inference.
   */
  public static Evaluation evaluate(Dataset<Row> rows, StageModel model, int batchSize) {
    DistributedTrainer.require(rows.schema(), ImageSchema.IMAGE_ID, DataTypes.StringType);
    DistributedTrainer.require(rows.schema(), ImageSchema.IMAGE, DataTypes.BinaryType);
    DistributedTrainer.require(rows.schema(), ImageSchema.LABEL, DataTypes.IntegerType);
    ModelSpec spec = model.spec();
    SparkContext sc = rows.sparkSession().sparkContext();
    String previousDescription = sc.getLocalProperty("spark.job.description");
    Broadcast<JavaSerialized<StageModel>> shipped = JavaSparkContext.fromSparkContext(sc).broadcast(JavaSerialized.of(model));
    try {
      sc.setJobDescription("evaluate " + model.stage() + " (batch " + batchSize + ")");
      return rows.select(ImageSchema.IMAGE_ID, ImageSchema.IMAGE, ImageSchema.LABEL)
          .javaRDD()
          .mapPartitions((Iterator<Row> it) -> {
            Counts counts = new Counts(spec.numClasses());
            if (!it.hasNext()) {
              return Collections.singletonList(counts.toEvaluation()).iterator();
            }
            int values = spec.imageValues();
            try (Classifier classifier = shipped.value().get().open(org.semiweak.model.Devices.forCurrentTask(), batchSize)) {
              float[] batch = new float[batchSize * values];
              int[] labels = new int[batchSize];
              int n = 0;
              while (it.hasNext()) {
                Row r = it.next();
                String id = r.getString(0);
                Integer label = r.isNullAt(2) ? null : r.getInt(2);
                labels[n] = counts.checkLabel(id, label);
                ImageTensors.normalize(ImageTensors.decodePixels((byte[]) r.get(1), spec, id), spec, batch, n * values);
                n++;
                if (n == batchSize || !it.hasNext()) {
                  float[][] probs = classifier.probabilities(batch, n);
                  for (int i = 0; i < n; i++) {
                    counts.add(labels[i], probs[i]);
                  }
                  n = 0;
                }
              }
            }
            return Collections.singletonList(counts.toEvaluation()).iterator();
          })
          .fold(new Evaluation(spec.numClasses(), 0, 0, 0, new long[spec.numClasses()][spec.numClasses()]),
              Evaluation::merge);
    } finally {
      shipped.destroy();
      sc.setJobDescription(previousDescription);
    }
  }

  /** Evaluates in this process on already decoded examples (e.g. a small test set on the driver). */
  public static Evaluation evaluate(ExampleShard examples, ModelSpec spec, ModelWeights weights) {
    Counts counts = new Counts(spec.numClasses());
    try (Inference model = Inference.open(spec, weights)) {
      int batch = Inference.defaultBatchSize(spec);
      for (int start = 0; start < examples.size(); start += batch) {
        int n = Math.min(batch, examples.size() - start);
        List<byte[]> pixels = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
          pixels.add(examples.pixelsView(start + i));
        }
        float[][] probs = model.probabilitiesOfPixels(pixels);
        for (int i = 0; i < n; i++) {
          counts.add(counts.checkLabel(examples.id(start + i), examples.label(start + i)), probs[i]);
        }
      }
    }
    return counts.toEvaluation();
  }

  /** Mutable tallies of one task. */
  private static final class Counts {
    private final int classes;
    private final long[][] confusion;
    private long top1;
    private long top5;
    private long count;

    Counts(int classes) {
      this.classes = classes;
      this.confusion = new long[classes][classes];
    }

    int checkLabel(String id, Integer label) {
      if (label == null) {
        throw new IllegalArgumentException("image " + id + " has no label; evaluation needs labeled images");
      }
      if (label < 0 || label >= classes) {
        throw new IllegalArgumentException("image " + id + " has label " + label + ", expected 0.." + (classes - 1));
      }
      return label;
    }

    void add(int label, float[] probs) {
      int[] best = Inference.topKIndices(probs, 5);
      confusion[label][best[0]]++;
      count++;
      if (best[0] == label) {
        top1++;
      }
      for (int c : best) {
        if (c == label) {
          top5++;
          break;
        }
      }
    }

    Evaluation toEvaluation() {
      return new Evaluation(classes, count, top1, top5, confusion);
    }
  }

  /**
   * Immutable result of an evaluation; JSON-serializable (stored counts plus derived accuracies).
   * Top-5 means "label among the 5 most probable classes" (all classes when there are fewer).
   */
  @JsonPropertyOrder(alphabetic = true)
  public static final class Evaluation implements Serializable {
    private static final long serialVersionUID = 1L;
    private final int numClasses;
    private final long count;
    private final long top1Correct;
    private final long top5Correct;
    private final long[][] confusion;

    @JsonCreator
    public Evaluation(
        @JsonProperty("numClasses") int numClasses,
        @JsonProperty("count") long count,
        @JsonProperty("top1Correct") long top1Correct,
        @JsonProperty("top5Correct") long top5Correct,
        @JsonProperty("confusion") long[][] confusion) {
      this.numClasses = numClasses;
      this.count = count;
      this.top1Correct = top1Correct;
      this.top5Correct = top5Correct;
      this.confusion = new long[numClasses][];
      for (int i = 0; i < numClasses; i++) {
        this.confusion[i] = confusion[i].clone();
      }
    }

    /** Sums two evaluations of the same model on disjoint images. */
    public Evaluation merge(Evaluation other) {
      if (other.numClasses != numClasses) {
        throw new IllegalArgumentException("cannot merge evaluations of " + numClasses + " and " + other.numClasses + " classes");
      }
      long[][] sum = new long[numClasses][numClasses];
      for (int i = 0; i < numClasses; i++) {
        for (int j = 0; j < numClasses; j++) {
          sum[i][j] = confusion[i][j] + other.confusion[i][j];
        }
      }
      return new Evaluation(numClasses, count + other.count, top1Correct + other.top1Correct,
          top5Correct + other.top5Correct, sum);
    }

    @JsonProperty("numClasses") public int numClasses() { return numClasses; }
    /** Number of images evaluated. */
    @JsonProperty("count") public long count() { return count; }
    @JsonProperty("top1Correct") public long top1Correct() { return top1Correct; }
    @JsonProperty("top5Correct") public long top5Correct() { return top5Correct; }

    /** A copy of the confusion matrix: {@code [true class][predicted class]} image counts. */
    @JsonProperty("confusion")
    public long[][] confusion() {
      long[][] c = new long[numClasses][];
      for (int i = 0; i < numClasses; i++) {
        c[i] = confusion[i].clone();
      }
      return c;
    }

    /** Top-1 accuracy in [0, 1]; NaN when no image was evaluated. */
    @JsonProperty(value = "top1", access = JsonProperty.Access.READ_ONLY)
    public double top1() {
      return count == 0 ? Double.NaN : (double) top1Correct / count;
    }

    /** Top-5 accuracy in [0, 1]; NaN when no image was evaluated. */
    @JsonProperty(value = "top5", access = JsonProperty.Access.READ_ONLY)
    public double top5() {
      return count == 0 ? Double.NaN : (double) top5Correct / count;
    }

    /** Images per true class. */
    public long[] classCounts() {
      long[] n = new long[numClasses];
      for (int i = 0; i < numClasses; i++) {
        for (long v : confusion[i]) {
          n[i] += v;
        }
      }
      return n;
    }

    /** Top-1 accuracy per true class; NaN for a class without images. */
    @JsonProperty(value = "perClassAccuracy", access = JsonProperty.Access.READ_ONLY)
    public double[] perClassAccuracy() {
      long[] n = classCounts();
      double[] acc = new double[numClasses];
      for (int i = 0; i < numClasses; i++) {
        acc[i] = n[i] == 0 ? Double.NaN : (double) confusion[i][i] / n[i];
      }
      return acc;
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Evaluation e && e.numClasses == numClasses && e.count == count
          && e.top1Correct == top1Correct && e.top5Correct == top5Correct
          && java.util.Arrays.deepEquals(e.confusion, confusion);
    }

    @Override
    public int hashCode() {
      return java.util.Arrays.deepHashCode(confusion);
    }

    @Override
    public String toString() {
      return String.format(java.util.Locale.ROOT, "Evaluation(%d images, top-1 %.4f, top-5 %.4f)", count, top1(), top5());
    }
  }
}
