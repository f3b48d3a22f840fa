package org.semiweak.model;

import org.semiweak.util.PngEncoder;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;

class ImageTensorsTest {
  private static final ModelSpec GRAY4 = ModelSpec.smallResNet(1, 8, 2, 1, 4)
      .withNormalization(new float[] {0.5f}, new float[] {0.25f});

  private static byte[] ramp(int size) {
    byte[] px = new byte[size * size];
    for (int i = 0; i < px.length; i++) {
      px[i] = (byte) (i * 3);
    }
    return px;
  }

  @Test
  void decodesGrayPngExactlyAndNormalizes() {
    byte[] px = ramp(8);
    byte[] png = new PngEncoder().encode(px, 8, 8, 1);
    assertThat(ImageTensors.decodePixels(png, GRAY4, "img-1")).as("gray values survive PNG").isEqualTo(px);
    float[] x = ImageTensors.decode(png, GRAY4, "img-1");
    assertThat(x[5]).as("(15/255 - 0.5) / 0.25").isCloseTo((15 / 255f - 0.5f) / 0.25f, within(1e-6f));
  }

  @Test
  void convertsBetweenGrayAndRgb() throws Exception {
    BufferedImage rgb = new BufferedImage(8, 8, BufferedImage.TYPE_INT_RGB);
    rgb.setRGB(0, 0, 0xff0000);
    rgb.setRGB(1, 0, 0x00ff00);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ImageIO.write(rgb, "png", out);
    byte[] gray = ImageTensors.decodePixels(out.toByteArray(), GRAY4, "rgb");
    assertThat(gray[0] & 0xff).as("luma of pure red").isEqualTo(76);
    assertThat(gray[1] & 0xff).as("luma of pure green").isEqualTo(150);

    ModelSpec rgbSpec = ModelSpec.smallResNet(3, 8, 2, 1, 4);
    byte[] chw = ImageTensors.decodePixels(new PngEncoder().encode(ramp(8), 8, 8, 1), rgbSpec, "gray");
    assertThat(chw).hasSize(3 * 64);
    assertThat(chw[64 + 5]).as("green plane repeats the gray value").isEqualTo(chw[5]);
  }

  @Test
  void rejectsWrongSizesAndGarbageNamingTheImage() {
    byte[] png16 = new PngEncoder().encode(new byte[16 * 16], 16, 16, 1);
    assertThatThrownBy(() -> ImageTensors.decodePixels(png16, GRAY4, "fmnist-train-00007"))
        .hasMessageContaining("image fmnist-train-00007 is 16x16 but the model expects 8x8");
    assertThatThrownBy(() -> ImageTensors.decodePixels(new byte[] {1, 2, 3}, GRAY4, "junk-1"))
        .hasMessageContaining("junk-1").hasMessageContaining("not a PNG or JPEG");
  }

  @Test
  void augmentationIsReproducibleAndIsAShiftOrFlipOfTheImage() {
    byte[] px = ramp(8);
    float[] plain = new float[64];
    ImageTensors.normalize(px, GRAY4, plain, 0);
    float[] a = new float[64];
    float[] b = new float[64];
    ImageTensors.augment(px, GRAY4, 2, true, 42L, a, 0);
    ImageTensors.augment(px, GRAY4, 2, true, 42L, b, 0);
    assertThat(a).as("same seed, same augmentation").isEqualTo(b);

    int differing = 0;
    for (long seed = 0; seed < 20; seed++) {
      ImageTensors.augment(px, GRAY4, 2, true, seed, a, 0);
      if (!java.util.Arrays.equals(a, plain)) {
        differing++;
      }
      float black = (0 - 0.5f) / 0.25f;
      for (float v : a) {
        assertThat(v).as("every value is an image value or black padding")
            .satisfiesAnyOf(x -> assertThat(x).isEqualTo(black), x -> assertThat(plain).contains(x));
      }
    }
    assertThat(differing).as("most seeds shift or flip the image").isGreaterThan(10);

    ImageTensors.augment(px, GRAY4, 0, false, 99L, a, 0);
    assertThat(a).as("no padding and no flip is plain normalization").isEqualTo(plain);
  }

  @Test
  void cutoutSetsOneSquareToTheMeanAndLeavesTheCropAndFlipOfTheSameSeedAsTheyWere() {
    byte[] px = ramp(8);
    float[] shifted = new float[64];
    float[] cut = new float[64];
    int squares = 0;
    for (long seed = 0; seed < 50; seed++) {
      ImageTensors.augment(px, GRAY4, 2, true, seed, shifted, 0);
      ImageTensors.augment(px, GRAY4, 2, true, 3, seed, cut, 0);
      int minY = 8, maxY = -1, minX = 8, maxX = -1, changed = 0;
      for (int y = 0; y < 8; y++) {
        for (int x = 0; x < 8; x++) {
          int i = y * 8 + x;
          if (cut[i] != shifted[i]) {
            assertThat(cut[i]).as("a cut pixel is the mean: 0 after normalization").isZero();
            changed++;
            minY = Math.min(minY, y);
            maxY = Math.max(maxY, y);
            minX = Math.min(minX, x);
            maxX = Math.max(maxX, x);
          }
        }
      }
      if (changed > 0) {
        squares++;
        assertThat(Math.max(maxY - minY, maxX - minX) + 1).as("within a 3x3 square").isLessThanOrEqualTo(3);
      }
    }
    assertThat(squares).as("the square changes the image for almost every seed (not where it was 0 already)")
        .isGreaterThan(40);

    ImageTensors.augment(px, GRAY4, 0, false, 16, 5L, cut, 0);
    assertThat(cut).as("a square twice the image side covers it whatever its center").containsOnly(0f);
    ImageTensors.augment(px, GRAY4, 2, true, 0, 7L, cut, 0);
    ImageTensors.augment(px, GRAY4, 2, true, 7L, shifted, 0);
    assertThat(cut).as("cutout 0 is no cutout").isEqualTo(shifted);
  }
}
