package org.semiweak.prep.image;

import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.ComponentColorModel;
import java.awt.image.DataBuffer;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.io.ByteArrayInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.zip.CRC32;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.MemoryCacheImageInputStream;
import org.semiweak.prep.Reason;
import org.semiweak.util.Fingerprint;
import org.semiweak.util.PngEncoder;

/**
 * Turns image bytes into a {@link CanonicalImage}: checks, decodes, converts and resizes.
 *
 * <ol>
 *   <li>Sniffs the format by magic bytes (PNG, JPEG, GIF, BMP, WebP) and reads the declared
 *       dimensions from the header; refuses more than {@code maxPixels} before decoding
 *       ({@code too-large}).
 *   <li>Checks the structure: a PNG must walk chunk by chunk (valid CRCs) to IEND, a JPEG must
 *       end with EOI, a BMP must be as long as it says, a WebP's chunks must fit in the length its
 *       RIFF header declares and that length in the file ({@code truncated} / {@code corrupt}).
 *   <li>Decodes with ImageIO from memory (no temporary files), with the reader {@link ImageReaders}
 *       picks: the JDK's for PNG, GIF and BMP, TwelveMonkeys' for JPEG and WebP. CMYK and YCCK
 *       JPEGs (Adobe APP14 marker) become RGB through TwelveMonkeys' color conversion (the embedded
 *       ICC profile if there is one, else its built-in CMYK approximation). WebP may be lossy or
 *       lossless. An animated WebP (like an animated GIF) gives its first frame. Gray, gray+alpha,
 *       RGB, RGBA, palette and 16-bit samples are read from the raster directly (16-bit is rounded
 *       to 8-bit), so gray values are not gamma-converted. Alpha (PNG, WebP, GIF transparency) is
 *       composited over white: a transparent background becomes white, as image viewers show it.
 *   <li>Converts to {@code channels}: RGB to gray with the ITU-R BT.601 luma weights
 *       (0.299, 0.587, 0.114), gray to RGB by replication.
 *   <li>Crops the centered square (side = the shorter side) and resizes it to
 *       {@code imageSize x imageSize} with a triangle filter (bilinear when enlarging, antialiased
 *       area-like averaging when shrinking). An image already of that size is not resampled.
 *   <li>Encodes PNG; the content hash is SHA-256 of {@code "WxHxC:"} followed by the pixel bytes.
 * </ol>
 *
 * <p>Not thread safe (reuses an encoder and a digest): one instance per task.
 */
public final class ImageCodec {
  private final int imageSize;
  private final int channels;
  private final long maxPixels;
  private final PngEncoder encoder = new PngEncoder();
  private final MessageDigest sha256 = Fingerprint.sha256();

  /**
   * @param imageSize side of the square output, in pixels
   * @param channels 1 (gray) or 3 (RGB)
   * @param maxPixels the most pixels (width x height) a header may declare
   */
  public ImageCodec(int imageSize, int channels, long maxPixels) {
    if (channels != 1 && channels != 3) {
      throw new IllegalArgumentException("channels must be 1 or 3, not " + channels);
    }
    this.imageSize = imageSize;
    this.channels = channels;
    this.maxPixels = maxPixels;
  }

  /** Checks, decodes and canonicalizes encoded image bytes. */
  public CanonicalImage canonicalize(byte[] bytes) throws ImageRejectedException {
    ImageFormat.Header header = ImageFormat.readHeader(bytes);
    if (header.pixels() > maxPixels) {
      throw new ImageRejectedException(Reason.TOO_LARGE,
          header.format() + " header declares " + header.width() + "x" + header.height() + " = "
              + header.pixels() + " pixels, more than max-image-pixels " + maxPixels);
    }
    checkStructure(header.format(), bytes);
    BufferedImage img = decode(header, bytes);
    Pixels p = toPixels(img);
    return fromPixels(p.data, p.width, p.height, p.channels);
  }

