package org.semiweak.prep.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.semiweak.prep.TestImages.fixture;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Arrays;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.semiweak.prep.Reason;
import org.semiweak.prep.TestImages;

/**
 * Images as crawled data has them, from real files: WebP written by libwebp and CMYK/YCCK JPEGs
 * written by libjpeg (src/test/resources/images/web/make-fixtures.sh made each one, from the
 * pictures below), decoded into the same RGB/gray pipeline as PNG.
 */
class WebImagesTest {
  private static final int N = 32;

  private final ImageCodec rgb32 = new ImageCodec(N, 3, 1_000_000);

  /** The picture of the WebP fixtures: R = 8x + 4, G = 8y + 4, B = 255 - 4(x + y). */
  private static int[] gradient(int x, int y) {
    return new int[] {8 * x + 4, 8 * y + 4, 255 - 4 * (x + y)};
  }

  /** The alpha of the alpha fixtures: transparent left half, opaque top right, half-transparent bottom right. */
  private static int alpha(int x, int y) {
    return x < 16 ? 0 : y < 16 ? 255 : 128;
  }

  /** The RGB the CMYK fixtures should give: white, black / gray, cyan quadrants. */
  private static int[] patch(int x, int y) {
    int[][] quadrants = {{255, 255, 255}, {0, 0, 0}, {127, 127, 127}, {0, 255, 255}};
    return quadrants[2 * (y / 16) + x / 16];
  }

  private interface Picture {
    int[] rgb(int x, int y);
  }

  private static byte[] samples(Picture p) {
    byte[] out = new byte[N * N * 3];
    for (int y = 0; y < N; y++) {
      for (int x = 0; x < N; x++) {
        int[] rgb = p.rgb(x, y);
        for (int c = 0; c < 3; c++) {
          out[(y * N + x) * 3 + c] = (byte) rgb[c];
        }
      }
    }
    return out;
  }

  /** The gradient composited over white by its alpha, as ImageCodec composites PNG alpha. */
  private static int[] gradientOverWhite(int x, int y) {
    int[] rgb = gradient(x, y);
    return new int[] {ImageCodec.overWhite(rgb[0], alpha(x, y)), ImageCodec.overWhite(rgb[1], alpha(x, y)),
        ImageCodec.overWhite(rgb[2], alpha(x, y))};
  }

  /** The canonical image's samples, row-major, R G B per pixel. */
  private static byte[] samples(CanonicalImage img) throws IOException {
    BufferedImage b = ImageIO.read(new ByteArrayInputStream(img.png()));
    int[] s = b.getRaster().getPixels(0, 0, b.getWidth(), b.getHeight(), (int[]) null);
    byte[] out = new byte[s.length];
    for (int i = 0; i < s.length; i++) {
      out[i] = (byte) s[i];
    }
    return out;
  }

  private static int maxDifference(byte[] a, byte[] b) {
    int max = 0;
    for (int i = 0; i < a.length; i++) {
      max = Math.max(max, Math.abs((a[i] & 0xff) - (b[i] & 0xff)));
    }
    return max;
  }

  private static double meanDifference(byte[] a, byte[] b) {
    long sum = 0;
    for (int i = 0; i < a.length; i++) {
      sum += Math.abs((a[i] & 0xff) - (b[i] & 0xff));
    }
    return (double) sum / a.length;
  }

  private static ImageFormat.Header header(String name) throws ImageRejectedException {
    return ImageFormat.readHeader(fixture(name));
  }

  @Test
  void losslessWebPDecodesToExactlyTheSourcePixels() throws Exception {
    assertThat(header("web/lossless.webp")).as("VP8L header").isEqualTo(new ImageFormat.Header(ImageFormat.WEBP, N, N));
    CanonicalImage img = rgb32.canonicalize(fixture("web/lossless.webp"));
    assertThat(new int[] {img.width(), img.height(), img.channels()}).as("32x32 RGB").containsExactly(N, N, 3);
    byte[] source = samples(WebImagesTest::gradient);
    assertThat(samples(img)).as("every sample of the gradient").isEqualTo(source);
    assertThat(img.contentHash()).as("the content hash of the source pixels")
        .isEqualTo(rgb32.fromPixels(source, N, N, 3).contentHash());
  }

