package org.semiweak.model;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.Initializer;
import java.util.ArrayList;
import java.util.List;

/**
 * Batched classification with one model on one device: softmax probabilities for many images.
 *
 * <p>Each batch runs in its own sub-{@link NDManager} that is closed right after, so memory stays
 * flat over billions of images. Not thread safe: open one per Spark task (or thread).
 *
 * <pre>{@code
 * try (Inference model = Inference.open(spec, weights)) {        // GPU of the task, else CPU
 *   float[][] probs = model.probabilitiesOfEncoded(pngs, ids);    // [n][numClasses]
 *   List<Inference.ClassProbability> top5 = Inference.topK(probs[0], 5);
 * }
 * }</pre>
 */
public final class Inference implements AutoCloseable {
  /** Upper bound of {@link #defaultBatchSize}. */
  public static final int MAX_DEFAULT_BATCH_SIZE = 256;

  /** Largest tensor size that stays fast on CPU: glibc's mmap threshold cannot exceed 32 MiB. */
  public static final long FAST_TENSOR_BYTES = 32L << 20;

  private final ModelSpec spec;
  private final Device device;
  private final int batchSize;
  private final NDManager manager;
  private final Block block;
  private final ParameterStore parameterStore;

  private Inference(ModelSpec spec, ModelWeights weights, Device device, int batchSize) {
    if (batchSize < 1) {
      throw new IllegalArgumentException("inference batch size must be >= 1, found " + batchSize);
    }
    this.spec = spec;
    this.device = device;
    this.batchSize = batchSize;
    this.manager = NDManager.newBaseManager(device);
    try {
      this.block = newInitializedBlock(spec, manager);
      weights.copyInto(block);
    } catch (RuntimeException e) {
      manager.close();
      throw e;
    }
    this.parameterStore = new ParameterStore(manager, false);
  }

  /** Opens the model on {@link Devices#forCurrentTask()} with {@link #defaultBatchSize}. */
  public static Inference open(ModelSpec spec, ModelWeights weights) {
    return open(spec, weights, Devices.forCurrentTask(), defaultBatchSize(spec));
  }

  /**
   * The largest batch (at most 256) whose biggest activation stays under 32 MiB: above that glibc
   * maps fresh pages for every batch and CPU inference gets several times slower (ResNet-18 at
   * 224 px: 24 images/s per core with batch 4-16, 5 with batch 64). E.g. 256 for 28 px models,
   * 10 for ResNet-18 at 224 px.
   */
  public static int defaultBatchSize(ModelSpec spec) {
    return (int) Math.max(1, Math.min(MAX_DEFAULT_BATCH_SIZE, FAST_TENSOR_BYTES / spec.activationBytesPerImage()));
  }

  /** Opens the model on {@code device}, running at most {@code batchSize} images per forward pass. */
  public static Inference open(ModelSpec spec, ModelWeights weights, Device device, int batchSize) {
    Engines.configure();
    return new Inference(spec, weights, device, batchSize);
  }

  /** Creates the spec's block and allocates its parameters (zeros) on {@code manager}'s device. */
  public static Block newInitializedBlock(ModelSpec spec, NDManager manager) {
    Engines.configure();
    Block block = spec.newBlock();
    block.setInitializer(Initializer.ZEROS, Parameter.Type.WEIGHT);
    block.initialize(manager, DataType.FLOAT32, spec.inputShape(1));
    return block;
  }

  public ModelSpec spec() {
    return spec;
  }

  public Device device() {
    return device;
  }

  /**
   * Probabilities for {@code count} images given as normalized CHW floats back to back in {@code
   * images} (as written by {@link ImageTensors#normalize}).
   */
  public float[][] probabilities(float[] images, int count) {
    return run(images, count, true);
  }

  /**
   * The raw outputs of the linear head (before softmax) for {@code count} normalized images, as
   * {@link #probabilities(float[], int)} takes them: what an exported model gives in PyTorch.
   */
  public float[][] logits(float[] images, int count) {
    return run(images, count, false);
  }

  /**
   * Probabilities and logits of one forward pass; the probabilities are exactly those of {@link
   * #probabilities(float[], int)}.
   */
  public Classifier.Outputs outputs(float[] images, int count) {
    float[][] logits = new float[count][];
    float[][] probs = new float[count][];
    int values = spec.imageValues();
    if (images.length < (long) count * values) {
      throw new IllegalArgumentException(
          "expected " + count + " images of " + values + " values, found " + images.length + " values");
    }
    for (int start = 0; start < count; start += batchSize) {
      int n = Math.min(batchSize, count - start);
      float[] batch = new float[n * values];
      System.arraycopy(images, start * values, batch, 0, n * values);
      try (NDManager batchManager = manager.newSubManager();
          NoGrad noGrad = NoGrad.enter()) {
        NDArray x = batchManager.create(batch, spec.inputShape(n));
        NDArray z = block.forward(parameterStore, new NDList(x), false).singletonOrThrow();
        rows(z.toFloatArray(), n, logits, start);
        rows(z.softmax(1).toFloatArray(), n, probs, start);
      }
    }
    return new Classifier.Outputs(probs, logits);
  }

