package org.semiweak.prep;

import java.awt.image.BufferedImage;
import java.awt.image.IndexColorModel;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Arrays;
import javax.imageio.ImageIO;
import org.semiweak.util.PngEncoder;

/** Encoded test images in many flavors, all made from one 8-bit gray picture. */
public final class TestImages {
  private TestImages() {}

  public static BufferedImage gray(byte[] pixels, int w, int h) {
    BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_BYTE_GRAY);
    img.getRaster().setDataElements(0, 0, w, h, pixels);
    return img;
  }

  public static byte[] grayPng(byte[] pixels, int w, int h) {
    return encode(gray(pixels, w, h), "png");
  }

  public static byte[] grayJpeg(byte[] pixels, int w, int h) {
    return encode(gray(pixels, w, h), "jpeg");
  }

  /** 16-bit gray PNG whose samples are v * 257 (exactly v after rounding to 8 bits). */
  public static byte[] gray16Png(byte[] pixels, int w, int h) {
    BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_USHORT_GRAY);
    for (int i = 0; i < pixels.length; i++) {
      img.getRaster().setSample(i % w, i / w, 0, (pixels[i] & 0xff) * 257);
    }
    return encode(img, "png");
  }

  /** RGB PNG with R = G = B = the gray value (its luma is exactly the gray value). */
  public static byte[] rgbPng(byte[] pixels, int w, int h) {
    BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    for (int i = 0; i < pixels.length; i++) {
      int v = pixels[i] & 0xff;
      img.setRGB(i % w, i / w, (v << 16) | (v << 8) | v);
    }
    return encode(img, "png");
  }

  /** RGBA PNG: pixels whose gray value is 0 become fully transparent black, the rest opaque gray. */
  public static byte[] rgbaPng(byte[] pixels, int w, int h) {
    BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_ARGB);
    for (int i = 0; i < pixels.length; i++) {
      int v = pixels[i] & 0xff;
      int argb = v == 0 ? 0 : (0xff << 24) | (v << 16) | (v << 8) | v;
      img.setRGB(i % w, i / w, argb);
    }
    return encode(img, "png");
  }

  /** Palette PNG with a 256-entry gray palette (index = gray value). */
  public static byte[] palettePng(byte[] pixels, int w, int h) {
    byte[] ramp = new byte[256];
    for (int i = 0; i < 256; i++) {
      ramp[i] = (byte) i;
    }
    IndexColorModel cm = new IndexColorModel(8, 256, ramp, ramp, ramp);
    BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_BYTE_INDEXED, cm);
    img.getRaster().setDataElements(0, 0, w, h, pixels);
    return encode(img, "png");
  }

  /** A valid PNG signature and IHDR declaring {@code w x h}, then IEND: no pixels at all. */
  public static byte[] pngHeaderOnly(long w, long h) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'});
    byte[] ihdr = new byte[13];
    PngEncoder.putInt(ihdr, 0, (int) w);
    PngEncoder.putInt(ihdr, 4, (int) h);
    ihdr[8] = 8;
    PngEncoder.chunk(out, "IHDR", ihdr);
    PngEncoder.chunk(out, "IEND", new byte[0]);
    return out.toByteArray();
  }

  /**
   * A real image file committed under {@code src/test/resources/images/}, e.g. {@code web/lossy.webp}
   * (how each was made: {@code images/web/make-fixtures.sh}).
   */
  public static byte[] fixture(String name) {
    try (var in = TestImages.class.getResourceAsStream("/images/" + name)) {
      if (in == null) {
        throw new IllegalStateException("no test resource images/" + name);
      }
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The first {@code fraction} of the bytes. */
  public static byte[] truncate(byte[] data, double fraction) {
    return Arrays.copyOf(data, (int) (data.length * fraction));
  }

  /** A PNG signature followed by garbage. */
  public static byte[] corruptPng() {
    byte[] b = new byte[200];
    Arrays.fill(b, (byte) 0x5a);
    System.arraycopy(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'}, 0, b, 0, 8);
    return b;
  }

  static byte[] encode(BufferedImage img, String format) {
    try {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      if (!ImageIO.write(img, format, out)) {
        throw new IllegalStateException("no ImageIO writer for " + format);
      }
      return out.toByteArray();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
