package org.semiweak.model;

import java.util.SplittableRandom;

/**
 * The views of self-supervised training: each call makes one random view of an image, so two calls
 * with two seeds give the pair that SimCLR's loss compares. A view is, in order (SimCLR's
 * augmentation, Chen et al. 2020, appendix A, without the Gaussian blur that it also leaves out for
 * 32 px CIFAR images):
 *
 * <ol>
 *   <li>a random resized crop: an area of {@code minCropScale..1} of the image with aspect ratio
 *       3/4..4/3 (log-uniform), resized to the image's side by bilinear interpolation;
 *   <li>a horizontal flip with probability 1/2;
 *   <li>with probability 0.8, brightness and contrast jitter, each a factor drawn from 0.6..1.4 and
 *       applied in random order (contrast about the view's mean); for RGB images also saturation by
 *       the same range, and with probability 0.2 a conversion to gray;
 *   <li>with probability 0.2, solarization (values above 1/2 inverted), as BYOL's views have.
 * </ol>
 *
 * <p>The view is a pure function of the image and {@code seed}. It is written normalized by the spec's
 * mean and std, like {@link ImageTensors#normalize}.
 */
public final class ContrastiveViews {
  private ContrastiveViews() {}

  static final double JITTER_PROBABILITY = 0.8;
  static final double JITTER_STRENGTH = 0.4;
  static final double GRAY_PROBABILITY = 0.2;
  static final double SOLARIZE_PROBABILITY = 0.2;

  /**
   * Writes one view of {@code pixels} (unsigned CHW, the spec's channels and size) into {@code
   * dest[offset .. offset + spec.imageValues())}.
   */
  public static void view(byte[] pixels, ModelSpec spec, double minCropScale, long seed, float[] dest, int offset) {
    view(pixels, spec, minCropScale, 1, spec.inputSize(), seed, dest, offset);
  }

  /**
   * A view whose crop covers {@code minCropScale..maxCropScale} of the image's area, resized to
   * {@code outSize x outSize} (SwAV's multi-crop: small views of small parts of the image); writes
   * {@code channels x outSize x outSize} values.
   */
  public static void view(byte[] pixels, ModelSpec spec, double minCropScale, double maxCropScale, int outSize,
      long seed, float[] dest, int offset) {
    if (!(minCropScale > 0 && minCropScale <= maxCropScale && maxCropScale <= 1)) {
      throw new IllegalArgumentException("minCropScale must be in (0, 1], found " + minCropScale
          + (maxCropScale == 1 ? "" : " (max " + maxCropScale + ")"));
    }
    if (outSize < 1) {
      throw new IllegalArgumentException("a view's side must be >= 1, found " + outSize);
    }
    int channels = spec.inputChannels();
    int source = spec.inputSize();
    int size = outSize;
    int plane = size * size;
    SplittableRandom rng = new SplittableRandom(seed);

    // 1. Random resized crop (torchvision's RandomResizedCrop: 10 tries, then the whole image).
    double cropW = source;
    double cropH = source;
    double left = 0;
    double top = 0;
    for (int attempt = 0; attempt < 10; attempt++) {
      double area = source * (double) source * (minCropScale + rng.nextDouble() * (maxCropScale - minCropScale));
      double logRatio = Math.log(3.0 / 4) + rng.nextDouble() * (Math.log(4.0 / 3) - Math.log(3.0 / 4));
      double ratio = Math.exp(logRatio);
      double w = Math.sqrt(area * ratio);
      double h = Math.sqrt(area / ratio);
      if (w <= source && h <= source) {
        cropW = w;
        cropH = h;
        left = rng.nextDouble() * (source - w);
        top = rng.nextDouble() * (source - h);
        break;
      }
    }
    boolean flip = rng.nextBoolean();
    float[] v = new float[channels * plane];
    int sourcePlane = source * source;
    for (int c = 0; c < channels; c++) {
      int base = c * plane;
      for (int y = 0; y < size; y++) {
        // Sample at pixel centers of the crop, mapped back to source coordinates.
        double sy = top + (y + 0.5) * cropH / size - 0.5;
        for (int x = 0; x < size; x++) {
          int outX = flip ? size - 1 - x : x;
          double sx = left + (x + 0.5) * cropW / size - 0.5;
          v[base + y * size + outX] = bilinear(pixels, c * sourcePlane, source, sx, sy) / 255f;
        }
      }
    }

    // 3. Color jitter.
    if (rng.nextDouble() < JITTER_PROBABILITY) {
      double brightness = 1 + (rng.nextDouble() * 2 - 1) * JITTER_STRENGTH;
      double contrast = 1 + (rng.nextDouble() * 2 - 1) * JITTER_STRENGTH;
      double saturation = 1 + (rng.nextDouble() * 2 - 1) * JITTER_STRENGTH;
      boolean brightnessFirst = rng.nextBoolean();
      if (brightnessFirst) {
        scale(v, brightness);
        contrast(v, channels, plane, contrast);
      } else {
        contrast(v, channels, plane, contrast);
        scale(v, brightness);
      }
      if (channels == 3) {
        saturate(v, plane, saturation);
      }
    }
    if (channels == 3 && rng.nextDouble() < GRAY_PROBABILITY) {
      saturate(v, plane, 0);
    }
    // 4. Solarize.
    if (rng.nextDouble() < SOLARIZE_PROBABILITY) {
      for (int i = 0; i < v.length; i++) {
        if (v[i] >= 0.5f) {
          v[i] = 1 - v[i];
        }
      }
    }
    float[] mean = spec.normMean();
    float[] std = spec.normStd();
    for (int c = 0; c < channels; c++) {
      int base = c * plane;
      for (int i = 0; i < plane; i++) {
        dest[offset + base + i] = (v[base + i] - mean[c]) / std[c];
      }
    }
  }

