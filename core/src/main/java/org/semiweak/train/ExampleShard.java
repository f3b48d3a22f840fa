package org.semiweak.train;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import org.apache.spark.sql.Row;
import org.semiweak.data.ImageSchema;
import org.semiweak.model.ImageTensors;
import org.semiweak.model.ModelSpec;
import org.semiweak.util.SeededRandom;

/**
 * One worker's training data, decoded once: image ids, labels and pixels, sorted by image id.
 *
 * <p>An image may have several target classes (e.g. the classes of its weak tags): it then trains
 * against all of them, each with weight 1/k (a soft target, as hashtag pretraining does); its
 * {@link #label} is the first. An image may instead have a target distribution over every class
 * (e.g. a teacher's softened probabilities, for distillation: column {@link #DISTRIBUTION}); it then
 * trains against it. A shard whose images all have one class trains with hard labels.
 *
 * <p>Pixels are kept as unsigned CHW bytes (4x smaller than floats) and normalized per batch. The
 * order (by image id) and the assignment of images to workers ({@link #workerOf}) depend only on
 * the ids, so a shard is the same however the input was partitioned or retried.
 *
 * <pre>{@code
 * ExampleShard.Builder b = ExampleShard.builder(spec);
 * b.add("img-1", pngBytes, 3);
 * ExampleShard shard = b.build();
 * }</pre>
 */
public final class ExampleShard implements Serializable {
  private static final long serialVersionUID = 1L;

  private final int imageValues;
  private final String[] ids;
  private final int[] labels;
  /** Per image, its target classes when some image of the shard has several; null when none has. */
  private final int[][] targets;
  /** Per image, its target distribution (null for an image without one); null when no image has one. */
  private final float[][] distributions;
  private final byte[][] pixels;
  /** Per image, whether it is in the labeled pool of joint training; null when none is. */
  private final boolean[] labeledPool;

  private ExampleShard(int imageValues, String[] ids, int[] labels, int[][] targets, float[][] distributions,
      byte[][] pixels, boolean[] labeledPool) {
    this.labeledPool = labeledPool;
    this.imageValues = imageValues;
    this.ids = ids;
    this.labels = labels;
    this.targets = targets;
    this.distributions = distributions;
    this.pixels = pixels;
  }

  /** The worker (0-based) that trains on {@code imageId}: a stable hash of the id. */
  public static int workerOf(String imageId, int workers) {
    return (int) Math.floorMod(SeededRandom.hash(0x5eed, imageId), (long) workers);
  }

  /**
   * Splits rows with columns {@code image_id}, {@code image}, {@code label} into {@code workers}
   * shards by {@link #workerOf}, exactly as {@link DistributedTrainer} does.
   */
  public static List<ExampleShard> partition(Iterable<Row> rows, ModelSpec spec, int workers) {
    List<Builder> builders = new ArrayList<>();
    for (int w = 0; w < workers; w++) {
      builders.add(builder(spec));
    }
    for (Row row : rows) {
      String id = row.getAs(ImageSchema.IMAGE_ID);
      builders.get(workerOf(id, workers)).addRow(row);
    }
    List<ExampleShard> shards = new ArrayList<>();
    for (Builder b : builders) {
      shards.add(b.build());
    }
    return shards;
  }

  public static Builder builder(ModelSpec spec) {
    return new Builder(spec);
  }

  /** Decodes images as they are added; {@link #build()} sorts by id and rejects duplicate ids. */
  public static final class Builder {
    private final ModelSpec spec;
    private final List<String> ids = new ArrayList<>();
    private final List<byte[]> pixels = new ArrayList<>();
    private final List<Integer> labels = new ArrayList<>();
    private final List<int[]> targets = new ArrayList<>();
    private final List<float[]> distributions = new ArrayList<>();
    private final List<Boolean> inLabeledPool = new ArrayList<>();
    private boolean anySeveral;
    private boolean anyLabeledPool;
    private boolean anyDistribution;

    private Builder(ModelSpec spec) {
      this.spec = spec;
    }