  @Test
  void lossyWebPDecodesCloseToTheSourcePixels() throws Exception {
    assertThat(header("web/lossy.webp")).as("VP8 header").isEqualTo(new ImageFormat.Header(ImageFormat.WEBP, N, N));
    byte[] decoded = samples(rgb32.canonicalize(fixture("web/lossy.webp")));
    byte[] source = samples(WebImagesTest::gradient);
    assertThat(meanDifference(decoded, source)).as("mean error of quality-90 lossy coding").isLessThan(4.0);
    assertThat(maxDifference(decoded, source)).as("largest error of one sample (4:2:0 chroma at the corners)").isLessThanOrEqualTo(24);
  }

  @Test
  void webPAlphaIsCompositedOverWhiteAsPngAlphaIs() throws Exception {
    byte[] expected = samples(WebImagesTest::gradientOverWhite);
    CanonicalImage lossless = rgb32.canonicalize(fixture("web/alpha-lossless.webp"));
    assertThat(samples(lossless)).as("lossless WebP: transparent is white, half-transparent is half white").isEqualTo(expected);
    assertThat(lossless.contentHash()).as("the content hash of an RGBA PNG of the same pixels")
        .isEqualTo(rgb32.canonicalize(rgbaPngOfTheAlphaPicture()).contentHash());

    byte[] lossy = samples(rgb32.canonicalize(fixture("web/alpha-lossy.webp")));
    for (int y = 0; y < N; y++) {
      for (int x = 0; x < 16; x++) {
        for (int c = 0; c < 3; c++) {
          assertThat(lossy[(y * N + x) * 3 + c] & 0xff).as("lossy WebP, lossless alpha: transparent (%d,%d) is white", x, y).isEqualTo(255);
        }
      }
    }
    assertThat(maxDifference(lossy, expected)).as("lossy WebP with alpha, largest error of one sample").isLessThanOrEqualTo(24);
  }

