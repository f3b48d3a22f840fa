package org.semiweak.model;

import java.awt.image.BufferedImage;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.SplittableRandom;
import javax.imageio.ImageIO;
import org.semiweak.util.PngDecoder;

/**
 * Turns encoded images (PNG, JPEG) into model input: pixels in CHW order, scaled to [0, 1] and
 * normalized by the spec's per-channel mean and std, optionally augmented.
 *
 * <p>Images must already have the spec's size: data-prep resizes once, later stages never do, so
 * a size mismatch is an error. Channels are converted (gray to RGB by repetition, RGB to gray by
 * ITU-R 601 luma); alpha is ignored.
 *
 * <p>Two steps, so training can keep compact bytes in memory and normalize per batch:
 * {@link #decodePixels} gives {@code byte[C*H*W]} (unsigned 0..255), {@link #normalize} and
 * {@link #augment} write floats into a batch buffer.
 */
public final class ImageTensors {
  static {
    // Decoding from memory needs no disk cache; the default creates a temp file per image.
    ImageIO.setUseCache(false);
  }

  private ImageTensors() {}

  /** Decodes and normalizes one image into a new {@code float[C*H*W]}. */
  public static float[] decode(byte[] encoded, ModelSpec spec, String imageId) {
    float[] out = new float[spec.imageValues()];
    normalize(decodePixels(encoded, spec, imageId), spec, out, 0);
    return out;
  }