  /**
   * Canonicalizes raw 8-bit pixels (e.g. an IDX record).
   *
   * @param pixels row-major, interleaved, {@code height * width * srcChannels} bytes
   * @param srcChannels 1 (gray) or 3 (RGB)
   */
  public CanonicalImage fromPixels(byte[] pixels, int width, int height, int srcChannels) {
    byte[] converted = convertChannels(pixels, width * height, srcChannels, channels);
    byte[] square = cropAndResize(converted, width, height, channels, imageSize);
    byte[] png = encoder.encode(square, imageSize, imageSize, channels);
    return new CanonicalImage(png, imageSize, imageSize, channels, contentHash(square, imageSize, imageSize, channels));
  }

  private String contentHash(byte[] pixels, int w, int h, int c) {
    sha256.reset();
    sha256.update((w + "x" + h + "x" + c + ":").getBytes(java.nio.charset.StandardCharsets.US_ASCII));
    return HexFormat.of().formatHex(sha256.digest(pixels));
  }

  // ---- structure checks ------------------------------------------------------------------------

  static void checkStructure(ImageFormat format, byte[] b) throws ImageRejectedException {
    switch (format) {
      case PNG -> checkPngChunks(b);
      case JPEG -> {
        if (!endsWithEoi(b)) {
          throw new ImageRejectedException(Reason.TRUNCATED, "JPEG has no end-of-image marker (FFD9): the file was cut off");
        }
      }
      case BMP -> {
        long declared = ImageFormat.u32le(b, 2);
        if (declared > b.length) {
          throw new ImageRejectedException(Reason.TRUNCATED,
              "BMP declares " + declared + " bytes but has " + b.length);
        }
      }
      case WEBP -> checkWebPChunks(b);
      default -> {
        // GIF: the decoder's end-of-stream error is the truncation signal.
      }
    }
  }

  private static void checkPngChunks(byte[] b) throws ImageRejectedException {
    int i = 8;
    CRC32 crc = new CRC32();
    while (true) {
      if (i + 8 > b.length) {
        throw new ImageRejectedException(Reason.TRUNCATED,
            "PNG ends at byte " + b.length + " without an IEND chunk: the file was cut off");
      }
      long len = ImageFormat.u32be(b, i);
      String type = new String(b, i + 4, 4, java.nio.charset.StandardCharsets.ISO_8859_1);
      if (len > Integer.MAX_VALUE || i + 12 + len > b.length) {
        throw new ImageRejectedException(Reason.TRUNCATED,
            "PNG chunk " + printable(type) + " at byte " + i + " declares " + len + " bytes but the file ends at " + b.length + ": the file was cut off");
      }
      crc.reset();
      crc.update(b, i + 4, 4 + (int) len);
      long stored = ImageFormat.u32be(b, i + 8 + (int) len);
      if (crc.getValue() != stored) {
        throw new ImageRejectedException(Reason.CORRUPT,
            "PNG chunk " + printable(type) + " at byte " + i + " has a wrong CRC (stored " + Long.toHexString(stored)
                + ", computed " + Long.toHexString(crc.getValue()) + ")");
      }
      if (type.equals("IEND")) {
        return;
      }
      i += 12 + (int) len;
    }
  }

  /**
   * A WebP file is a RIFF container: the header declares the length, then chunks follow, each an
   * 8-byte header (type, little-endian size) and its data padded to an even length. A file cut off
   * is caught here, before the decoder, whose end-of-stream errors would say less.
   */
  private static void checkWebPChunks(byte[] b) throws ImageRejectedException {
    long end = 8 + ImageFormat.u32le(b, 4);
    if (end > b.length) {
      throw new ImageRejectedException(Reason.TRUNCATED,
          "WebP RIFF header declares " + end + " bytes but the file has " + b.length + ": the file was cut off");
    }
    int i = 12;
    while (i < end) {
      if (i + 8 > end) {
        throw new ImageRejectedException(Reason.TRUNCATED,
            "WebP ends at byte " + end + " inside a chunk header that starts at byte " + i + ": the file was cut off");
      }
      String type = new String(b, i, 4, java.nio.charset.StandardCharsets.ISO_8859_1);
      long len = ImageFormat.u32le(b, i + 4);
      if (i + 8 + len > end) {
        throw new ImageRejectedException(Reason.TRUNCATED, "WebP chunk '" + printable(type) + "' at byte " + i
            + " declares " + len + " bytes but the file ends at " + end + ": the file was cut off");
      }
      i += 8 + (int) len + (int) (len & 1);
    }
  }

