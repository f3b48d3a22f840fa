package org.semiweak.util;

import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/**
 * Decodes the PNGs that data-prep writes ({@link PngEncoder}: 8-bit gray or RGB, not interlaced)
 * straight into planar pixels, without ImageIO's {@code BufferedImage} and raster: 1.2 ms instead of
 * 2.05 ms for a 224 px RGB image of 70 KB on the machine of docs/BENCHMARKS.md, half of it inflating.
 * Every image that the score stage and the trainers read passes through here, and on a GPU, where
 * the forward pass is cheap, decoding is what bounds scoring.
 *
 * <p>Anything else (palettes, 16-bit or sub-byte samples, alpha, transparency chunks, interlacing)
 * is not decoded: {@link #decodePlanar} returns null and the caller falls back to ImageIO, so the
 * two give the same pixels for every PNG. Ancillary chunks such as gAMA or tEXt are skipped, as
 * ImageIO's raster ignores them. CRCs are not checked: prep checked them when it wrote the file.
 *
 * <p>Not thread safe: it reuses one {@link Inflater}. Create one per thread.
 */
public final class PngDecoder {
  private final Inflater inflater = new Inflater();

  /** A decoded image: {@code channels} planes of {@code width * height} bytes, one after the other. */
  public record Planar(int width, int height, int channels, byte[] pixels) {}

  /**
   * Decodes an 8-bit gray or RGB non-interlaced PNG into planes; null when the bytes are a PNG of
   * another kind or not a PNG at all (the caller decides what to do with those).
   *
   * @throws IllegalArgumentException when the bytes are such a PNG but truncated or corrupt
   */
  public Planar decodePlanar(byte[] png) {
    if (!isPng(png)) {
      return null;
    }
    int pos = 8;
    int width = -1;
    int height = -1;
    int channels = 0;
    byte[] raw = null;
    int rawLength = 0;
    inflater.reset();
    boolean ended = false;
    while (!ended) {
      if (pos + 8 > png.length) {
        throw new IllegalArgumentException("PNG ends at byte " + png.length + " inside a chunk header");
      }
      int length = readInt(png, pos);
      int type = readInt(png, pos + 4);
      int data = pos + 8;
      if (length < 0 || (long) data + length + 4 > png.length) {
        throw new IllegalArgumentException("PNG chunk at byte " + pos + " declares " + length
            + " bytes but the file ends at " + png.length);
      }
      switch (type) {
        case IHDR -> {
          if (length != 13 || width >= 0) {
            return null;
          }
          width = readInt(png, data);
          height = readInt(png, data + 4);
          int bitDepth = png[data + 8] & 0xff;
          int colorType = png[data + 9] & 0xff;
          int interlace = png[data + 12] & 0xff;
          if (bitDepth != 8 || (colorType != 0 && colorType != 2) || interlace != 0 || width <= 0 || height <= 0
              || (long) width * height * 3 > Integer.MAX_VALUE / 2) {
            return null;
          }
          channels = colorType == 0 ? 1 : 3;
          raw = new byte[height * (width * channels + 1)];
        }
        case IDAT -> {
          if (raw == null) {
            return null;
          }
          inflater.setInput(png, data, length);
          try {
            while (!inflater.needsInput() && !inflater.finished() && rawLength < raw.length) {
              int n = inflater.inflate(raw, rawLength, raw.length - rawLength);
              if (n == 0 && !inflater.needsInput() && !inflater.finished()) {
                throw new IllegalArgumentException("PNG image data is corrupt: it asks for a preset dictionary");
              }
              rawLength += n;
            }
          } catch (DataFormatException e) {
            throw new IllegalArgumentException("PNG image data is corrupt: " + e.getMessage(), e);
          }
        }
        case IEND -> ended = true;
        case TRNS, PLTE -> {
          return null; // transparency or a palette: ImageIO's conversions apply
        }
        default -> {
          if ((png[pos + 4] & 0x20) == 0) {
            return null; // an unknown critical chunk: leave it to ImageIO
          }
        }
      }
      pos = data + length + 4;
    }
    if (raw == null || rawLength != raw.length) {
      throw new IllegalArgumentException("PNG image data holds " + rawLength + " bytes, "
          + (raw == null ? "with no IHDR" : "expected " + raw.length) + ": the file was cut off or is corrupt");
    }
    return new Planar(width, height, channels, unfilterToPlanes(raw, width, height, channels));
  }

