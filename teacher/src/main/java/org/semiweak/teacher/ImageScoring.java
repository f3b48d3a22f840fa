package org.semiweak.teacher;

import ai.djl.Device;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import org.semiweak.model.Classifier;
import org.semiweak.model.Devices;
import org.semiweak.model.ImageTensors;
import org.semiweak.model.Inference;
import org.semiweak.model.ModelSpec;
import org.semiweak.model.StageModel;
import scala.collection.JavaConverters;

/**
 * Scores encoded images with a model inside one Spark task: what the {@code score} stage ({@link
 * ScoreImages}) and the library's {@code org.semiweak.api.ImageScorer} both run, so that the two give
 * the same classes and probabilities for the same image.
 *
 * <p>The model comes from the executor JVM's cache ({@link ExecutorModels}: deserialized once per JVM
 * and model); the classifier opened from it lives as long as this object, one task, on the GPU
 * Spark assigned to the task if any. An image is decoded and normalized as its model expects
 * ({@link ImageTensors}), scored in batches, and kept as its top-P classes by probability
 * descending, ties by class index ({@link Inference#topK}).
 *
 * <pre>{@code
 * try (ImageScoring scoring = ImageScoring.openForTask(model.fingerprint(), () -> broadcast.value().get(), 256)) {
 *   for (ImageScoring.Scored s : scoring.score(ids, pngs, 10, false)) { ... }
 * }
 * }</pre>
 */
public final class ImageScoring implements AutoCloseable {
  /** The reason of an image whose scores are NaN or infinite, after its id. */
  public static final String NON_FINITE = ": the teacher's scores are NaN or infinite";

  /** Why an image has no scores. */
  public enum Rejection {
    /** No bytes, or bytes that are not an image the model can read (not PNG/JPEG, wrong size ...). */
    UNDECODABLE,
    /** The model gave NaN or infinite probabilities or logits. */
    NON_FINITE
  }

  /**
   * One image's outcome: its top classes and their probabilities (and every logit, when asked for),
   * or, when {@link #rejection()} is not null, none of them and a {@link #reason()} that starts with
   * the image's id.
   */
  public record Scored(String imageId, int[] classes, float[] probs, float[] logits, Rejection rejection,
      String reason) {
    public boolean isScored() {
      return rejection == null;
    }
  }

  private final ModelSpec spec;
  private final Classifier classifier;
  private final boolean loadedModelNow;
  private final int batchSize;

  private ImageScoring(ModelSpec spec, Classifier classifier, boolean loadedModelNow, int batchSize) {
    this.spec = spec;
    this.classifier = classifier;
    this.loadedModelNow = loadedModelNow;
    this.batchSize = batchSize;
  }

  /**
   * Opens the model for the current task: taken from this JVM's cache under {@code fingerprint},
   * which {@code model} (e.g. a broadcast's {@code value}) fills on the first call in the JVM.
   *
   * @param batchSize images per forward pass; 0 = {@link StageModel#defaultBatchSize} for the task's device
   */
  public static ImageScoring openForTask(String fingerprint, Supplier<StageModel> model, int batchSize) {
    ExecutorModels.Cached cached = ExecutorModels.get(fingerprint, model);
    StageModel m = cached.model();
    Device device = Devices.forCurrentTask();
    int batch = batchSize > 0 ? batchSize : m.defaultBatchSize(device);
    return new ImageScoring(m.spec(), m.open(device, batch), cached.loadedNow(), batch);
  }

  /** Whether opening this task's scoring loaded the model into the JVM (false: another task had). */
  public boolean loadedModelNow() {
    return loadedModelNow;
  }

  /** The images per forward pass the classifier was opened for: {@link #score} takes at most this many. */
  public int batchSize() {
    return batchSize;
  }

  /**
   * Scores one batch of images, at most {@link #batchSize()}: an outcome per image, in order.
   *
   * @param ids the images' ids, which name them in rejection reasons
   * @param images the encoded images (PNG as data-prep writes them, or JPEG)
   * @param topP classes kept per image (fewer when the model has fewer)
   * @param keepLogits also keep every image's full logit vector
   */
  public List<Scored> score(List<String> ids, List<byte[]> images, int topP, boolean keepLogits) {
    if (ids.size() != images.size() || images.size() > batchSize) {
      throw new IllegalArgumentException("score: " + ids.size() + " ids for " + images.size() + " images, at most "
          + batchSize + " per batch");
    }
    int values = spec.imageValues();
    float[] pixels = new float[images.size() * values];
    List<Scored> out = new ArrayList<>(images.size());
    List<Integer> decoded = new ArrayList<>(images.size());
    for (int i = 0; i < images.size(); i++) {
      String id = ids.get(i);
      try {
        byte[] raw = ImageTensors.decodePixels(images.get(i), spec, id);
        ImageTensors.normalize(raw, spec, pixels, decoded.size() * values);
        decoded.add(i);
        out.add(null);
      } catch (IllegalArgumentException e) {
        out.add(new Scored(id, null, null, null, Rejection.UNDECODABLE, id + ": " + e.getMessage()));
      }
    }
    if (decoded.isEmpty()) {
      return out;
    }
    float[][] probs;
    float[][] logits = null;
    if (keepLogits) {
      Classifier.Outputs outputs = classifier.outputs(pixels, decoded.size());
      probs = outputs.probabilities();
      logits = outputs.logits();
    } else {
      probs = classifier.probabilities(pixels, decoded.size());
    }
    for (int j = 0; j < decoded.size(); j++) {
      int i = decoded.get(j);
      String id = ids.get(i);
      if (!allFinite(probs[j]) || (logits != null && !allFinite(logits[j]))) {
        out.set(i, new Scored(id, null, null, null, Rejection.NON_FINITE, id + NON_FINITE));
        continue;
      }
      List<Inference.ClassProbability> top = Inference.topK(probs[j], topP);
      int[] classes = new int[top.size()];
      float[] p = new float[top.size()];
      for (int k = 0; k < top.size(); k++) {
        classes[k] = top.get(k).classIndex();
        p[k] = top.get(k).probability();
      }
      out.set(i, new Scored(id, classes, p, logits == null ? null : logits[j], null, null));
    }
    return out;
  }

  @Override
  public void close() {
    classifier.close();
  }

  /** {@code values} as the Scala sequence a Spark {@code array<int>} column takes in a {@link org.apache.spark.sql.Row}. */
  public static Object seq(int[] values) {
    Integer[] boxed = new Integer[values.length];
    for (int i = 0; i < values.length; i++) {
      boxed[i] = values[i];
    }
    return JavaConverters.asScala(List.of(boxed)).toSeq();
  }

  /** {@code values} as the Scala sequence a Spark {@code array<float>} column takes in a {@link org.apache.spark.sql.Row}. */
  public static Object seq(float[] values) {
    Float[] boxed = new Float[values.length];
    for (int i = 0; i < values.length; i++) {
      boxed[i] = values[i];
    }
    return JavaConverters.asScala(List.of(boxed)).toSeq();
  }

  private static boolean allFinite(float[] values) {
    for (float v : values) {
      if (!Float.isFinite(v)) {
        return false;
      }
    }
    return true;
  }
}
