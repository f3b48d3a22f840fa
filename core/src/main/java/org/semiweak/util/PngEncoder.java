package org.semiweak.util;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32;
import java.util.zip.Deflater;

/**
 * Encodes 8-bit gray or RGB pixels as PNG (IHDR, one IDAT, IEND), choosing each row's filter by the
 * usual minimum-sum-of-absolute-differences heuristic. Output is deterministic for equal input.
 *
 * <p>Not thread safe: it reuses one {@link Deflater}. Create one per task.
 */
public final class PngEncoder {
  private static final byte[] SIGNATURE = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

  private final Deflater deflater = new Deflater(6);
  private final byte[] buffer = new byte[64 * 1024];

  /**
   * @param pixels row-major, interleaved, {@code height * width * channels} bytes
   * @param channels 1 (gray) or 3 (RGB)
   */
  public byte[] encode(byte[] pixels, int width, int height, int channels) {
    if (channels != 1 && channels != 3) {
      throw new IllegalArgumentException("PNG encoder supports 1 or 3 channels, not " + channels);
    }
    if (pixels.length != (long) width * height * channels) {
      throw new IllegalArgumentException("expected " + (long) width * height * channels + " pixel bytes, got " + pixels.length);
    }
    int stride = width * channels;
    byte[] filtered = new byte[height * (stride + 1)];
    byte[][] candidates = new byte[5][stride];
    for (int y = 0; y < height; y++) {
      int row = y * stride;
      int prev = row - stride;
      int best = 0;
      long bestScore = Long.MAX_VALUE;
      for (int f = 0; f < 5; f++) {
        byte[] out = candidates[f];
        long score = 0;
        for (int x = 0; x < stride; x++) {
          int cur = pixels[row + x] & 0xff;
          int a = x >= channels ? pixels[row + x - channels] & 0xff : 0;
          int b = y > 0 ? pixels[prev + x] & 0xff : 0;
          int c = y > 0 && x >= channels ? pixels[prev + x - channels] & 0xff : 0;
          int v = switch (f) {
            case 0 -> cur;
            case 1 -> cur - a;
            case 2 -> cur - b;
            case 3 -> cur - ((a + b) >>> 1);
            default -> cur - paeth(a, b, c);
          };
          out[x] = (byte) v;
          score += Math.abs((byte) v);
        }
        if (score < bestScore) {
          bestScore = score;
          best = f;
        }
      }
      int o = y * (stride + 1);
      filtered[o] = (byte) best;
      System.arraycopy(candidates[best], 0, filtered, o + 1, stride);
    }

    deflater.reset();
    deflater.setInput(filtered);
    deflater.finish();
    ByteArrayOutputStream idat = new ByteArrayOutputStream(Math.max(64, filtered.length / 2));
    while (!deflater.finished()) {
      int n = deflater.deflate(buffer);
      idat.write(buffer, 0, n);
    }

    ByteArrayOutputStream png = new ByteArrayOutputStream(idat.size() + 64);
    png.writeBytes(SIGNATURE);
    byte[] ihdr = new byte[13];
    putInt(ihdr, 0, width);
    putInt(ihdr, 4, height);
    ihdr[8] = 8; // bit depth
    ihdr[9] = (byte) (channels == 1 ? 0 : 2); // color type: gray or truecolor
    chunk(png, "IHDR", ihdr);
    chunk(png, "IDAT", idat.toByteArray());
    chunk(png, "IEND", new byte[0]);
    return png.toByteArray();
  }

  /** The Paeth predictor of the PNG specification (package-private for the decoder's tests). */
  static int paeth(int a, int b, int c) {
    int p = a + b - c;
    int pa = Math.abs(p - a);
    int pb = Math.abs(p - b);
    int pc = Math.abs(p - c);
    if (pa <= pb && pa <= pc) {
      return a;
    }
    return pb <= pc ? b : c;
  }

  /** Appends one PNG chunk: length, type, data, CRC-32 of type and data. */
  public static void chunk(ByteArrayOutputStream out, String type, byte[] data) {
    byte[] len = new byte[4];
    putInt(len, 0, data.length);
    out.writeBytes(len);
    byte[] t = type.getBytes(StandardCharsets.US_ASCII);
    out.writeBytes(t);
    out.writeBytes(data);
    CRC32 crc = new CRC32();
    crc.update(t);
    crc.update(data);
    byte[] c = new byte[4];
    putInt(c, 0, (int) crc.getValue());
    out.writeBytes(c);
  }

  /** Writes {@code v} big-endian (PNG's byte order) at {@code b[i..i+3]}. */
  public static void putInt(byte[] b, int i, int v) {
    b[i] = (byte) (v >>> 24);
    b[i + 1] = (byte) (v >>> 16);
    b[i + 2] = (byte) (v >>> 8);
    b[i + 3] = (byte) v;
  }
}
