package org.semiweak.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The views that self-supervised training compares. */
class ContrastiveViewsTest {
  private static final ModelSpec GRAY = ModelSpec.smallResNet(1, 16, 4, 1, 16);
  private static final ModelSpec RGB = ModelSpec.smallResNet(3, 16, 4, 1, 16);

  private static byte[] gradient(int channels) {
    byte[] p = new byte[channels * 256];
    for (int i = 0; i < p.length; i++) {
      p[i] = (byte) ((i % 256) * (1 + i / 256) / channels);
    }
    return p;
  }

  private static float[] view(ModelSpec spec, byte[] pixels, double minScale, long seed) {
    float[] out = new float[spec.imageValues() + 3];
    ContrastiveViews.view(pixels, spec, minScale, seed, out, 3);
    return java.util.Arrays.copyOfRange(out, 3, out.length);
  }

  @Test
  void aViewIsAPureFunctionOfImageAndSeedAndSeedsDiffer() {
    byte[] pixels = gradient(1);
    assertThat(view(GRAY, pixels, 0.08, 11)).containsExactly(view(GRAY, pixels, 0.08, 11));
    Set<String> distinct = new HashSet<>();
    for (long seed = 0; seed < 20; seed++) {
      distinct.add(java.util.Arrays.toString(view(GRAY, pixels, 0.08, seed)));
    }
    assertThat(distinct).as("20 seeds, 20 different views").hasSize(20);
  }

  @Test
  void viewsAreNormalizedPixelsInRange() {
    for (ModelSpec spec : new ModelSpec[] {GRAY, RGB}) {
      byte[] pixels = gradient(spec.inputChannels());
      for (long seed = 0; seed < 50; seed++) {
        // (v - 0.5) / 0.5 for v in [0, 1]
        for (float v : view(spec, pixels, 0.08, seed)) {
          assertThat(v).as("channels %d, seed %d", spec.inputChannels(), seed).isBetween(-1f, 1f);
        }
      }
    }
  }

  @Test
  void aConstantImageStaysConstantUnderCropAndFlip() {
    byte[] pixels = new byte[256];
    java.util.Arrays.fill(pixels, (byte) 100);
    for (long seed = 0; seed < 30; seed++) {
      float[] v = view(GRAY, pixels, 0.08, seed);
      // Brightness, contrast and solarization move the level, but the same way for every pixel.
      assertThat(v).as("seed %d", seed).containsOnly(v[0]);
    }
  }

  @Test
  void theWholeImageAtScaleOneWithoutJitterIsTheImageOrItsMirror() {
    byte[] pixels = gradient(1);
    float[] plain = new float[GRAY.imageValues()];
    ImageTensors.normalize(pixels, GRAY, plain, 0);
    int same = 0;
    for (long seed = 0; seed < 60; seed++) {
      float[] v = view(GRAY, pixels, 1.0, seed);
      if (java.util.Arrays.equals(v, plain) || java.util.Arrays.equals(v, mirror(plain, 16))) {
        same++;
      }
    }
    // Scale 1 with an aspect ratio other than 1 does not fit: those draws are retried, and after 10 the
    // crop is the whole image. Jitter (0.8) or solarize (0.2) change the rest: 0.2 * 0.8 = 16% stay exact.
    assertThat(same).as("views that are the image itself or its mirror").isBetween(3, 25);
  }

  @Test
  void aSmallViewHasItsOwnSideAndWritesNothingBeyond() {
    byte[] pixels = gradient(1);
    float[] out = new float[12 * 12 + 2];
    java.util.Arrays.fill(out, 99f);
    ContrastiveViews.view(pixels, GRAY, 0.05, 0.2, 12, 3, out, 1);
    assertThat(out[0]).isEqualTo(99f);
    assertThat(out[out.length - 1]).as("12 x 12 values, no more").isEqualTo(99f);
    for (int i = 1; i <= 144; i++) {
      assertThat(out[i]).isBetween(-1f, 1f);
    }
  }

  @Test
  void theCropScaleIsChecked() {
    assertThatThrownBy(() -> view(GRAY, gradient(1), 0, 1)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("minCropScale must be in (0, 1]");
  }

  private static float[] mirror(float[] v, int size) {
    float[] m = new float[v.length];
    for (int y = 0; y < size; y++) {
      for (int x = 0; x < size; x++) {
        m[y * size + x] = v[y * size + size - 1 - x];
      }
    }
    return m;
  }
}
