package org.semiweak.train;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import org.semiweak.model.ModelWeights;
import scala.Tuple2;

/**
 * The averaging step of a distributed round, done on the executors so that the driver never holds
 * more than one copy of the model: every worker cuts its new weights and momentum buffers (one
 * flat sequence: the weight tensors, then the state tensors, in order) into the same {@code S}
 * contiguous slices; one task per slice sums the workers' pieces in worker order, in double
 * precision, and divides, which is {@link ModelWeights#average}'s arithmetic element by element,
 * so the result is the same bit for bit whatever the cluster; the driver collects the {@code S}
 * averaged slices and puts the snapshot back together.
 *
 * <p>Slices are at most {@link #SLICE_BYTES} per worker, so that no single task result or shuffle
 * record is large (Kryo's default {@code spark.kryoserializer.buffer.max} is 64 MiB).
 */
final class SlicedAverage {
  /** Largest piece of one worker's values in one slice. */
  static final long SLICE_BYTES = 16L << 20;

  private SlicedAverage() {}

  /**
   * How many slices a round of {@code workers} workers cuts a model of {@code weightValues} values
   * into: at least one per worker, and enough that a worker's piece of weights plus momentum
   * buffers (as many values again) stays within {@link #SLICE_BYTES}.
   */
  static int slices(long weightValues, int workers) {
    long bytes = 2 * weightValues * Float.BYTES;
    return (int) Math.max(workers, Math.min(Integer.MAX_VALUE, (bytes + SLICE_BYTES - 1) / SLICE_BYTES));
  }

  /** Start of slice {@code s} of {@code slices} over {@code total} values; {@code s = slices} gives the end. */
  static long start(long total, int slices, int s) {
    return total / slices * s + Math.min(s, total % slices);
  }

  /** Names and shapes of the weights and of the optimizer state: what a flat index means. */
  static final class Layout implements Serializable {
    private static final long serialVersionUID = 1L;
    final String[] weightNames;
    final long[][] weightShapes;
    final String[] stateNames;
    final long[][] stateShapes;

    Layout(ModelWeights weights, ModelWeights state) {
      weightNames = weights.names().toArray(new String[0]);
      weightShapes = Arrays.stream(weightNames).map(weights::shape).toArray(long[][]::new);
      stateNames = state.names().toArray(new String[0]);
      stateShapes = Arrays.stream(stateNames).map(state::shape).toArray(long[][]::new);
    }

    boolean sameAs(Layout o) {
      return Arrays.equals(weightNames, o.weightNames) && Arrays.deepEquals(weightShapes, o.weightShapes)
          && Arrays.equals(stateNames, o.stateNames) && Arrays.deepEquals(stateShapes, o.stateShapes);
    }

    @Override
    public String toString() {
      return weightNames.length + " weight tensors, " + stateNames.length + " state tensors";
    }
  }

  /**
   * One worker's values of one slice ({@code values} null for a worker without images, whose
   * outcome does not count). The worker's loss, images classified right, image count and layout
   * travel with slice 0.
   */
  static final class Piece implements Serializable {
    private static final long serialVersionUID = 2L;
    final int worker;
    final long examples;
    final double lossSum;
    final long correct;
    final float[] values;
    final Layout layout;

    Piece(int worker, long examples, double lossSum, long correct, float[] values, Layout layout) {
      this.worker = worker;
      this.examples = examples;
      this.lossSum = lossSum;
      this.correct = correct;
      this.values = values;
      this.layout = layout;
    }
  }

  /**
   * A slice averaged over the workers that trained. Slice 0 also carries the layout and every
   * worker's image count, loss and images classified right, in worker order.
   */
  static final class AveragedSlice implements Serializable {
    private static final long serialVersionUID = 2L;
    final int slice;
    final float[] values;
    final Layout layout;
    final long[] examples;
    final double[] lossSums;
    final long[] corrects;

    AveragedSlice(int slice, float[] values, Layout layout, long[] examples, double[] lossSums, long[] corrects) {
      this.slice = slice;
      this.values = values;
      this.layout = layout;
      this.examples = examples;
      this.lossSums = lossSums;
      this.corrects = corrects;
    }
  }

  /** Cuts one worker's outcome into its pieces, keyed by slice (on the executor that trained it). */
  static List<Tuple2<Integer, Piece>> cut(int worker, LocalTrainingOutcome o, int slices) {
    List<Tuple2<Integer, Piece>> out = new ArrayList<>(slices);
    if (o.examples() == 0) {
      // Its outcome is its input (round 1: no momentum yet), left out of the mean: only its count travels.
      out.add(new Tuple2<>(0, new Piece(worker, 0, 0, 0, null, null)));
      return out;
    }
    long weightCount = o.weights().valueCount();
    long total = weightCount + o.optimizerState().valueCount();
    for (int s = 0; s < slices; s++) {
      long from = start(total, slices, s);
      long to = start(total, slices, s + 1);
      float[] values = new float[(int) (to - from)];
      if (from < weightCount) {
        int n = (int) (Math.min(to, weightCount) - from);
        o.weights().copyFlat(from, values, 0, n);
      }
      if (to > weightCount) {
        long stateFrom = Math.max(from, weightCount);
        o.optimizerState().copyFlat(stateFrom - weightCount, values, (int) (stateFrom - from), (int) (to - stateFrom));
      }
      out.add(new Tuple2<>(s, new Piece(worker, o.examples(), o.lossSum(), o.correct(), values,
          s == 0 ? new Layout(o.weights(), o.optimizerState()) : null)));
    }
    return out;
  }

