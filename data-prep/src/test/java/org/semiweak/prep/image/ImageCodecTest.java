package org.semiweak.prep.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.semiweak.prep.Reason;
import org.semiweak.prep.TestImages;
import org.semiweak.util.PngEncoder;

class ImageCodecTest {
  /** A 28x28 gray picture with every value 0..255 and a transparent-looking (0) border. */
  private static final byte[] PICTURE = picture(28, 28);

  private static byte[] picture(int w, int h) {
    byte[] p = new byte[w * h];
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        boolean border = x == 0 || y == 0 || x == w - 1 || y == h - 1;
        p[y * w + x] = (byte) (border ? 0 : 1 + (y * w + x) * 7 % 255);
      }
    }
    return p;
  }

  private final ImageCodec gray28 = new ImageCodec(28, 1, 1_000_000);

  private static byte[] decodeGray(CanonicalImage img) throws IOException {
    BufferedImage b = ImageIO.read(new ByteArrayInputStream(img.png()));
    byte[] out = new byte[b.getWidth() * b.getHeight()];
    b.getRaster().getDataElements(0, 0, b.getWidth(), b.getHeight(), out);
    return out;
  }

  @Test
  void losslessFormatsOfOnePictureGiveTheSamePixelsAndHash() throws Exception {
    CanonicalImage reference = gray28.fromPixels(PICTURE, 28, 28, 1);
    assertThat(decodeGray(reference)).as("canonical PNG round-trips the pixels").isEqualTo(PICTURE);
    for (var variant : new Object[][] {
        {"8-bit gray PNG", TestImages.grayPng(PICTURE, 28, 28)},
        {"16-bit gray PNG", TestImages.gray16Png(PICTURE, 28, 28)},
        {"RGB PNG with R=G=B", TestImages.rgbPng(PICTURE, 28, 28)},
        {"palette PNG", TestImages.palettePng(PICTURE, 28, 28)}}) {
      CanonicalImage img = gray28.canonicalize((byte[]) variant[1]);
      assertThat(img.contentHash()).as(variant[0] + " has the content hash of the raw pixels").isEqualTo(reference.contentHash());
      assertThat(decodeGray(img)).as(variant[0] + " pixels").isEqualTo(PICTURE);
    }
  }

  @Test
  void transparentPixelsAreCompositedOverWhite() throws Exception {
    byte[] pixels = decodeGray(gray28.canonicalize(TestImages.rgbaPng(PICTURE, 28, 28)));
    assertThat(pixels[0] & 0xff).as("a fully transparent pixel becomes white").isEqualTo(255);
    assertThat(pixels[29]).as("an opaque pixel keeps its value").isEqualTo(PICTURE[29]);
  }

  @Test
  void resizesTheCenteredSquareAndConvertsChannels() throws Exception {
    byte[] wide = picture(90, 60);
    ImageCodec rgb32 = new ImageCodec(32, 3, 1_000_000);
    CanonicalImage img = rgb32.canonicalize(TestImages.grayPng(wide, 90, 60));
    assertThat(new int[] {img.width(), img.height(), img.channels()}).as("32x32 RGB").containsExactly(32, 32, 3);
    BufferedImage b = ImageIO.read(new ByteArrayInputStream(img.png()));
    assertThat(b.getColorModel().getNumComponents()).as("PNG has 3 color components").isEqualTo(3);
    int rgb = b.getRGB(16, 16);
    assertThat((rgb >> 16) & 0xff).as("gray replicated to R = G").isEqualTo((rgb >> 8) & 0xff);

    CanonicalImage jpeg = gray28.canonicalize(TestImages.grayJpeg(picture(56, 56), 56, 56));
    assertThat(new int[] {jpeg.width(), jpeg.height(), jpeg.channels()}).as("JPEG downscaled to 28x28 gray")
        .containsExactly(28, 28, 1);
  }

  @Test
  void constantImageStaysConstantWhenResampled() throws Exception {
    byte[] flat = new byte[40 * 30];
    java.util.Arrays.fill(flat, (byte) 77);
    for (int size : new int[] {12, 28, 64}) {
      CanonicalImage img = new ImageCodec(size, 1, 1_000_000).fromPixels(flat, 40, 30, 1);
      assertThat(decodeGray(img)).as("every pixel of a flat image resized to " + size).containsOnly((byte) 77);
    }
  }

  @Test
  void rejectsBrokenInputWithItsReason() {
    byte[] png = TestImages.grayPng(PICTURE, 28, 28);
    assertReason(new byte[0], Reason.EMPTY, "zero bytes");
    assertReason("hello, not an image".getBytes(StandardCharsets.UTF_8), Reason.NOT_AN_IMAGE, "no PNG, JPEG, GIF, BMP or WebP signature");
    assertReason(TestImages.truncate(png, 0.6), Reason.TRUNCATED, "the file was cut off");
    assertReason(TestImages.truncate(png, 0.97), Reason.TRUNCATED, "the file was cut off");
    assertReason(TestImages.truncate(TestImages.grayJpeg(PICTURE, 28, 28), 0.7), Reason.TRUNCATED, "end-of-image");
    assertReason(TestImages.corruptPng(), Reason.CORRUPT, "IHDR");
    assertReason(TestImages.pngHeaderOnly(100_000, 100_000), Reason.TOO_LARGE, "10000000000 pixels");
    byte[] flipped = png.clone();
    flipped[flipped.length / 2] ^= 0x55;
    assertReason(flipped, Reason.CORRUPT, "wrong CRC");
    byte[] tiff = "II*\0\u0008\0\0\0".getBytes(StandardCharsets.ISO_8859_1);
    assertReason(tiff, Reason.UNSUPPORTED_FORMAT, "TIFF images are not supported");
  }

  private void assertReason(byte[] data, Reason reason, String detail) {
    assertThatThrownBy(() -> gray28.canonicalize(data))
        .as("expected " + reason.code())
        .isInstanceOfSatisfying(ImageRejectedException.class, e -> {
          assertThat(e.reason()).as("reason").isEqualTo(reason);
          assertThat(e.detail()).as("detail").contains(detail);
        });
  }

  @Test
  void pngEncoderOutputIsDeterministicAndDecodable() throws Exception {
    PngEncoder enc = new PngEncoder();
    byte[] a = enc.encode(PICTURE, 28, 28, 1);
    byte[] b = new PngEncoder().encode(PICTURE, 28, 28, 1);
    assertThat(a).as("same pixels, same bytes").isEqualTo(b);
    ImageCodec.checkStructure(ImageFormat.PNG, a);
    assertThat(ImageFormat.readHeader(a)).as("header").isEqualTo(new ImageFormat.Header(ImageFormat.PNG, 28, 28));
  }
}
