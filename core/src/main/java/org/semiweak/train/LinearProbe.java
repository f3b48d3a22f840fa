package org.semiweak.train;

import java.util.List;
import org.semiweak.model.ImageTensors;
import org.semiweak.model.Inference;
import org.semiweak.model.ModelSpec;
import org.semiweak.model.ModelWeights;

/**
 * Linear evaluation of an encoder, the measure self-supervised methods report: the encoder frozen,
 * only a linear classifier on its pooled features trained on the labeled images. The classifier is
 * multinomial logistic regression on features standardized by the labeled images' mean and standard
 * deviation, fitted by full-batch gradient descent with L2 regularization; a deterministic function
 * of the encoder and the images. The result is the spec's classifier with that head, so it is
 * evaluated like any other model.
 */
public final class LinearProbe {
  private LinearProbe() {}

  static final int ITERATIONS = 500;
  static final double STEP = 0.5;
  static final double L2 = 1e-4;

  /**
   * {@code encoder}'s weights (a classifier of {@code spec}, whose head is ignored) with a new head
   * fitted on the frozen features of {@code labeled}'s images.
   */
  public static ModelWeights fit(ModelSpec spec, ModelWeights encoder, ExampleShard labeled) {
    if (labeled.size() == 0) {
      throw new IllegalArgumentException("linear evaluation needs labeled images");
    }
    float[][] features = features(spec, encoder, labeled);
    int[] labels = new int[labeled.size()];
    for (int i = 0; i < labels.length; i++) {
      labels[i] = labeled.label(i);
    }
    int width = features[0].length;
    double[] mean = new double[width];
    double[] std = new double[width];
    for (float[] f : features) {
      for (int d = 0; d < width; d++) {
        mean[d] += f[d];
      }
    }
    for (int d = 0; d < width; d++) {
      mean[d] /= features.length;
    }
    for (float[] f : features) {
      for (int d = 0; d < width; d++) {
        std[d] += (f[d] - mean[d]) * (f[d] - mean[d]);
      }
    }
    double[][] x = new double[features.length][width];
    for (int d = 0; d < width; d++) {
      std[d] = Math.sqrt(std[d] / features.length) + 1e-6;
    }
    for (int i = 0; i < features.length; i++) {
      for (int d = 0; d < width; d++) {
        x[i][d] = (features[i][d] - mean[d]) / std[d];
      }
    }
    double[][] w = new double[spec.numClasses()][width];
    double[] b = new double[spec.numClasses()];
    logisticRegression(x, labels, w, b);
    // Fold the standardization into the head: w (f - mean) / std + b = (w / std) f + (b - w mean / std).
    ModelWeights.Builder out = ModelWeights.builder();
    List<String> names = encoder.names();
    for (int i = 0; i < names.size() - 2; i++) {
      out.addOwned(names.get(i), encoder.shape(names.get(i)), encoder.values(names.get(i)));
    }
    float[] headWeight = new float[spec.numClasses() * width];
    float[] headBias = new float[spec.numClasses()];
    for (int c = 0; c < spec.numClasses(); c++) {
      double shift = b[c];
      for (int d = 0; d < width; d++) {
        headWeight[c * width + d] = (float) (w[c][d] / std[d]);
        shift -= w[c][d] * mean[d] / std[d];
      }
      headBias[c] = (float) shift;
    }
    out.addOwned(names.get(names.size() - 2), new long[] {spec.numClasses(), width}, headWeight);
    out.addOwned(names.get(names.size() - 1), new long[] {spec.numClasses()}, headBias);
    return out.build();
  }

  /**
   * The pooled features of every image of {@code images}: the logits of the encoder with an identity
   * head ({@code features x features}, bias 0), which are its features.
   */
  static float[][] features(ModelSpec spec, ModelWeights encoder, ExampleShard images) {
    int[] widths = spec.stageWidths();
    int width = widths[widths.length - 1];
    ModelSpec featureSpec = spec.withNumClasses(width);
    ModelWeights.Builder identity = ModelWeights.builder();
    List<String> names = encoder.names();
    for (int i = 0; i < names.size() - 2; i++) {
      identity.addOwned(names.get(i), encoder.shape(names.get(i)), encoder.values(names.get(i)));
    }
    float[] eye = new float[width * width];
    for (int d = 0; d < width; d++) {
      eye[d * width + d] = 1;
    }
    identity.addOwned(names.get(names.size() - 2), new long[] {width, width}, eye);
    identity.addOwned(names.get(names.size() - 1), new long[] {width}, new float[width]);
    int values = spec.imageValues();
    float[] batch = new float[images.size() * values];
    for (int i = 0; i < images.size(); i++) {
      ImageTensors.normalize(images.pixelsView(i), spec, batch, i * values);
    }
    try (Inference model = Inference.open(featureSpec, identity.build())) {
      return model.logits(batch, images.size());
    }
  }

  /** Multinomial logistic regression by full-batch gradient descent on mean cross-entropy + L2/2 |w|^2. */
  static void logisticRegression(double[][] x, int[] y, double[][] w, double[] b) {
    int n = x.length;
    int classes = w.length;
    int width = x[0].length;
    double[] p = new double[classes];
    for (int it = 0; it < ITERATIONS; it++) {
      double[][] gw = new double[classes][width];
      double[] gb = new double[classes];
      for (int i = 0; i < n; i++) {
        double max = Double.NEGATIVE_INFINITY;
        for (int c = 0; c < classes; c++) {
          double z = b[c];
          for (int d = 0; d < width; d++) {
            z += w[c][d] * x[i][d];
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
          double g = p[c] / sum - (c == y[i] ? 1 : 0);
          gb[c] += g;
          for (int d = 0; d < width; d++) {
            gw[c][d] += g * x[i][d];
          }
        }
      }
      for (int c = 0; c < classes; c++) {
        b[c] -= STEP * gb[c] / n;
        for (int d = 0; d < width; d++) {
          w[c][d] -= STEP * (gw[c][d] / n + L2 * w[c][d]);
        }
      }
    }
  }
}
