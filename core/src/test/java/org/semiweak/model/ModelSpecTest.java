package org.semiweak.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class ModelSpecTest {
  @Test
  void roundTripsThroughJsonWithAStableFingerprint() {
    ModelSpec spec = ModelSpec.smallResNet(1, 28, 10, 2, 16, 32, 64)
        .withNormalization(new float[] {0.286f}, new float[] {0.353f});
    ModelSpec back = ModelSpec.fromJson(spec.toJson());
    assertThat(back).isEqualTo(spec);
    assertThat(back.fingerprint()).isEqualTo(spec.fingerprint());
    assertThat(spec.withNumClasses(5).fingerprint()).as("another head").isNotEqualTo(spec.fingerprint());
  }

  @Test
  void resNet18HasElevenMillionParameters() {
    assertThat(ModelWeights.initial(ModelSpec.resNet18(1000), 0).valueCount())
        .as("ResNet-18 with a 1000-class head, counting BatchNorm running statistics")
        .isBetween(11_600_000L, 11_800_000L);
  }

  @Test
  void rejectsInvalidSpecsWithClearMessages() {
    assertThatThrownBy(() -> new ModelSpec("tiny", new int[] {1}, new int[] {8}, 1, 28, 10, new float[] {0}, new float[] {1}))
        .hasMessageContaining("stem must be \"small\"");
    assertThatThrownBy(() -> new ModelSpec("small", new int[] {1, 1}, new int[] {8}, 1, 28, 10, new float[] {0}, new float[] {1}))
        .hasMessageContaining("stageBlocks has 2 stages but stageWidths has 1");
    assertThatThrownBy(() -> new ModelSpec("small", new int[] {1}, new int[] {8}, 3, 28, 10, new float[] {0}, new float[] {1}))
        .hasMessageContaining("one value per input channel (3)");
    assertThatThrownBy(() -> ModelSpec.fromJson("{\"stem\":\"small\"}")).hasMessageContaining("invalid JSON for ModelSpec");
  }
}