  /** The value at (x, y) of one plane, interpolated between its four neighbours; edges are clamped. */
  private static float bilinear(byte[] pixels, int base, int size, double x, double y) {
    x = Math.min(Math.max(x, 0), size - 1);
    y = Math.min(Math.max(y, 0), size - 1);
    int x0 = (int) x;
    int y0 = (int) y;
    int x1 = Math.min(x0 + 1, size - 1);
    int y1 = Math.min(y0 + 1, size - 1);
    double fx = x - x0;
    double fy = y - y0;
    double top = (pixels[base + y0 * size + x0] & 0xff) * (1 - fx) + (pixels[base + y0 * size + x1] & 0xff) * fx;
    double bottom = (pixels[base + y1 * size + x0] & 0xff) * (1 - fx) + (pixels[base + y1 * size + x1] & 0xff) * fx;
    return (float) (top * (1 - fy) + bottom * fy);
  }

  private static void scale(float[] v, double factor) {
    for (int i = 0; i < v.length; i++) {
      v[i] = clamp(v[i] * factor);
    }
  }

  /** Blends each value with the mean of the view's luma (torchvision's adjust_contrast). */
  private static void contrast(float[] v, int channels, int plane, double factor) {
    double mean = 0;
    for (int i = 0; i < plane; i++) {
      mean += channels == 3 ? luma(v, plane, i) : v[i];
    }
    mean /= plane;
    for (int i = 0; i < v.length; i++) {
      v[i] = clamp(mean + (v[i] - mean) * factor);
    }
  }

  /** Blends an RGB view with its gray version (torchvision's adjust_saturation); factor 0 is gray. */
  private static void saturate(float[] v, int plane, double factor) {
    for (int i = 0; i < plane; i++) {
      double gray = luma(v, plane, i);
      for (int c = 0; c < 3; c++) {
        v[c * plane + i] = clamp(gray + (v[c * plane + i] - gray) * factor);
      }
    }
  }

  private static double luma(float[] v, int plane, int i) {
    return 0.299 * v[i] + 0.587 * v[plane + i] + 0.114 * v[2 * plane + i];
  }

  private static float clamp(double x) {
    return (float) Math.min(1, Math.max(0, x));
  }
}