    /**
     * Adds an encoded image (PNG/JPEG of the spec's size).
     *
     * @throws IllegalArgumentException naming the image if it cannot be decoded, has the wrong
     *     size, or its label is missing or outside {@code 0..numClasses-1}
     */
    public Builder add(String imageId, byte[] encoded, Integer label) {
      checkLabel(imageId, label);
      return addDecoded(imageId, ImageTensors.decodePixels(encoded, spec, imageId), label);
    }

    /**
     * Adds an encoded image that trains against each of {@code classes} with weight 1/k (distinct,
     * in {@code 0..numClasses-1}, at least one); its label is the first.
     */
    public Builder add(String imageId, byte[] encoded, int[] classes) {
      checkTargets(imageId, classes);
      addDecoded(imageId, ImageTensors.decodePixels(encoded, spec, imageId), classes[0]);
      targets.set(targets.size() - 1, classes.clone());
      anySeveral |= classes.length > 1;
      return this;
    }

    /**
     * Adds an encoded image that trains against the distribution {@code probabilities} (one
     * non-negative value per class, summing to 1 within 1e-3); its label (a hard class for the
     * statistics) must be one of the model's classes.
     */
    public Builder add(String imageId, byte[] encoded, Integer label, float[] probabilities) {
      checkLabel(imageId, label);
      checkDistribution(imageId, probabilities);
      addDecoded(imageId, ImageTensors.decodePixels(encoded, spec, imageId), label);
      distributions.set(distributions.size() - 1, probabilities.clone());
      anyDistribution = true;
      return this;
    }

    private void checkDistribution(String imageId, float[] q) {
      if (q == null || q.length != spec.numClasses()) {
        throw new IllegalArgumentException("image " + imageId + " has a target distribution of "
            + (q == null ? "no" : String.valueOf(q.length)) + " values, expected one per class ("
            + spec.numClasses() + ")");
      }
      double sum = 0;
      for (float v : q) {
        if (!Float.isFinite(v) || v < 0) {
          throw new IllegalArgumentException("image " + imageId + " has a target probability " + v
              + ": a target distribution holds finite, non-negative values");
        }
        sum += v;
      }
      if (Math.abs(sum - 1) > 1e-3) {
        throw new IllegalArgumentException("image " + imageId + "'s target distribution sums to " + sum + ", not 1");
      }
    }

    /** Adds decoded unsigned CHW pixels (copied). */
    public Builder addPixels(String imageId, byte[] chwPixels, Integer label) {
      checkLabel(imageId, label);
      if (chwPixels.length != spec.imageValues()) {
        throw new IllegalArgumentException("image " + imageId + " has " + chwPixels.length
            + " pixel values, expected " + spec.imageValues() + " for " + spec);
      }
      return addDecoded(imageId, chwPixels.clone(), label);
    }

    /**
     * Adds a row with columns {@code image_id} (string), {@code image} (binary), {@code label} (int)
     * and, optionally, {@code labels} (array of int: several target classes, see {@link #add(String,
     * byte[], int[])}), which then takes precedence, or {@code target_probs} (array of float: a target
     * distribution, see {@link #add(String, byte[], Integer, float[])}), which takes precedence over both.
     */
    public Builder addRow(Row row) {
      String id;
      byte[] image;
      Integer label;
      try {
        id = row.getAs(ImageSchema.IMAGE_ID);
        image = row.getAs(ImageSchema.IMAGE);
        label = row.getAs(ImageSchema.LABEL);
      } catch (IllegalArgumentException | UnsupportedOperationException e) {
        throw new IllegalArgumentException("training rows need columns image_id (string), image (binary) and"
            + " label (int); found " + (row.schema() == null ? "a row without schema" : row.schema().simpleString()), e);
      }
      float[] distribution = distributionOf(row);
      int[] classes = distribution != null ? null : targetsOf(row);
      if (distribution != null) {
        add(id, image, label, distribution);
      } else if (classes != null) {
        add(id, image, classes);
      } else {
        add(id, image, label);
      }
      if (labeledPoolOf(row)) {
        markLabeledPool();
      }
      return this;
    }

