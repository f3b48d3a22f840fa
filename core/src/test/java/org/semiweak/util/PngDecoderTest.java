package org.semiweak.util;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.awt.image.BufferedImage;
import java.awt.image.Raster;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.zip.Deflater;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;

/**
 * The PNG fast path gives exactly the samples ImageIO's raster gives, for every row filter, and
 * declines (null) every PNG it does not handle, so that callers fall back to ImageIO.
 */
class PngDecoderTest {
  private final PngDecoder decoder = new PngDecoder();

  @Test
  void givesImageIosSamplesForPrepsPngsOfEverySizeAndChannelCount() throws IOException {
    SplittableRandom random = new SplittableRandom(3);
    PngEncoder encoder = new PngEncoder();
    for (int channels : new int[] {1, 3}) {
      for (int[] wh : new int[][] {{28, 28}, {224, 224}, {1, 1}, {7, 3}, {3, 40}}) {
        byte[] pixels = texture(wh[0], wh[1], channels, random);
        byte[] png = encoder.encode(pixels, wh[0], wh[1], channels);

        PngDecoder.Planar p = decoder.decodePlanar(png);

        assertThat(p).as("%dx%dx%d is decoded", wh[0], wh[1], channels).isNotNull();
        assertThat(p.width()).isEqualTo(wh[0]);
        assertThat(p.height()).isEqualTo(wh[1]);
        assertThat(p.channels()).isEqualTo(channels);
        assertThat(p.pixels()).as("%dx%dx%d: ImageIO's samples", wh[0], wh[1], channels)
            .isEqualTo(imageIoPlanes(png, channels));
      }
    }
  }

  @Test
  void undoesEachOfTheFiveRowFilters() throws IOException {
    SplittableRandom random = new SplittableRandom(5);
    for (int channels : new int[] {1, 3}) {
      for (int filter = 0; filter <= 4; filter++) {
        int width = 9;
        int height = 6;
        byte[] pixels = texture(width, height, channels, random);
        byte[] png = pngWithFilter(pixels, width, height, channels, filter, "", 1);

        assertThat(decoder.decodePlanar(png).pixels()).as("filter %d, %d channels", filter, channels)
            .isEqualTo(imageIoPlanes(png, channels));
      }
    }
  }

  @Test
  void readsImageDataSplitOverSeveralChunksAndSkipsAncillaryChunks() throws IOException {
    byte[] pixels = texture(16, 16, 3, new SplittableRandom(8));
    byte[] png = pngWithFilter(pixels, 16, 16, 3, 4, "gAMA", 5);

    assertThat(decoder.decodePlanar(png).pixels()).isEqualTo(imageIoPlanes(png, 3));
  }

  @Test
  void declinesWhatItDoesNotHandleSoThatImageIoDecodesIt() throws IOException {
    assertThat(decoder.decodePlanar(imageIo(new BufferedImage(8, 8, BufferedImage.TYPE_BYTE_INDEXED), "png")))
        .as("a palette").isNull();
    assertThat(decoder.decodePlanar(imageIo(new BufferedImage(8, 8, BufferedImage.TYPE_USHORT_GRAY), "png")))
        .as("16-bit samples").isNull();
    assertThat(decoder.decodePlanar(imageIo(new BufferedImage(8, 8, BufferedImage.TYPE_INT_ARGB), "png")))
        .as("alpha").isNull();
    assertThat(decoder.decodePlanar(imageIo(new BufferedImage(8, 8, BufferedImage.TYPE_3BYTE_BGR), "jpg")))
        .as("a JPEG").isNull();
    assertThat(decoder.decodePlanar(pngWithFilter(new byte[16], 4, 4, 1, 0, "tRNS", 1)))
        .as("a transparent colour").isNull();
    assertThat(decoder.decodePlanar(new byte[] {1, 2, 3})).as("not an image").isNull();
  }