  private void rows(float[] flat, int n, float[][] out, int offset) {
    int classes = spec.numClasses();
    for (int i = 0; i < n; i++) {
      float[] row = new float[classes];
      System.arraycopy(flat, i * classes, row, 0, classes);
      out[offset + i] = row;
    }
  }

  private float[][] run(float[] images, int count, boolean softmax) {
    int values = spec.imageValues();
    if (images.length < (long) count * values) {
      throw new IllegalArgumentException(
          "expected " + count + " images of " + values + " values, found " + images.length + " values");
    }
    float[][] out = new float[count][];
    for (int start = 0; start < count; start += batchSize) {
      int n = Math.min(batchSize, count - start);
      float[] batch = new float[n * values];
      System.arraycopy(images, start * values, batch, 0, n * values);
      forward(batch, n, out, start, softmax);
    }
    return out;
  }

  /** Probabilities for decoded images (unsigned CHW bytes from {@link ImageTensors#decodePixels}). */
  public float[][] probabilitiesOfPixels(List<byte[]> pixels) {
    int values = spec.imageValues();
    float[][] out = new float[pixels.size()][];
    for (int start = 0; start < pixels.size(); start += batchSize) {
      int n = Math.min(batchSize, pixels.size() - start);
      float[] batch = new float[n * values];
      for (int i = 0; i < n; i++) {
        byte[] p = pixels.get(start + i);
        if (p.length != values) {
          throw new IllegalArgumentException(
              "image " + (start + i) + " has " + p.length + " pixel values, expected " + values + " for " + spec);
        }
        ImageTensors.normalize(p, spec, batch, i * values);
      }
      forward(batch, n, out, start);
    }
    return out;
  }

  /**
   * Probabilities for encoded images (PNG/JPEG of the spec's size).
   *
   * @param imageIds one id per image, used in error messages
   */
  public float[][] probabilitiesOfEncoded(List<byte[]> encoded, List<String> imageIds) {
    if (encoded.size() != imageIds.size()) {
      throw new IllegalArgumentException(encoded.size() + " images but " + imageIds.size() + " ids");
    }
    int values = spec.imageValues();
    float[][] out = new float[encoded.size()][];
    for (int start = 0; start < encoded.size(); start += batchSize) {
      int n = Math.min(batchSize, encoded.size() - start);
      float[] batch = new float[n * values];
      for (int i = 0; i < n; i++) {
        byte[] pixels = ImageTensors.decodePixels(encoded.get(start + i), spec, imageIds.get(start + i));
        ImageTensors.normalize(pixels, spec, batch, i * values);
      }
      forward(batch, n, out, start);
    }
    return out;
  }

  private void forward(float[] batch, int n, float[][] out, int offset) {
    forward(batch, n, out, offset, true);
  }

  private void forward(float[] batch, int n, float[][] out, int offset, boolean softmax) {
    try (NDManager batchManager = manager.newSubManager();
        NoGrad noGrad = NoGrad.enter()) {
      NDArray x = batchManager.create(batch, spec.inputShape(n));
      NDArray logits = block.forward(parameterStore, new NDList(x), false).singletonOrThrow();
      float[] probs = (softmax ? logits.softmax(1) : logits).toFloatArray();
      int classes = spec.numClasses();
      for (int i = 0; i < n; i++) {
        float[] row = new float[classes];
        System.arraycopy(probs, i * classes, row, 0, classes);
        out[offset + i] = row;
      }
    }
  }

  /** A class index and its probability. */
  public record ClassProbability(int classIndex, float probability) {}

  /**
   * The {@code k} most probable classes, most probable first; equal probabilities are ordered by
   * class index ascending, so the result is deterministic.
   */
  public static List<ClassProbability> topK(float[] probabilities, int k) {
    int[] best = topKIndices(probabilities, k);
    List<ClassProbability> out = new ArrayList<>(best.length);
    for (int c : best) {
      out.add(new ClassProbability(c, probabilities[c]));
    }
    return out;
  }

  /** Class indices of {@link #topK}: at most {@code k}, most probable first, ties by index. */
  public static int[] topKIndices(float[] probabilities, int k) {
    if (k < 0) {
      throw new IllegalArgumentException("k must be >= 0, found " + k);
    }
    int m = Math.min(k, probabilities.length);
    int[] best = new int[m];
    int filled = 0;
    for (int c = 0; c < probabilities.length; c++) {
      float p = probabilities[c];
      // Insertion into a short sorted list: strictly greater moves ahead, so ties keep index order.
      int pos = filled;
      while (pos > 0 && p > probabilities[best[pos - 1]]) {
        pos--;
      }
      if (pos >= m) {
        continue;
      }
      int end = Math.min(filled, m - 1);
      System.arraycopy(best, pos, best, pos + 1, end - pos);
      best[pos] = c;
      if (filled < m) {
        filled++;
      }
    }
    return best;
  }

  @Override
  public void close() {
    manager.close();
  }
}