    /** Puts the image added last into the labeled pool of joint training ({@link #LABELED_POOL}). */
    public Builder markLabeledPool() {
      inLabeledPool.set(inLabeledPool.size() - 1, true);
      anyLabeledPool = true;
      return this;
    }

    private void checkTargets(String imageId, int[] classes) {
      if (classes == null || classes.length == 0) {
        throw new IllegalArgumentException("image " + imageId + " has no target class");
      }
      for (int i = 0; i < classes.length; i++) {
        checkLabel(imageId, classes[i]);
        for (int j = 0; j < i; j++) {
          if (classes[j] == classes[i]) {
            throw new IllegalArgumentException("image " + imageId + " lists class " + classes[i] + " twice among its"
                + " targets " + Arrays.toString(classes));
          }
        }
      }
    }

    private void checkLabel(String imageId, Integer label) {
      if (imageId == null) {
        throw new IllegalArgumentException("an image has no image_id; every training image needs a unique id");
      }
      if (label == null) {
        throw new IllegalArgumentException("image " + imageId + " has no label; training needs labeled images"
            + " (filter unlabeled rows or use the selected pseudo-labels)");
      }
      if (label < 0 || label >= spec.numClasses()) {
        throw new IllegalArgumentException("image " + imageId + " has label " + label + ", expected 0.."
            + (spec.numClasses() - 1) + " for a " + spec.numClasses() + "-class model");
      }
    }

    private Builder addDecoded(String imageId, byte[] px, int label) {
      ids.add(imageId);
      pixels.add(px);
      labels.add(label);
      targets.add(null);
      distributions.add(null);
      inLabeledPool.add(false);
      return this;
    }

    public ExampleShard build() {
      Integer[] order = new Integer[ids.size()];
      for (int i = 0; i < order.length; i++) {
        order[i] = i;
      }
      Arrays.sort(order, Comparator.comparing(ids::get));
      String[] sortedIds = new String[order.length];
      int[] sortedLabels = new int[order.length];
      int[][] sortedTargets = anySeveral ? new int[order.length][] : null;
      float[][] sortedDistributions = anyDistribution ? new float[order.length][] : null;
      byte[][] sortedPixels = new byte[order.length][];
      boolean[] sortedPool = anyLabeledPool ? new boolean[order.length] : null;
      for (int i = 0; i < order.length; i++) {
        if (sortedPool != null) {
          sortedPool[i] = inLabeledPool.get(order[i]);
        }
        sortedIds[i] = ids.get(order[i]);
        sortedLabels[i] = labels.get(order[i]);
        if (sortedTargets != null) {
          int[] t = targets.get(order[i]);
          sortedTargets[i] = t == null ? new int[] {sortedLabels[i]} : t;
        }
        if (sortedDistributions != null) {
          sortedDistributions[i] = distributions.get(order[i]);
        }
        sortedPixels[i] = pixels.get(order[i]);
        if (i > 0 && sortedIds[i].equals(sortedIds[i - 1])) {
          throw new IllegalArgumentException("image_id " + sortedIds[i] + " appears more than once; training"
              + " images need unique ids (data-prep assigns them)");
        }
      }
      return new ExampleShard(spec.imageValues(), sortedIds, sortedLabels, sortedTargets, sortedDistributions,
          sortedPixels, sortedPool);
    }
  }

  public int size() {
    return ids.length;
  }

  /** Values per image ({@code channels x size x size}). */
  public int imageValues() {
    return imageValues;
  }

  public String id(int i) {
    return ids[i];
  }

  public int label(int i) {
    return labels[i];
  }

  /**
   * Whether some image has several target classes or a target distribution: the shard then trains
   * with soft targets ({@link #softTarget}).
   */
  public boolean hasSoftTargets() {
    return targets != null || distributions != null;
  }

