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
  private final byte[][] pixels;

  private ExampleShard(int imageValues, String[] ids, int[] labels, byte[][] pixels) {
    this.imageValues = imageValues;
    this.ids = ids;
    this.labels = labels;
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

    /** Adds decoded unsigned CHW pixels (copied). */
    public Builder addPixels(String imageId, byte[] chwPixels, Integer label) {
      checkLabel(imageId, label);
      if (chwPixels.length != spec.imageValues()) {
        throw new IllegalArgumentException("image " + imageId + " has " + chwPixels.length
            + " pixel values, expected " + spec.imageValues() + " for " + spec);
      }
      return addDecoded(imageId, chwPixels.clone(), label);
    }

    /** Adds a row with columns {@code image_id} (string), {@code image} (binary), {@code label} (int). */
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
      return add(id, image, label);
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
      byte[][] sortedPixels = new byte[order.length][];
      for (int i = 0; i < order.length; i++) {
        sortedIds[i] = ids.get(order[i]);
        sortedLabels[i] = labels.get(order[i]);
        sortedPixels[i] = pixels.get(order[i]);
        if (i > 0 && sortedIds[i].equals(sortedIds[i - 1])) {
          throw new IllegalArgumentException("image_id " + sortedIds[i] + " appears more than once; training"
              + " images need unique ids (data-prep assigns them)");
        }
      }
      return new ExampleShard(spec.imageValues(), sortedIds, sortedLabels, sortedPixels);
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