  /**
   * Decodes one image into unsigned CHW bytes with the spec's channel count.
   *
   * @param imageId names the image in error messages
   * @throws IllegalArgumentException if the bytes are not a readable image or its size differs
   *     from {@code spec.inputSize()}
   */
  public static byte[] decodePixels(byte[] encoded, ModelSpec spec, String imageId) {
    if (encoded == null || encoded.length == 0) {
      throw new IllegalArgumentException("image " + imageId + ": no image bytes (null or empty)");
    }
    int width;
    int height;
    int fileChannels;
    byte[] planes;
    PngDecoder.Planar png;
    try {
      png = PNG_DECODER.get().decodePlanar(encoded);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "image " + imageId + ": cannot decode " + encoded.length + " bytes as PNG: " + e.getMessage(), e);
    }
    if (png != null) { // data-prep's PNGs (8-bit gray or RGB): the fast path
      width = png.width();
      height = png.height();
      fileChannels = png.channels();
      planes = png.pixels();
    } else {
      BufferedImage img;
      try {
        img = ImageIO.read(new ByteArrayInputStream(encoded));
      } catch (IOException | RuntimeException e) {
        throw new IllegalArgumentException(
            "image " + imageId + ": cannot decode " + encoded.length + " bytes as PNG/JPEG: " + e.getMessage(), e);
      }
      if (img == null) {
        throw new IllegalArgumentException(
            "image " + imageId + ": " + encoded.length + " bytes are not a PNG or JPEG image");
      }
      width = img.getWidth();
      height = img.getHeight();
      int[][] samples = channels(img, width * height);
      fileChannels = samples.length;
      planes = new byte[fileChannels * width * height];
      for (int c = 0; c < fileChannels; c++) {
        int[] src = samples[c];
        int base = c * src.length;
        for (int i = 0; i < src.length; i++) {
          planes[base + i] = (byte) src[i];
        }
      }
    }
    int size = spec.inputSize();
    if (width != size || height != size) {
      throw new IllegalArgumentException(
          "image " + imageId + " is " + width + "x" + height + " but the model expects "
              + size + "x" + size + "; images are resized by data-prep (run prep with image size " + size + ")");
    }
    return toChannels(planes, fileChannels, spec.inputChannels(), size * size);
  }

  /** One decoder per thread: it keeps an {@link java.util.zip.Inflater}. */
  private static final ThreadLocal<PngDecoder> PNG_DECODER = ThreadLocal.withInitial(PngDecoder::new);

  /** Planes of {@code from} channels as {@code to} channels: gray repeated, or RGB to luma (ITU-R 601). */
  private static byte[] toChannels(byte[] planes, int from, int to, int plane) {
    if (from == to) {
      return planes;
    }
    byte[] out = new byte[to * plane];
    if (to == 3) {
      for (int c = 0; c < 3; c++) {
        System.arraycopy(planes, 0, out, c * plane, plane);
      }
    } else {
      for (int i = 0; i < plane; i++) {
        int r = planes[i] & 0xff;
        int g = planes[plane + i] & 0xff;
        int b = planes[2 * plane + i] & 0xff;
        out[i] = (byte) Math.min(255, Math.round(0.299f * r + 0.587f * g + 0.114f * b));
      }
    }
    return out;
  }

  /** One gray plane, or three RGB planes, of 8-bit values. */
  private static int[][] channels(BufferedImage img, int plane) {
    int w = img.getWidth();
    int h = img.getHeight();
    if (img.getColorModel() instanceof IndexColorModel) {
      int[] argb = img.getRGB(0, 0, w, h, null, 0, w);
      int[][] rgb = new int[3][plane];
      for (int i = 0; i < plane; i++) {
        rgb[0][i] = (argb[i] >> 16) & 0xff;
        rgb[1][i] = (argb[i] >> 8) & 0xff;
        rgb[2][i] = argb[i] & 0xff;
      }
      return rgb;
    }
    // Read raw samples: getRGB on gray images applies a colour-space conversion that alters values.
    Raster raster = img.getRaster();
    int bands = raster.getNumBands();
    int colorBands = img.getColorModel().getNumColorComponents();
    int n = colorBands >= 3 && bands >= 3 ? 3 : 1;
    int[][] out = new int[n][];
    for (int c = 0; c < n; c++) {
      int bits = raster.getSampleModel().getSampleSize(c);
      int[] s = raster.getSamples(0, 0, w, h, c, new int[plane]);
      if (bits > 8) {
        for (int i = 0; i < plane; i++) {
          s[i] = s[i] >>> (bits - 8);
        }
      } else if (bits < 8) {
        int max = (1 << bits) - 1;
        for (int i = 0; i < plane; i++) {
          s[i] = s[i] * 255 / max;
        }
      }
      out[c] = s;
    }
    return out;
  }

  /** Writes {@code pixels} (unsigned CHW) scaled and normalized into {@code dest[offset..]}. */
  public static void normalize(byte[] pixels, ModelSpec spec, float[] dest, int offset) {
    float[][] lut = lookupTable(spec);
    int plane = spec.inputSize() * spec.inputSize();
    for (int c = 0; c < spec.inputChannels(); c++) {
      float[] t = lut[c];
      int base = c * plane;
      for (int i = 0; i < plane; i++) {
        dest[offset + base + i] = t[pixels[base + i] & 0xff];
      }
    }
  }

  /**
   * Writes an augmented, normalized copy of {@code pixels} into {@code dest[offset..]}: a random
   * {@code size x size} crop of the image padded with {@code padding} black pixels on each side,
   * then a horizontal flip with probability 1/2 when {@code horizontalFlip}. The choice is a pure
   * function of {@code rngSeed}.
   */
  public static void augment(
      byte[] pixels, ModelSpec spec, int padding, boolean horizontalFlip, long rngSeed, float[] dest, int offset) {
    augment(pixels, spec, padding, horizontalFlip, 0, rngSeed, dest, offset);
  }

  /**
   * {@link #augment(byte[], ModelSpec, int, boolean, long, float[], int)}, then, when {@code cutout >
   * 0}, a {@code cutout x cutout} square centered on a random pixel (clipped at the borders) set to 0,
   * the mean after normalization (cutout, DeVries and Taylor 2017). The crop and flip are the same
   * with or without cutout for the same seed.
   */
  public static void augment(byte[] pixels, ModelSpec spec, int padding, boolean horizontalFlip, int cutout,
      long rngSeed, float[] dest, int offset) {
    augment(pixels, spec, padding, horizontalFlip, cutout, 0, 0, rngSeed, dest, offset);
  }

  /**
   * {@link #augment(byte[], ModelSpec, int, boolean, int, long, float[], int)} on the image after
   * {@code randAugmentOps} {@link RandAugment} operations at {@code randAugmentMagnitude} (none when
   * 0). The operations are drawn from their own stream of {@code rngSeed}, so the crop, flip and
   * cutout are the same with or without them.
   */
  public static void augment(byte[] pixels, ModelSpec spec, int padding, boolean horizontalFlip, int cutout,
      int randAugmentOps, int randAugmentMagnitude, long rngSeed, float[] dest, int offset) {
    if (randAugmentOps > 0) {
      SplittableRandom opRng = new SplittableRandom(Long.rotateLeft(rngSeed, 29) ^ RAND_AUGMENT_STREAM);
      pixels = RandAugment.apply(pixels, spec.inputChannels(), spec.inputSize(), randAugmentOps,
          randAugmentMagnitude, opRng);
    }
    if (padding < 0) {
      throw new IllegalArgumentException("crop padding must be >= 0, found " + padding);
    }
    if (cutout < 0) {
      throw new IllegalArgumentException("cutout must be >= 0, found " + cutout);
    }
    SplittableRandom rng = new SplittableRandom(rngSeed);
    int dy = padding == 0 ? 0 : rng.nextInt(2 * padding + 1) - padding;
    int dx = padding == 0 ? 0 : rng.nextInt(2 * padding + 1) - padding;
    boolean flip = horizontalFlip && rng.nextBoolean();
    int size = spec.inputSize();
    int plane = size * size;
    if (dx == 0 && dy == 0 && !flip) {
      normalize(pixels, spec, dest, offset);
    } else {
      float[][] lut = lookupTable(spec);
      for (int c = 0; c < spec.inputChannels(); c++) {
        float[] t = lut[c];
        float black = t[0];
        int base = c * plane;
        for (int y = 0; y < size; y++) {
          int sy = y + dy;
          int row = offset + base + y * size;
          for (int x = 0; x < size; x++) {
            int sx = (flip ? size - 1 - x : x) + dx;
            dest[row + x] =
                sy < 0 || sy >= size || sx < 0 || sx >= size ? black : t[pixels[base + sy * size + sx] & 0xff];
          }
        }
      }
    }
    if (cutout > 0) {
      int cy = rng.nextInt(size);
      int cx = rng.nextInt(size);
      int y0 = Math.max(0, cy - cutout / 2);
      int y1 = Math.min(size, cy - cutout / 2 + cutout);
      int x0 = Math.max(0, cx - cutout / 2);
      int x1 = Math.min(size, cx - cutout / 2 + cutout);
      for (int c = 0; c < spec.inputChannels(); c++) {
        int base = offset + c * plane;
        for (int y = y0; y < y1; y++) {
          java.util.Arrays.fill(dest, base + y * size + x0, base + y * size + x1, 0f);
        }
      }
    }
  }

  /** Separates RandAugment's random stream from the crop's, flip's and cutout's. */
  private static final long RAND_AUGMENT_STREAM = 0x52414e44_41554721L;

  private static float[][] lookupTable(ModelSpec spec) {
    return spec.pixelLookupTable();
  }
}