  /**
   * Writes image {@code i}'s target distribution over {@code classes} classes into {@code out} from
   * {@code offset}: its distribution when it has one, else 1/k on each of its k target classes.
   */
  public void softTarget(int i, float[] out, int offset, int classes) {
    float[] q = distributions == null ? null : distributions[i];
    if (q != null) {
      System.arraycopy(q, 0, out, offset, classes);
      return;
    }
    Arrays.fill(out, offset, offset + classes, 0f);
    int[] t = targets == null ? new int[] {labels[i]} : targets[i];
    for (int c : t) {
      out[offset + c] = 1f / t.length;
    }
  }

  /**
   * The indices of the images in the labeled pool of joint training ({@code labeled}), or of the
   * others, in shard order.
   */
  public int[] poolIndices(boolean labeled) {
    int[] out = new int[ids.length];
    int n = 0;
    for (int i = 0; i < ids.length; i++) {
      if ((labeledPool != null && labeledPool[i]) == labeled) {
        out[n++] = i;
      }
    }
    return Arrays.copyOf(out, n);
  }

  /** Image {@code i}'s target classes (its label alone when it has one). */
  public int[] targets(int i) {
    return targets == null ? new int[] {labels[i]} : targets[i].clone();
  }

  /** The optional {@code labels} column of a training row: its classes, or null when absent or null. */
  static int[] targetsOf(Row row) {
    // Called for every training row: the schema's index lookup is a map, not a scan of the field names.
    scala.Option<Object> index = row.schema() == null ? scala.Option.empty() : row.schema().getFieldIndex(TARGETS);
    if (index.isEmpty() || row.isNullAt((Integer) index.get())) {
      return null;
    }
    List<Integer> list = row.getList((Integer) index.get());
    return list.stream().mapToInt(Integer::intValue).toArray();
  }

  /** The optional training column of several target classes per image (array of int). */
  public static final String TARGETS = "labels";

  /**
   * The optional training column of a target distribution per image (array of float, one value per
   * class, summing to 1; null for an image without one): e.g. a teacher's softened probabilities.
   */
  public static final String DISTRIBUTION = "target_probs";

  /**
   * The optional training column (boolean) that puts an image in the labeled pool of joint training:
   * with {@link TrainOptions#labeledPerBatch()} {@code r > 0}, every batch takes {@code r} images from
   * that pool and the rest from the others, each pool walked in its own seeded epochs (Noisy
   * Student's fixed ratio of labeled to pseudo-labeled images per batch).
   */
  public static final String LABELED_POOL = "labeled_pool";

  static boolean labeledPoolOf(Row row) {
    scala.Option<Object> index = row.schema() == null ? scala.Option.empty()
        : row.schema().getFieldIndex(LABELED_POOL);
    return !index.isEmpty() && !row.isNullAt((Integer) index.get()) && row.getBoolean((Integer) index.get());
  }

  /** The optional {@link #DISTRIBUTION} column of a training row, or null when absent or null. */
  static float[] distributionOf(Row row) {
    scala.Option<Object> index = row.schema() == null ? scala.Option.empty()
        : row.schema().getFieldIndex(DISTRIBUTION);
    if (index.isEmpty() || row.isNullAt((Integer) index.get())) {
      return null;
    }
    List<Float> list = row.getList((Integer) index.get());
    float[] q = new float[list.size()];
    for (int c = 0; c < q.length; c++) {
      Float v = list.get(c);
      q[c] = v == null ? Float.NaN : v;
    }
    return q;
  }

  /** A copy of image {@code i}'s unsigned CHW pixels. */
  public byte[] pixels(int i) {
    return pixels[i].clone();
  }

  /** Image {@code i}'s pixels without copying; callers must not modify them. */
  byte[] pixelsView(int i) {
    return pixels[i];
  }

  /** Number of images per class (labels {@code 0..numClasses-1}). */
  public long[] classCounts(int numClasses) {
    long[] counts = new long[numClasses];
    for (int l : labels) {
      counts[l]++;
    }
    return counts;
  }

  @Override
  public String toString() {
    return "ExampleShard(" + ids.length + " images)";
  }
}