  @Test
  void aTruncatedPngIsAnErrorThatSaysSo() {
    byte[] png = new PngEncoder().encode(texture(28, 28, 1, new SplittableRandom(1)), 28, 28, 1);
    byte[] cut = Arrays.copyOf(png, png.length / 2);

    assertThatThrownBy(() -> decoder.decodePlanar(cut)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("the file ends at " + cut.length);
  }

  /** Smooth gradients with noise: rows that make the encoder pick different filters. */
  private static byte[] texture(int width, int height, int channels, SplittableRandom random) {
    byte[] out = new byte[width * height * channels];
    for (int y = 0; y < height; y++) {
      for (int x = 0; x < width; x++) {
        for (int c = 0; c < channels; c++) {
          int v = (x * 7 + y * 3 * (c + 1)) % 256 + (y % 3 == 0 ? random.nextInt(0, 40) : 0);
          out[(y * width + x) * channels + c] = (byte) Math.min(255, v);
        }
      }
    }
    return out;
  }

  /** ImageIO's raster samples, as planes. */
  private static byte[] imageIoPlanes(byte[] png, int channels) throws IOException {
    BufferedImage img = ImageIO.read(new ByteArrayInputStream(png));
    Raster r = img.getRaster();
    int plane = img.getWidth() * img.getHeight();
    byte[] out = new byte[plane * channels];
    for (int c = 0; c < channels; c++) {
      int[] s = r.getSamples(0, 0, img.getWidth(), img.getHeight(), c, new int[plane]);
      for (int i = 0; i < plane; i++) {
        out[c * plane + i] = (byte) s[i];
      }
    }
    return out;
  }

  private static byte[] imageIo(BufferedImage img, String format) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    assertThat(ImageIO.write(img, format, bytes)).isTrue();
    return bytes.toByteArray();
  }

  /**
   * A PNG whose every row uses {@code filter}, its compressed data split over {@code idatChunks}
   * IDAT chunks, with an extra chunk of type {@code extraChunk} (none when empty) before the data.
   */
  private static byte[] pngWithFilter(byte[] pixels, int width, int height, int channels, int filter,
      String extraChunk, int idatChunks) {
    int stride = width * channels;
    byte[] raw = new byte[height * (stride + 1)];
    for (int y = 0; y < height; y++) {
      raw[y * (stride + 1)] = (byte) filter;
      for (int x = 0; x < stride; x++) {
        int cur = pixels[y * stride + x] & 0xff;
        int a = x >= channels ? pixels[y * stride + x - channels] & 0xff : 0;
        int b = y > 0 ? pixels[(y - 1) * stride + x] & 0xff : 0;
        int c = y > 0 && x >= channels ? pixels[(y - 1) * stride + x - channels] & 0xff : 0;
        int predicted = switch (filter) {
          case 0 -> 0;
          case 1 -> a;
          case 2 -> b;
          case 3 -> (a + b) >>> 1;
          default -> PngEncoder.paeth(a, b, c);
        };
        raw[y * (stride + 1) + 1 + x] = (byte) (cur - predicted);
      }
    }
    Deflater deflater = new Deflater();
    deflater.setInput(raw);
    deflater.finish();
    byte[] buf = new byte[raw.length * 2 + 64];
    int compressed = deflater.deflate(buf);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'});
    PngEncoder.chunk(out, "IHDR", ByteBuffer.allocate(13).putInt(width).putInt(height).put((byte) 8)
        .put((byte) (channels == 1 ? 0 : 2)).put((byte) 0).put((byte) 0).put((byte) 0).array());
    if (extraChunk.equals("gAMA")) {
      PngEncoder.chunk(out, "gAMA", ByteBuffer.allocate(4).putInt(45455).array());
    } else if (extraChunk.equals("tRNS")) {
      PngEncoder.chunk(out, "tRNS", new byte[channels == 1 ? 2 : 6]);
    }
    int per = (compressed + idatChunks - 1) / idatChunks;
    for (int from = 0; from < compressed; from += per) {
      PngEncoder.chunk(out, "IDAT", Arrays.copyOfRange(buf, from, Math.min(compressed, from + per)));
    }
    PngEncoder.chunk(out, "IEND", new byte[0]);
    return out.toByteArray();
  }

}
