package org.semiweak.model;

import ai.djl.Device;
import ai.djl.MalformedModelException;
import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * A user's TorchScript classifier run through DJL's PyTorch engine.
 *
 * <p>A TorchScript file is code that libtorch executes: it is trusted input. semiweak records its
 * SHA-256 when the teacher is imported and refuses to score with a file whose checksum changed.
 */
public final class TorchScriptClassifier implements Classifier {
  private final Model model;
  private final ModelSpec format;
  private final boolean outputsProbabilities;
  private final ParameterStore parameterStore;

  private TorchScriptClassifier(Model model, ModelSpec format, boolean outputsProbabilities) {
    this.model = model;
    this.format = format;
    this.outputsProbabilities = outputsProbabilities;
    this.parameterStore = new ParameterStore(model.getNDManager(), false);
  }

  /**
   * Loads a TorchScript file from the local disk.
   *
   * @param format the input format (channels, size, normalization) and the class count
   * @throws IllegalArgumentException when the file is not a TorchScript model
   */
  public static TorchScriptClassifier load(Path file, ModelSpec format, boolean outputsProbabilities, Device device) {
    Engines.configure();
    if (!Files.isRegularFile(file)) {
      throw new IllegalArgumentException("TorchScript file " + file + " does not exist");
    }
    Model model = Model.newInstance("teacher", device, "PyTorch");
    try {
      String name = file.getFileName().toString().replaceFirst("\\.pt$", "");
      model.load(file.getParent(), name, Map.of("mapLocation", "true"));
    } catch (IOException | MalformedModelException | RuntimeException e) {
      model.close();
      throw new IllegalArgumentException("cannot load " + file + " as a TorchScript model: " + e.getMessage()
          + " (semiweak needs a file saved with torch.jit.save of a traced or scripted module)", e);
    }
    return new TorchScriptClassifier(model, format, outputsProbabilities);
  }

  /**
   * Runs four probe images (zeros, ones, minus ones, fixed noise) through the model: refuses a model
   * that rejects the input shape, returns another class count, or gives anything but finite
   * probabilities summing to 1 (a NaN teacher would otherwise be imported, scored and selected from).
   */
  public void checkOnProbeImages() {
    String[] probes = {"all zeros", "all ones", "all minus ones", "a fixed pseudo-random image"};
    int values = format.imageValues();
    float[] batch = new float[probes.length * values];
    java.util.Arrays.fill(batch, values, 2 * values, 1f);
    java.util.Arrays.fill(batch, 2 * values, 3 * values, -1f);
    java.util.SplittableRandom random = new java.util.SplittableRandom(20190520L);
    for (int i = 3 * values; i < batch.length; i++) {
      batch[i] = (float) (random.nextDouble() * 4 - 2);
    }
    float[][] p;
    try {
      p = probabilities(batch, probes.length);
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("the TorchScript teacher does not accept input of shape "
          + format.inputShape(probes.length) + " (batch, channels, height, width): " + firstLine(e.getMessage()), e);
    }
    if (p.length != probes.length || p[0].length != format.numClasses()) {
      throw new IllegalArgumentException("the TorchScript teacher returns " + (p.length == 0 ? 0 : p[0].length)
          + " values per image for input " + format.inputShape(probes.length) + ", expected " + format.numClasses()
          + " (one per class of the vocabulary)");
    }
    for (int i = 0; i < p.length; i++) {
      double sum = 0;
      for (int c = 0; c < p[i].length; c++) {
        float v = p[i][c];
        if (!Float.isFinite(v) || v < 0 || v > 1.0001f) {
          throw new IllegalArgumentException("the TorchScript teacher's output is not a probability on a probe image ("
              + probes[i] + "): class " + c + " gets " + v + (outputsProbabilities
                  ? "; if the model returns logits, import it with outputs: logits" : "")
              + ". A teacher must give finite class probabilities for every image.");
        }
        sum += v;
      }
      if (Math.abs(sum - 1) > 1e-3) {
        throw new IllegalArgumentException("the TorchScript teacher's probabilities on a probe image (" + probes[i]
            + ") sum to " + sum + ", not 1; if the model returns logits, import it with outputs: logits");
      }
    }
  }

  private static String firstLine(String s) {
    if (s == null) {
      return "";
    }
    int nl = s.indexOf('\n');
    return nl < 0 ? s : s.substring(0, nl);
  }

  @Override
  public float[][] probabilities(float[] images, int count) {
    return forward(images, count, false).probabilities();
  }

  /**
   * Probabilities and logits of one forward pass: a model that outputs logits gives them as they
   * are; one that outputs probabilities gives their logarithm (logits up to a per-image constant).
   */
  @Override
  public Outputs outputs(float[] images, int count) {
    return forward(images, count, true);
  }

  private Outputs forward(float[] images, int count, boolean withLogits) {
    int values = format.imageValues();
    try (NDManager batch = model.getNDManager().newSubManager();
        NoGrad noGrad = NoGrad.enter()) {
      float[] slice = images.length == (long) count * values ? images : java.util.Arrays.copyOf(images, count * values);
      NDArray x = batch.create(slice, format.inputShape(count));
      NDArray out = model.getBlock().forward(parameterStore, new NDList(x), false).get(0);
      Shape shape = out.getShape();
      if (shape.dimension() != 2 || shape.get(0) != count) {
        throw new IllegalArgumentException("the TorchScript teacher returned shape " + shape + " for a batch of "
            + count + ", expected (" + count + ", classes)");
      }
      int classes = (int) shape.get(1);
      float[] flat = (outputsProbabilities ? out : out.softmax(1)).toFloatArray();
      float[][] rows = new float[count][classes];
      for (int i = 0; i < count; i++) {
        System.arraycopy(flat, i * classes, rows[i], 0, classes);
      }
      if (!withLogits) {
        return new Outputs(rows, null);
      }
      float[] flatLogits = (outputsProbabilities ? out.log() : out).toFloatArray();
      float[][] logits = new float[count][classes];
      for (int i = 0; i < count; i++) {
        System.arraycopy(flatLogits, i * classes, logits[i], 0, classes);
      }
      return new Outputs(rows, logits);
    }
  }

  @Override
  public void close() {
    model.close();
  }
}