  private static String printable(String type) {
    return type.chars().allMatch(c -> c >= 0x20 && c < 0x7f) ? type : "0x" + HexFormat.of().formatHex(type.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
  }

  private static boolean endsWithEoi(byte[] b) {
    // Some writers pad after EOI; accept the marker within the last KiB.
    int from = Math.max(2, b.length - 1024);
    for (int i = b.length - 2; i >= from; i--) {
      if ((b[i] & 0xff) == 0xff && (b[i + 1] & 0xff) == 0xd9) {
        return true;
      }
    }
    return false;
  }

  // ---- decoding --------------------------------------------------------------------------------

  private static BufferedImage decode(ImageFormat.Header header, byte[] bytes) throws ImageRejectedException {
    ImageReader reader = ImageReaders.create(header.format());
    List<String> warnings = new ArrayList<>();
    try (ImageInputStream in = new MemoryCacheImageInputStream(new ByteArrayInputStream(bytes))) {
      reader.setInput(in, true, true);
      reader.addIIOReadWarningListener((source, warning) -> warnings.add(warning));
      BufferedImage img = reader.read(0);
      for (String w : warnings) {
        if (w.contains("Premature end")) {
          throw new ImageRejectedException(Reason.TRUNCATED, header.format() + " decoder: " + w);
        }
      }
      if (img.getWidth() != header.width() || img.getHeight() != header.height()) {
        throw new ImageRejectedException(Reason.CORRUPT, "header declares " + header.width() + "x" + header.height()
            + " but the decoder produced " + img.getWidth() + "x" + img.getHeight());
      }
      return img;
    } catch (ImageRejectedException e) {
      throw e;
    } catch (IOException | RuntimeException e) {
      throw classify(header.format(), e);
    } finally {
      reader.dispose();
    }
  }

  private static ImageRejectedException classify(ImageFormat format, Exception e) {
    StringBuilder msg = new StringBuilder(format + " decoder: " + e);
    boolean eof = false;
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t != e) {
        msg.append(" <- ").append(t);
      }
      String m = String.valueOf(t.getMessage());
      if (t instanceof EOFException || m.contains("Unexpected end of ZLIB") || m.contains("Premature end")) {
        eof = true;
      }
    }
    if (eof) {
      return new ImageRejectedException(Reason.TRUNCATED, msg.toString());
    }
    String m = String.valueOf(e.getMessage());
    if (m.contains("Unsupported Image Type") || m.contains("Unsupported JPEG process")) {
      // CMYK and YCCK JPEGs decode; what remains is rare (e.g. arithmetic-coded JPEG).
      return new ImageRejectedException(Reason.UNSUPPORTED_FORMAT, msg + "; convert it to a baseline or progressive RGB JPEG or PNG");
    }
    return new ImageRejectedException(Reason.CORRUPT, msg.toString());
  }

  // ---- pixel access ----------------------------------------------------------------------------

  /** 8-bit interleaved pixels, 1 (gray) or 3 (RGB) channels, alpha already composited. */
  record Pixels(byte[] data, int width, int height, int channels) {}

  static Pixels toPixels(BufferedImage img) {
    int w = img.getWidth();
    int h = img.getHeight();
    ColorModel cm = img.getColorModel();
    Raster r = img.getRaster();
    int bands = r.getNumBands();
    int transfer = r.getTransferType();
    boolean integral = transfer == DataBuffer.TYPE_BYTE || transfer == DataBuffer.TYPE_USHORT;
    if (cm instanceof IndexColorModel icm && bands == 1) {
      return fromPalette(icm, r, w, h);
    }
    if (cm instanceof ComponentColorModel && integral && !cm.isAlphaPremultiplied()) {
      int csType = cm.getColorSpace().getType();
      if (csType == ColorSpace.TYPE_GRAY && (bands == 1 || bands == 2)) {
        return fromComponents(cm, r, w, h, 1, bands == 2);
      }
      if (cm.getColorSpace().isCS_sRGB() && (bands == 3 || bands == 4)) {
        return fromComponents(cm, r, w, h, 3, bands == 4);
      }
    }
    // Anything else (packed RGB, other color spaces): let the color model convert to sRGB.
    boolean alpha = cm.hasAlpha();
    byte[] out = new byte[w * h * 3];
    int[] row = new int[w];
    for (int y = 0; y < h; y++) {
      img.getRGB(0, y, w, 1, row, 0, w);
      for (int x = 0; x < w; x++) {
        int argb = row[x];
        int a = alpha ? argb >>> 24 : 255;
        int o = (y * w + x) * 3;
        out[o] = (byte) overWhite((argb >> 16) & 0xff, a);
        out[o + 1] = (byte) overWhite((argb >> 8) & 0xff, a);
        out[o + 2] = (byte) overWhite(argb & 0xff, a);
      }
    }
    return new Pixels(out, w, h, 3);
  }

  private static Pixels fromPalette(IndexColorModel icm, Raster r, int w, int h) {
    int n = icm.getMapSize();
    int[] red = new int[n];
    int[] green = new int[n];
    int[] blue = new int[n];
    int[] alpha = new int[n];
    boolean gray = true;
    for (int i = 0; i < n; i++) {
      alpha[i] = icm.getAlpha(i);
      red[i] = overWhite(icm.getRed(i), alpha[i]);
      green[i] = overWhite(icm.getGreen(i), alpha[i]);
      blue[i] = overWhite(icm.getBlue(i), alpha[i]);
      gray &= red[i] == green[i] && green[i] == blue[i];
    }
    int c = gray ? 1 : 3;
    byte[] out = new byte[w * h * c];
    int[] row = new int[w];
    for (int y = 0; y < h; y++) {
      r.getSamples(0, y, w, 1, 0, row);
      for (int x = 0; x < w; x++) {
        int idx = Math.min(row[x], n - 1);
        int o = (y * w + x) * c;
        out[o] = (byte) red[idx];
        if (c == 3) {
          out[o + 1] = (byte) green[idx];
          out[o + 2] = (byte) blue[idx];
        }
      }
    }
    return new Pixels(out, w, h, c);
  }

  private static Pixels fromComponents(ColorModel cm, Raster r, int w, int h, int colorBands, boolean hasAlpha) {
    byte[] out = new byte[w * h * colorBands];
    int[][] rows = new int[colorBands + (hasAlpha ? 1 : 0)][w];
    int[] max = new int[rows.length];
    for (int b = 0; b < rows.length; b++) {
      max[b] = (1 << cm.getComponentSize(b)) - 1;
    }
    for (int y = 0; y < h; y++) {
      for (int b = 0; b < rows.length; b++) {
        r.getSamples(0, y, w, 1, b, rows[b]);
      }
      for (int x = 0; x < w; x++) {
        int a = hasAlpha ? to8(rows[colorBands][x], max[colorBands]) : 255;
        int o = (y * w + x) * colorBands;
        for (int b = 0; b < colorBands; b++) {
          out[o + b] = (byte) overWhite(to8(rows[b][x], max[b]), a);
        }
      }
    }
    return new Pixels(out, w, h, colorBands);
  }

  private static int to8(int v, int max) {
    return max == 255 ? v : (int) (((long) v * 255 + max / 2) / max);
  }

  /** Composites an 8-bit value with 8-bit alpha over a white background. */
  static int overWhite(int v, int alpha) {
    return alpha == 255 ? v : (v * alpha + 255 * (255 - alpha) + 127) / 255;
  }

  // ---- conversion and resampling -----------------------------------------------------------------

  static byte[] convertChannels(byte[] px, int n, int from, int to) {
    if (from == to) {
      return px;
    }
    byte[] out = new byte[n * to];
    if (from == 3 && to == 1) {
      for (int i = 0; i < n; i++) {
        int r = px[3 * i] & 0xff;
        int g = px[3 * i + 1] & 0xff;
        int b = px[3 * i + 2] & 0xff;
        out[i] = (byte) ((299 * r + 587 * g + 114 * b + 500) / 1000);
      }
    } else if (from == 1 && to == 3) {
      for (int i = 0; i < n; i++) {
        out[3 * i] = px[i];
        out[3 * i + 1] = px[i];
        out[3 * i + 2] = px[i];
      }
    } else {
      throw new IllegalArgumentException("cannot convert " + from + " to " + to + " channels");
    }
    return out;
  }

  /** Centered square crop, then a separable triangle-filter resize to {@code size x size}. */
  static byte[] cropAndResize(byte[] px, int w, int h, int c, int size) {
    int side = Math.min(w, h);
    int x0 = (w - side) / 2;
    int y0 = (h - side) / 2;
    if (side == size) {
      if (w == side && h == side) {
        return px;
      }
      byte[] out = new byte[size * size * c];
      for (int y = 0; y < size; y++) {
        System.arraycopy(px, ((y0 + y) * w + x0) * c, out, y * size * c, size * c);
      }
      return out;
    }
    Weights wx = Weights.of(side, size);
    Weights wy = Weights.of(side, size);
    // Horizontal pass over the rows of the crop: side rows x size columns.
    float[] tmp = new float[side * size * c];
    for (int y = 0; y < side; y++) {
      int rowBase = ((y0 + y) * w + x0) * c;
      for (int ox = 0; ox < size; ox++) {
        int start = wx.start[ox];
        float[] k = wx.weights[ox];
        for (int ch = 0; ch < c; ch++) {
          float acc = 0;
          for (int j = 0; j < k.length; j++) {
            acc += k[j] * (px[rowBase + (start + j) * c + ch] & 0xff);
          }
          tmp[(y * size + ox) * c + ch] = acc;
        }
      }
    }
    byte[] out = new byte[size * size * c];
    for (int oy = 0; oy < size; oy++) {
      int start = wy.start[oy];
      float[] k = wy.weights[oy];
      for (int ox = 0; ox < size; ox++) {
        for (int ch = 0; ch < c; ch++) {
          float acc = 0;
          for (int j = 0; j < k.length; j++) {
            acc += k[j] * tmp[((start + j) * size + ox) * c + ch];
          }
          out[(oy * size + ox) * c + ch] = (byte) Math.max(0, Math.min(255, Math.round(acc)));
        }
      }
    }
    return out;
  }

  /** Per output pixel: the first input pixel and the normalized weights of the triangle filter. */
  private record Weights(int[] start, float[][] weights) {
    static Weights of(int in, int out) {
      double scale = (double) in / out;
      double support = Math.max(scale, 1.0);
      int[] start = new int[out];
      float[][] weights = new float[out][];
      for (int i = 0; i < out; i++) {
        double center = (i + 0.5) * scale;
        int lo = Math.max(0, (int) Math.floor(center - support));
        int hi = Math.min(in, (int) Math.ceil(center + support));
        double[] wts = new double[hi - lo];
        double sum = 0;
        for (int j = lo; j < hi; j++) {
          double wt = Math.max(0, 1 - Math.abs(j + 0.5 - center) / support);
          wts[j - lo] = wt;
          sum += wt;
        }
        if (sum == 0) { // cannot happen for in >= 1, but never divide by zero
          wts[Math.min(wts.length - 1, (int) (center - lo))] = 1;
          sum = 1;
        }
        float[] f = new float[wts.length];
        for (int j = 0; j < wts.length; j++) {
          f[j] = (float) (wts[j] / sum);
        }
        start[i] = lo;
        weights[i] = f;
      }
      return new Weights(start, weights);
    }
  }
}