  /**
   * The mean of one slice over the workers that trained: summed in worker order in double
   * precision, then divided, as {@link ModelWeights#average} does (on the executor).
   */
  static AveragedSlice average(int slice, Iterable<Piece> pieces) {
    List<Piece> sorted = new ArrayList<>();
    pieces.forEach(sorted::add);
    sorted.sort(Comparator.comparingInt(p -> p.worker));
    List<Piece> trained = sorted.stream().filter(p -> p.values != null).toList();
    Layout layout = null;
    for (Piece p : trained) {
      if (slice == 0 && layout != null && !layout.sameAs(p.layout)) {
        throw new IllegalStateException("worker " + p.worker + " returned " + p.layout + " of other names or shapes"
            + " than worker " + trained.get(0).worker + " (" + layout + ")");
      }
      layout = layout == null ? p.layout : layout;
    }
    float[] mean = null;
    if (!trained.isEmpty()) {
      int n = trained.get(0).values.length;
      double[] sum = new double[n];
      for (Piece p : trained) {
        if (p.values.length != n) {
          throw new IllegalStateException("worker " + p.worker + " sent " + p.values.length + " values for slice "
              + slice + ", worker " + trained.get(0).worker + " sent " + n);
        }
        for (int j = 0; j < n; j++) {
          sum[j] += p.values[j];
        }
      }
      mean = new float[n];
      for (int j = 0; j < n; j++) {
        mean[j] = (float) (sum[j] / trained.size());
      }
    }
    long[] examples = slice == 0 ? sorted.stream().mapToLong(p -> p.examples).toArray() : null;
    double[] losses = slice == 0 ? sorted.stream().mapToDouble(p -> p.lossSum).toArray() : null;
    long[] corrects = slice == 0 ? sorted.stream().mapToLong(p -> p.correct).toArray() : null;
    return new AveragedSlice(slice, mean, layout, examples, losses, corrects);
  }

  /**
   * Puts the averaged slices back together (on the driver).
   *
   * @throws IllegalStateException when a slice or a worker is missing, or no worker had images
   */
  static RoundOutcome assemble(List<AveragedSlice> averaged, int slices, int workers, String round) {
    AveragedSlice[] bySlice = new AveragedSlice[slices];
    for (AveragedSlice a : averaged) {
      bySlice[a.slice] = a;
    }
    AveragedSlice first = bySlice[0];
    if (first == null || first.examples.length != workers) {
      throw new IllegalStateException(round + " returned the outcomes of "
          + (first == null ? 0 : first.examples.length) + " workers for " + workers);
    }
    double lossSum = 0;
    long correct = 0;
    long examples = 0;
    for (int w = 0; w < workers; w++) {
      if (first.examples[w] > 0) {
        lossSum += first.lossSums[w];
        correct += first.corrects[w];
        examples += first.examples[w];
      }
    }
    if (first.layout == null) {
      throw RoundOutcome.noImages(round);
    }
    Layout layout = first.layout;
    float[][] weights = allocate(layout.weightShapes);
    float[][] state = allocate(layout.stateShapes);
    long total = count(weights) + count(state);
    Filler filler = new Filler(weights, state);
    for (int s = 0; s < slices; s++) {
      AveragedSlice a = bySlice[s];
      long expected = start(total, slices, s + 1) - start(total, slices, s);
      if (a == null || a.values == null || a.values.length != expected) {
        throw new IllegalStateException(round + ": slice " + s + " of the averaged model is missing or has "
            + (a == null || a.values == null ? 0 : a.values.length) + " values instead of " + expected);
      }
      filler.append(a.values);
    }
    return new RoundOutcome(build(layout.weightNames, layout.weightShapes, weights),
        build(layout.stateNames, layout.stateShapes, state), lossSum, correct, examples);
  }

  private static float[][] allocate(long[][] shapes) {
    float[][] out = new float[shapes.length][];
    for (int i = 0; i < shapes.length; i++) {
      long n = 1;
      for (long d : shapes[i]) {
        n *= d;
      }
      out[i] = new float[Math.toIntExact(n)];
    }
    return out;
  }

  private static long count(float[][] tensors) {
    long n = 0;
    for (float[] t : tensors) {
      n += t.length;
    }
    return n;
  }

  private static ModelWeights build(String[] names, long[][] shapes, float[][] values) {
    ModelWeights.Builder b = ModelWeights.builder();
    for (int i = 0; i < names.length; i++) {
      b.addOwned(names[i], shapes[i], values[i]);
    }
    return b.build();
  }

  /** Writes consecutive runs of values into the weight tensors, then the state tensors. */
  private static final class Filler {
    private final float[][] tensors;
    private int tensor;
    private int offset;

    Filler(float[][] weights, float[][] state) {
      tensors = new float[weights.length + state.length][];
      System.arraycopy(weights, 0, tensors, 0, weights.length);
      System.arraycopy(state, 0, tensors, weights.length, state.length);
    }

    void append(float[] values) {
      int at = 0;
      while (at < values.length) {
        while (offset == tensors[tensor].length) {
          tensor++;
          offset = 0;
        }
        int n = Math.min(values.length - at, tensors[tensor].length - offset);
        System.arraycopy(values, at, tensors[tensor], offset, n);
        at += n;
        offset += n;
      }
    }
  }
}