  private static byte[] rgbaPngOfTheAlphaPicture() throws IOException {
    BufferedImage img = new BufferedImage(N, N, BufferedImage.TYPE_4BYTE_ABGR);
    for (int y = 0; y < N; y++) {
      for (int x = 0; x < N; x++) {
        int[] rgb = gradient(x, y);
        img.getRaster().setPixel(x, y, new int[] {rgb[0], rgb[1], rgb[2], alpha(x, y)});
      }
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ImageIO.write(img, "png", out);
    return out.toByteArray();
  }

  @Test
  void animatedWebPGivesItsFirstFrame() throws Exception {
    byte[] file = fixture("web/animated.webp");
    assertThat(file[20] & 0x02).as("VP8X flags say: animation").isEqualTo(0x02);
    assertThat(ImageFormat.readHeader(file)).as("VP8X canvas").isEqualTo(new ImageFormat.Header(ImageFormat.WEBP, N, N));
    assertThat(samples(rgb32.canonicalize(file))).as("the first frame (the gradient), not the second (blue)")
        .isEqualTo(samples(WebImagesTest::gradient));
  }

  @Test
  void cmykAndYcckJpegsBecomeRgb() throws Exception {
    for (String name : new String[] {"web/cmyk.jpg", "web/ycck.jpg"}) {
      byte[] file = fixture(name);
      assertThat(adobeTransform(file)).as(name + " has an Adobe APP14 marker").isNotNegative();
      CanonicalImage img = rgb32.canonicalize(file);
      assertThat(new int[] {img.width(), img.height(), img.channels()}).as(name + " 32x32 RGB").containsExactly(N, N, 3);
      // No ICC profile is embedded, so TwelveMonkeys uses its built-in conversion
      // (R = (255 - C)(255 - K) / 255 ...) where the OS has no generic CMYK profile, as on Linux.
      assertThat(maxDifference(samples(img), samples(WebImagesTest::patch)))
          .as(name + ": white, black, gray and cyan quadrants, largest error of one sample").isLessThanOrEqualTo(3);
    }
    assertThat(adobeTransform(fixture("web/cmyk.jpg"))).as("cmyk.jpg: transform 0, plain CMYK").isEqualTo(0);
    assertThat(adobeTransform(fixture("web/ycck.jpg"))).as("ycck.jpg: transform 2, YCCK").isEqualTo(2);

    int[] gray = ImageIO.read(new ByteArrayInputStream(new ImageCodec(N, 1, 1_000_000)
        .canonicalize(fixture("web/cmyk.jpg")).png())).getRaster().getPixels(0, 0, N, N, (int[]) null);
    assertThat(gray[31 * N + 31]).as("at 1 channel, cyan becomes its BT.601 luma (0.587 + 0.114) * 255")
        .isBetween(177, 181);
  }

  /** The transform byte of the Adobe APP14 segment (0 CMYK, 1 YCbCr, 2 YCCK), or -1 without one. */
  private static int adobeTransform(byte[] jpeg) {
    for (int i = 2; i + 4 < jpeg.length && (jpeg[i] & 0xff) == 0xff; ) {
      int marker = jpeg[i + 1] & 0xff;
      int len = ImageFormat.u16be(jpeg, i + 2);
      if (marker == 0xee && new String(jpeg, i + 4, 5, java.nio.charset.StandardCharsets.US_ASCII).equals("Adobe")) {
        return jpeg[i + 15] & 0xff;
      }
      if (marker == 0xda) {
        break;
      }
      i += 2 + len;
    }
    return -1;
  }

  @Test
  void brokenWebPIsRejectedSayingWhatIsWrong() {
    byte[] lossy = fixture("web/lossy.webp");
    assertReason(TestImages.truncate(lossy, 0.6), Reason.TRUNCATED, "RIFF header declares 178 bytes but the file has 106: the file was cut off");

    byte[] cutWithItsLengthRewritten = withRiffLength(TestImages.truncate(lossy, 0.6));
    assertReason(cutWithItsLengthRewritten, Reason.TRUNCATED, "WebP chunk 'VP8 ' at byte 12 declares 158 bytes but the file ends at 106: the file was cut off");

    assertReason(Arrays.copyOf(lossy, 16), Reason.TRUNCATED, "WebP VP8 header cut off after 16 bytes");

    byte[] noStartCode = lossy.clone();
    noStartCode[23] = 0;
    assertReason(noStartCode, Reason.CORRUPT, "no start code");

    byte[] lossless = fixture("web/lossless.webp");
    byte[] noSignature = lossless.clone();
    noSignature[20] = 0;
    assertReason(noSignature, Reason.CORRUPT, "signature byte 0x2f");

    byte[] unknownChunk = lossless.clone();
    unknownChunk[15] = 'Q';
    assertReason(unknownChunk, Reason.CORRUPT, "not VP8, VP8L or VP8X");
  }

  private static byte[] withRiffLength(byte[] webp) {
    byte[] b = webp.clone();
    int riff = b.length - 8;
    for (int i = 0; i < 4; i++) {
      b[4 + i] = (byte) (riff >> (8 * i));
    }
    return b;
  }

  private void assertReason(byte[] data, Reason reason, String detail) {
    assertThatThrownBy(() -> rgb32.canonicalize(data))
        .as("expected " + reason.code() + ": " + detail)
        .isInstanceOfSatisfying(ImageRejectedException.class, e -> {
          assertThat(e.reason()).as("reason of: " + e.detail()).isEqualTo(reason);
          assertThat(e.detail()).as("detail").contains(detail);
        });
  }
}
