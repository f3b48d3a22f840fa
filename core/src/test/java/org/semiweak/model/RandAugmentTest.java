package org.semiweak.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.semiweak.model.RandAugment.Op;

/** RandAugment's operations on tiny images, each against values worked out by hand. */
class RandAugmentTest {
  /** A 4x4 gray image: 10, 20, ..., 160 row by row. */
  private static byte[] steps4() {
    byte[] px = new byte[16];
    for (int i = 0; i < 16; i++) {
      px[i] = (byte) (10 * (i + 1));
    }
    return px;
  }

  private static int[] unsigned(byte[] px) {
    int[] out = new int[px.length];
    for (int i = 0; i < px.length; i++) {
      out[i] = px[i] & 0xff;
    }
    return out;
  }

  @Test
  void solarizeAtFullMagnitudeInvertsEveryPixelAndAtZeroNone() {
    assertThat(unsigned(RandAugment.apply(Op.SOLARIZE, steps4(), 1, 4, 30, false)))
        .as("threshold 0: every pixel v becomes 255 - v").startsWith(245, 235, 225).endsWith(95);
    assertThat(RandAugment.apply(Op.SOLARIZE, steps4(), 1, 4, 0, false)).as("threshold 255").isEqualTo(steps4());
  }

  @Test
  void posterizeAtFullMagnitudeKeepsFourBits() {
    assertThat(unsigned(RandAugment.apply(Op.POSTERIZE, steps4(), 1, 4, 30, false)))
        .as("v & 0xf0: 10 -> 0, 20 -> 16, 30 -> 16, 40 -> 32, ..., 160 -> 160")
        .startsWith(0, 16, 16, 32, 48, 48, 64, 80).endsWith(160);
  }

  @Test
  void autocontrastStretchesDarkestToZeroAndBrightestTo255() {
    int[] out = unsigned(RandAugment.apply(Op.AUTO_CONTRAST, steps4(), 1, 4, 0, false));
    assertThat(out[0]).isZero();
    assertThat(out[15]).isEqualTo(255);
    assertThat(out[1]).as("(20 - 10) * 255 / 150 = 17").isEqualTo(17);
  }

  @Test
  void brightnessScalesTowardsBlackOrAwayFromIt() {
    int level = 10; // factor 1 + 0.9 * 10 / 30 = 1.3, or 0.7 when negated
    assertThat(unsigned(RandAugment.apply(Op.BRIGHTNESS, steps4(), 1, 4, level, false))).startsWith(13, 26, 39);
    assertThat(unsigned(RandAugment.apply(Op.BRIGHTNESS, steps4(), 1, 4, level, true))).startsWith(7, 14, 21);
  }

  @Test
  void contrastMovesPixelsAwayFromTheMeanGray() {
    // mean of 10..160 is 85; factor 1.3: 85 + 1.3 (10 - 85) = -12.5 -> 0, 85 + 1.3 (160 - 85) = 182.5 -> 183
    int[] out = unsigned(RandAugment.apply(Op.CONTRAST, steps4(), 1, 4, 10, false));
    assertThat(out[0]).isZero();
    assertThat(out[15]).isEqualTo(183);
  }

  @Test
  void translateXShiftsTheImageAndFillsWithBlack() {
    // 150/331 * 4 px * 30/30 = 1.81 px, rounded to 2: each row moves 2 px right
    int[] out = unsigned(RandAugment.apply(Op.TRANSLATE_X, steps4(), 1, 4, 30, false));
    assertThat(out).startsWith(0, 0, 10, 20);
    int[] left = unsigned(RandAugment.apply(Op.TRANSLATE_X, steps4(), 1, 4, 30, true));
    assertThat(left).as("negated: 2 px left").startsWith(30, 40, 0, 0);
  }

  @Test
  void rotationByZeroAndIdentityKeepTheImage() {
    assertThat(RandAugment.apply(Op.ROTATE, steps4(), 1, 4, 0, false)).isEqualTo(steps4());
    assertThat(RandAugment.apply(Op.IDENTITY, steps4(), 1, 4, 30, false)).isEqualTo(steps4());
  }

  @Test
  void equalizeMapsLevelsByTheirCumulativeCountsAsPilDoes() {
    // 32x32: 512 pixels at 10, 256 at 20, 256 at 30. PIL: step = (1024 - 256) / 255 = 3, and level v
    // maps to (step / 2 + pixels below v) / step: 10 -> 1/3 = 0, 20 -> 513/3 = 171, 30 -> 769/3 -> 255.
    byte[] px = new byte[1024];
    java.util.Arrays.fill(px, 0, 512, (byte) 10);
    java.util.Arrays.fill(px, 512, 768, (byte) 20);
    java.util.Arrays.fill(px, 768, 1024, (byte) 30);
    int[] out = unsigned(RandAugment.apply(Op.EQUALIZE, px, 1, 32, 0, false));
    assertThat(new int[] {out[0], out[600], out[900]}).containsExactly(0, 171, 255);
    assertThat(RandAugment.apply(Op.EQUALIZE, steps4(), 1, 4, 0, false))
        .as("16 pixels: PIL's step is 0 and the image is left as it is").isEqualTo(steps4());
  }

  @Test
  void colorIsOnlyDrawnForRgbImages() {
    assertThat(RandAugment.opsFor(1)).doesNotContain(Op.COLOR).hasSize(Op.values().length - 1);
    assertThat(RandAugment.opsFor(3)).contains(Op.COLOR);
    byte[] rgb = new byte[3 * 4];
    rgb[0] = (byte) 255; // one red pixel of a 2x2 image
    int[] gray = unsigned(RandAugment.apply(Op.COLOR, rgb, 3, 2, 30, true));
    assertThat(new int[] {gray[0], gray[4], gray[8]}).as("factor 0.1 towards its luma 76: 76 + 0.1 (255 - 76), 76 - 7.6").containsExactly(94, 68, 68);
  }

  @Test
  void theSameSeedGivesTheSameImageAndZeroOpsLeaveItAlone() {
    byte[] a = RandAugment.apply(steps4(), 1, 4, 2, 9, new SplittableRandom(5));
    byte[] b = RandAugment.apply(steps4(), 1, 4, 2, 9, new SplittableRandom(5));
    assertThat(a).isEqualTo(b);
    byte[] px = steps4();
    assertThat(RandAugment.apply(px, 1, 4, 0, 9, new SplittableRandom(5))).isSameAs(px);
    assertThatThrownBy(() -> RandAugment.apply(px, 1, 4, 1, 31, new SplittableRandom(5)))
        .hasMessageContaining("magnitude must be in [0, 30], found 31");
  }

  @Test
  void augmentKeepsItsCropAndFlipWhenRandAugmentIsAdded() {
    ModelSpec spec = ModelSpec.smallResNet(1, 8, 2, 1, 4);
    byte[] px = new byte[64];
    java.util.Arrays.fill(px, (byte) 100);
    float[] plain = new float[64];
    float[] noised = new float[64];
    // An image of one gray level: solarize/posterize/etc. change values but a crop's black border
    // (from the same crop offsets) appears in both at the same places.
    ImageTensors.augment(px, spec, 2, true, 0, 11L, plain, 0);
    ImageTensors.augment(px, spec, 2, true, 0, 2, 9, 11L, noised, 0);
    float black = (0 - 0.5f) / 0.5f;
    for (int i = 0; i < 64; i++) {
      if (plain[i] == black) {
        assertThat(noised[i]).as("pixel %d is in the crop's padding", i).isEqualTo(black);
      }
    }
  }
}
