package org.semiweak.bench;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.semiweak.data.ScoreSchema;
import org.semiweak.util.SeededRandom;
import scala.jdk.javaapi.CollectionConverters;

/**
 * Writes synthetic teacher scores ({@link ScoreSchema}) as Parquet: N images, each with its top-P
 * classes out of C, with skewed probabilities like a real teacher's.
 *
 * <p>Shape of the data, chosen to look like softmax outputs of a trained classifier:
 *
 * <ul>
 *   <li>class popularity is Zipf-like (weight {@code 1/(c+1)^0.7}), so some classes have many more
 *       candidates than others and a few have fewer than K;
 *   <li>the image's "true" class gets probability {@code u^(1/4)} (mean 0.8, a few percent above
 *       0.99), the other P-1 classes share 90% of the rest with exponentially decaying weights, and
 *       are mostly near the true class (confusable neighbours) or random;
 *   <li>entries are ordered by probability descending, ties by class ascending.
 * </ul>
 *
 * <p>Every value is a pure function of (seed, image index), so the data do not depend on the
 * partitioning that wrote them.
 */
public final class SyntheticScoreData {
  private SyntheticScoreData() {}

  /** Writes {@code images} rows into {@code files} Parquet files under {@code path} (overwriting). */
  public static void write(SparkSession spark, String path, long images, int numClasses, int p, int files,
      long seed) {
    if (p > numClasses) {
      throw new IllegalArgumentException("p=" + p + " exceeds numClasses=" + numClasses);
    }
    double[] cdf = popularity(numClasses);
    MapPartitionsFunction<Long, Row> rows = ids -> new Iterator<>() {
      @Override
      public boolean hasNext() {
        return ids.hasNext();
      }

      @Override
      public Row next() {
        return row(ids.next(), numClasses, p, seed, cdf);
      }
    };
    Dataset<Row> scores = spark.range(0, images, 1, files).mapPartitions(rows, Encoders.row(ScoreSchema.SCHEMA));
    spark.sparkContext().setJobDescription("bench: write " + images + " synthetic score rows (" + numClasses
        + " classes, top-" + p + ")");
    try {
      scores.write().mode(SaveMode.Overwrite).parquet(path);
    } finally {
      spark.sparkContext().setJobDescription(null);
    }
  }

  static double[] popularity(int numClasses) {
    double[] cdf = new double[numClasses];
    double total = 0;
    for (int c = 0; c < numClasses; c++) {
      total += Math.pow(c + 1, -0.7);
      cdf[c] = total;
    }
    for (int c = 0; c < numClasses; c++) {
      cdf[c] /= total;
    }
    return cdf;
  }

  static Row row(long image, int numClasses, int p, long seed, double[] cdf) {
    int trueClass = Math.min(numClasses - 1, Math.abs(Arrays.binarySearch(cdf, unit(seed, image, 0)) + 1));
    int[] classes = new int[p];
    double[] probs = new double[p];
    classes[0] = trueClass;
    probs[0] = Math.pow(unit(seed, image, 1), 0.25);
    double[] weights = new double[p];
    double weightSum = 0;
    for (int j = 1; j < p; j++) {
      int c;
      int attempt = 0;
      do {
        double u = unit(seed, image, 100 + 7L * j + attempt);
        c = u < 0.6
            ? Math.floorMod(trueClass + (int) Math.round((u / 0.6 - 0.5) * 50) + attempt, numClasses)
            : (int) ((u - 0.6) / 0.4 * numClasses) % numClasses;
        attempt++;
      } while (contains(classes, j, c));
      classes[j] = c;
      weights[j] = -Math.log(1 - unit(seed, image, 2000 + j));
      weightSum += weights[j];
    }
    double rest = (1 - probs[0]) * 0.9;
    for (int j = 1; j < p; j++) {
      probs[j] = weightSum == 0 ? 0 : rest * weights[j] / weightSum;
    }
    Integer[] order = new Integer[p];
    float[] asFloat = new float[p];
    for (int j = 0; j < p; j++) {
      order[j] = j;
      asFloat[j] = (float) probs[j];
    }
    Arrays.sort(order, (a, b) -> asFloat[a] != asFloat[b] ? Float.compare(asFloat[b], asFloat[a])
        : Integer.compare(classes[a], classes[b]));
    List<Integer> sortedClasses = new ArrayList<>(p);
    List<Float> sortedProbs = new ArrayList<>(p);
    for (int j = 0; j < p; j++) {
      sortedClasses.add(classes[order[j]]);
      sortedProbs.add(asFloat[order[j]]);
    }
    List<Integer> tags = new ArrayList<>();
    if (unit(seed, image, 3) < 0.6) {
      tags.add(trueClass);
    }
    int extraTags = (int) (unit(seed, image, 4) * 3);
    for (int t = 0; t < extraTags; t++) {
      int c = (int) (unit(seed, image, 5 + t) * numClasses) % numClasses;
      if (!tags.contains(c)) {
        tags.add(c);
      }
    }
    tags.sort(null);
    // Encoders.row serializes arrays from Scala sequences.
    return RowFactory.create(String.format("img-%010d", image), CollectionConverters.asScala(sortedClasses).toSeq(),
        CollectionConverters.asScala(sortedProbs).toSeq(), CollectionConverters.asScala(tags).toSeq(), null,
        "bench-synthetic");
  }

  private static boolean contains(int[] values, int length, int value) {
    for (int i = 0; i < length; i++) {
      if (values[i] == value) {
        return true;
      }
    }
    return false;
  }

  private static double unit(long seed, long image, long key) {
    return SeededRandom.unit(SeededRandom.hash(seed, image, key));
  }
}