  /** Reverses each row's filter in place and splits the interleaved samples into planes. */
  private static byte[] unfilterToPlanes(byte[] raw, int width, int height, int channels) {
    int stride = width * channels;
    int plane = width * height;
    byte[] out = new byte[plane * channels];
    for (int y = 0; y < height; y++) {
      int row = y * (stride + 1) + 1;
      int prev = row - stride - 1;
      int filter = raw[row - 1];
      if (y == 0 && filter == 4) {
        filter = 1; // Paeth with no upper row (zeros) predicts from the left neighbour: Sub
      }
      switch (filter) {
        case 0 -> { }
        case 1 -> {
          for (int x = channels; x < stride; x++) {
            raw[row + x] += raw[row + x - channels];
          }
        }
        case 2 -> {
          if (y > 0) {
            for (int x = 0; x < stride; x++) {
              raw[row + x] += raw[prev + x];
            }
          }
        }
        case 3 -> {
          // The first pixel has no left neighbour; the first row has no upper one (zeros).
          for (int x = 0; x < channels; x++) {
            raw[row + x] += (byte) ((y > 0 ? raw[prev + x] & 0xff : 0) >>> 1);
          }
          if (y > 0) {
            for (int x = channels; x < stride; x++) {
              raw[row + x] += (byte) (((raw[row + x - channels] & 0xff) + (raw[prev + x] & 0xff)) >>> 1);
            }
          } else {
            for (int x = channels; x < stride; x++) {
              raw[row + x] += (byte) ((raw[row + x - channels] & 0xff) >>> 1);
            }
          }
        }
        case 4 -> { // y > 0 here
          for (int x = 0; x < channels; x++) { // no left neighbour: predicts from the upper one
            raw[row + x] += raw[prev + x];
          }
          // The hot loop of decoding (most of prep's rows are Paeth-filtered). The predictor is
          // chosen with masks, not branches: on photographs the choice is close to random, and
          // mispredicted branches made this loop several times slower than the inflation.
          for (int x = channels; x < stride; x++) {
            int a = raw[row + x - channels] & 0xff;
            int b = raw[prev + x] & 0xff;
            int c = raw[prev + x - channels] & 0xff;
            int pa = Math.abs(b - c);
            int pb = Math.abs(a - c);
            int pc = Math.abs(a + b - 2 * c);
            int bOrC = b ^ ((b ^ c) & ((pc - pb) >> 31)); // c when pc < pb, else b
            int notA = ((pb - pa) | (pc - pa)) >> 31; // -1 when pb < pa or pc < pa
            raw[row + x] += (byte) (a ^ ((a ^ bOrC) & notA));
          }
        }
        default -> throw new IllegalArgumentException("PNG row " + y + " has filter type " + filter
            + ", which does not exist (0-4): the image data is corrupt");
      }
      int base = y * width;
      if (channels == 1) {
        System.arraycopy(raw, row, out, base, width);
      } else {
        for (int x = 0, i = row; x < width; x++, i += 3) {
          out[base + x] = raw[i];
          out[plane + base + x] = raw[i + 1];
          out[2 * plane + base + x] = raw[i + 2];
        }
      }
    }
    return out;
  }

  private static boolean isPng(byte[] b) {
    return b != null && b.length >= 8 && (b[0] & 0xff) == 0x89 && b[1] == 'P' && b[2] == 'N' && b[3] == 'G'
        && b[4] == '\r' && b[5] == '\n' && b[6] == 0x1a && b[7] == '\n';
  }

  private static int readInt(byte[] b, int i) {
    return ((b[i] & 0xff) << 24) | ((b[i + 1] & 0xff) << 16) | ((b[i + 2] & 0xff) << 8) | (b[i + 3] & 0xff);
  }

  private static final int IHDR = 0x49484452;
  private static final int IDAT = 0x49444154;
  private static final int IEND = 0x49454e44;
  private static final int TRNS = 0x74524e53;
  private static final int PLTE = 0x504c5445;
}
