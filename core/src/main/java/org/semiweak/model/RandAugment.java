package org.semiweak.model;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.SplittableRandom;

/**
 * RandAugment (Cubuk et al. 2020), the input noise of Noisy Student: each training image gets
 * {@code ops} operations drawn uniformly (with replacement) from a fixed list, all at one {@code
 * magnitude} on a scale of 0 to {@link #MAX_MAGNITUDE}, on its 8-bit pixels before the crop and flip.
 *
 * <p>The operations and their ranges at the largest magnitude follow torchvision's {@code
 * RandAugment} (31 magnitude bins): shear x/y up to 0.3, translation x/y up to 150/331 of the side,
 * rotation up to 30 degrees, brightness, contrast and sharpness factors 1 ± 0.9 (each signed at
 * random), posterize to 8..4 bits, solarize above 255..0, autocontrast, equalize and identity.
 * Color (saturation) is among them for RGB images only: on gray images it would be the identity.
 * Geometric operations sample the nearest pixel and fill with black, the background of the images
 * the demo uses; they turn about the image center.
 */
public final class RandAugment {
  /** The largest magnitude: torchvision's 31 bins, 0 to 30. */
  public static final int MAX_MAGNITUDE = 30;

  /** The operations, in the order of their draw index. */
  public enum Op {
    IDENTITY, SHEAR_X, SHEAR_Y, TRANSLATE_X, TRANSLATE_Y, ROTATE, BRIGHTNESS, COLOR, CONTRAST, SHARPNESS,
    POSTERIZE, SOLARIZE, AUTO_CONTRAST, EQUALIZE
  }

  private static final List<Op> GRAY_OPS;
  private static final List<Op> RGB_OPS = List.of(Op.values());

  static {
    List<Op> gray = new ArrayList<>(List.of(Op.values()));
    gray.remove(Op.COLOR);
    GRAY_OPS = Collections.unmodifiableList(gray);
  }

  private RandAugment() {}

  /** The operations drawn from for images with {@code channels} channels (1 or 3). */
  public static List<Op> opsFor(int channels) {
    return channels == 3 ? RGB_OPS : GRAY_OPS;
  }

  /**
   * A new array: {@code pixels} (unsigned CHW, {@code channels x size x size}) after {@code ops}
   * operations at {@code magnitude}, each drawn from {@code rng}. {@code ops == 0} returns {@code
   * pixels} itself.
   */
  public static byte[] apply(byte[] pixels, int channels, int size, int ops, int magnitude, SplittableRandom rng) {
    if (ops < 0) {
      throw new IllegalArgumentException("RandAugment ops must be >= 0, found " + ops);
    }
    if (magnitude < 0 || magnitude > MAX_MAGNITUDE) {
      throw new IllegalArgumentException(
          "RandAugment magnitude must be in [0, " + MAX_MAGNITUDE + "], found " + magnitude);
    }
    if (ops == 0) {
      return pixels;
    }
    List<Op> choices = opsFor(channels);
    byte[] image = pixels;
    for (int i = 0; i < ops; i++) {
      Op op = choices.get(rng.nextInt(choices.size()));
      boolean negate = rng.nextBoolean();
      image = apply(op, image, channels, size, magnitude, negate);
    }
    return image;
  }

  /**
   * One operation at {@code magnitude}; {@code negate} flips the sign of the signed ones (shear,
   * translation, rotation, brightness, color, contrast, sharpness). Always a new array.
   */
  public static byte[] apply(Op op, byte[] pixels, int channels, int size, int magnitude, boolean negate) {
    double level = magnitude / (double) MAX_MAGNITUDE;
    double sign = negate ? -1 : 1;
    switch (op) {
      case IDENTITY:
        return pixels.clone();
      case SHEAR_X:
        return affine(pixels, channels, size, 1, sign * 0.3 * level, 0, 1, 0, 0);
      case SHEAR_Y:
        return affine(pixels, channels, size, 1, 0, sign * 0.3 * level, 1, 0, 0);
      case TRANSLATE_X:
        return affine(pixels, channels, size, 1, 0, 0, 1, sign * 150.0 / 331.0 * size * level, 0);
      case TRANSLATE_Y:
        return affine(pixels, channels, size, 1, 0, 0, 1, 0, sign * 150.0 / 331.0 * size * level);
      case ROTATE: {
        double a = Math.toRadians(sign * 30 * level);
        return affine(pixels, channels, size, Math.cos(a), -Math.sin(a), Math.sin(a), Math.cos(a), 0, 0);
      }
      case BRIGHTNESS:
        return blend(pixels, new byte[pixels.length], 1 + sign * 0.9 * level);
      case COLOR:
        return channels == 3 ? blend(pixels, grayscale(pixels, size), 1 + sign * 0.9 * level) : pixels.clone();
      case CONTRAST:
        return blend(pixels, meanGray(pixels, channels, size), 1 + sign * 0.9 * level);
      case SHARPNESS:
        return blend(pixels, smooth(pixels, channels, size), 1 + sign * 0.9 * level);
      case POSTERIZE: {
        int bits = 8 - (int) Math.round(level * 4);
        int mask = (0xff << (8 - bits)) & 0xff;
        byte[] out = new byte[pixels.length];
        for (int i = 0; i < out.length; i++) {
          out[i] = (byte) (pixels[i] & mask);
        }
        return out;
      }
      case SOLARIZE: {
        double threshold = 255 * (1 - level);
        byte[] out = new byte[pixels.length];
        for (int i = 0; i < out.length; i++) {
          int v = pixels[i] & 0xff;
          out[i] = (byte) (v >= threshold ? 255 - v : v);
        }
        return out;
      }
      case AUTO_CONTRAST:
        return autoContrast(pixels, channels, size);
      case EQUALIZE:
        return equalize(pixels, channels, size);
      default:
        throw new AssertionError(op);
    }
  }

  /**
   * Output pixel {@code p} takes the input at {@code M (p - c) + c - t} (nearest), where {@code M =
   * [[m00, m01], [m10, m11]]}, {@code c} the image center and {@code t = (tx, ty)}; black outside.
   */
  private static byte[] affine(byte[] pixels, int channels, int size, double m00, double m01, double m10,
      double m11, double tx, double ty) {
    byte[] out = new byte[pixels.length];
    int plane = size * size;
    double center = (size - 1) / 2.0;
    for (int y = 0; y < size; y++) {
      for (int x = 0; x < size; x++) {
        double dx = x - center;
        double dy = y - center;
        int sx = (int) Math.round(m00 * dx + m01 * dy + center - tx);
        int sy = (int) Math.round(m10 * dx + m11 * dy + center - ty);
        if (sx < 0 || sx >= size || sy < 0 || sy >= size) {
          continue;
        }
        for (int c = 0; c < channels; c++) {
          out[c * plane + y * size + x] = pixels[c * plane + sy * size + sx];
        }
      }
    }
    return out;
  }

  /** {@code degenerate + factor (image - degenerate)}, clamped to 0..255 (PIL's ImageEnhance). */
  private static byte[] blend(byte[] image, byte[] degenerate, double factor) {
    byte[] out = new byte[image.length];
    for (int i = 0; i < out.length; i++) {
      int d = degenerate[i] & 0xff;
      double v = d + factor * ((image[i] & 0xff) - d);
      out[i] = (byte) Math.max(0, Math.min(255, (int) Math.round(v)));
    }
    return out;
  }

  /** The ITU-R 601 luma of an RGB image, in each of its three channels. */
  private static byte[] grayscale(byte[] rgb, int size) {
    int plane = size * size;
    byte[] out = new byte[rgb.length];
    for (int i = 0; i < plane; i++) {
      int l = luma(rgb, plane, i);
      out[i] = (byte) l;
      out[plane + i] = (byte) l;
      out[2 * plane + i] = (byte) l;
    }
    return out;
  }

  private static int luma(byte[] rgb, int plane, int i) {
    return (int) Math.round(0.299 * (rgb[i] & 0xff) + 0.587 * (rgb[plane + i] & 0xff) + 0.114 * (rgb[2 * plane + i] & 0xff));
  }

  /** Every pixel at the mean gray level of the image (the degenerate image of contrast). */
  private static byte[] meanGray(byte[] pixels, int channels, int size) {
    int plane = size * size;
    long sum = 0;
    for (int i = 0; i < plane; i++) {
      sum += channels == 3 ? luma(pixels, plane, i) : pixels[i] & 0xff;
    }
    byte[] out = new byte[pixels.length];
    java.util.Arrays.fill(out, (byte) Math.round(sum / (double) plane));
    return out;
  }

  /** PIL's SMOOTH filter (3x3, center 5, others 1, sum 13); the border keeps its pixels. */
  private static byte[] smooth(byte[] pixels, int channels, int size) {
    byte[] out = pixels.clone();
    int plane = size * size;
    for (int c = 0; c < channels; c++) {
      int base = c * plane;
      for (int y = 1; y < size - 1; y++) {
        for (int x = 1; x < size - 1; x++) {
          int sum = 0;
          for (int ky = -1; ky <= 1; ky++) {
            for (int kx = -1; kx <= 1; kx++) {
              sum += (pixels[base + (y + ky) * size + x + kx] & 0xff) * (ky == 0 && kx == 0 ? 5 : 1);
            }
          }
          out[base + y * size + x] = (byte) Math.round(sum / 13.0);
        }
      }
    }
    return out;
  }

  /** Each channel stretched so that its darkest pixel is 0 and its brightest 255. */
  private static byte[] autoContrast(byte[] pixels, int channels, int size) {
    byte[] out = pixels.clone();
    int plane = size * size;
    for (int c = 0; c < channels; c++) {
      int lo = 255;
      int hi = 0;
      for (int i = c * plane; i < (c + 1) * plane; i++) {
        lo = Math.min(lo, pixels[i] & 0xff);
        hi = Math.max(hi, pixels[i] & 0xff);
      }
      if (hi <= lo) {
        continue;
      }
      for (int i = c * plane; i < (c + 1) * plane; i++) {
        out[i] = (byte) Math.round(((pixels[i] & 0xff) - lo) * 255.0 / (hi - lo));
      }
    }
    return out;
  }

  /** Histogram equalization of each channel (PIL's ImageOps.equalize). */
  private static byte[] equalize(byte[] pixels, int channels, int size) {
    byte[] out = pixels.clone();
    int plane = size * size;
    for (int c = 0; c < channels; c++) {
      int[] histogram = new int[256];
      for (int i = c * plane; i < (c + 1) * plane; i++) {
        histogram[pixels[i] & 0xff]++;
      }
      int last = 255;
      while (last > 0 && histogram[last] == 0) {
        last--;
      }
      int step = (plane - histogram[last]) / 255;
      if (step == 0) {
        continue;
      }
      int[] lut = new int[256];
      int n = step / 2;
      for (int v = 0; v < 256; v++) {
        lut[v] = Math.min(255, n / step);
        n += histogram[v];
      }
      for (int i = c * plane; i < (c + 1) * plane; i++) {
        out[i] = (byte) lut[pixels[i] & 0xff];
      }
    }
    return out;
  }
}
