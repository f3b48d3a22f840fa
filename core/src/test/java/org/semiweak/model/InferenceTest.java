package org.semiweak.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.Device;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class InferenceTest {
  @Test
  void topKOrdersByProbabilityThenClassIndex() {
    float[] p = {0.1f, 0.3f, 0.1f, 0.3f, 0.2f};
    assertThat(Inference.topKIndices(p, 3)).containsExactly(1, 3, 4);
    assertThat(Inference.topKIndices(p, 5)).containsExactly(1, 3, 4, 0, 2);
    assertThat(Inference.topKIndices(p, 9)).as("k above the class count").hasSize(5);
    assertThat(Inference.topK(p, 1)).containsExactly(new Inference.ClassProbability(1, 0.3f));
  }

  @Test
  void givesProbabilitiesIndependentOfTheBatchSize() {
    ModelSpec spec = ModelSpec.smallResNet(1, 12, 3, 1, 4, 8);
    ModelWeights w = ModelWeights.initial(spec, 2);
    List<byte[]> images = new ArrayList<>();
    java.util.SplittableRandom rng = new java.util.SplittableRandom(1);
    for (int i = 0; i < 7; i++) {
      byte[] px = new byte[144];
      for (int j = 0; j < px.length; j++) {
        px[j] = (byte) rng.nextInt(256);
      }
      images.add(px);
    }
    float[][] big;
    float[][] small;
    try (Inference m = Inference.open(spec, w, Device.cpu(), 256)) {
      big = m.probabilitiesOfPixels(images);
    }
    try (Inference m = Inference.open(spec, w, Device.cpu(), 3)) {
      small = m.probabilitiesOfPixels(images);
    }
    for (int i = 0; i < images.size(); i++) {
      float sum = 0;
      for (int c = 0; c < 3; c++) {
        sum += big[i][c];
        // Different batch sizes may take different kernels; results agree to float rounding.
        assertThat(small[i][c]).isCloseTo(big[i][c], within(1e-5f));
      }
      assertThat(sum).as("probabilities of image %d sum to 1", i).isCloseTo(1f, within(1e-5f));
    }
  }

  @Test
  void defaultBatchKeepsActivationsUnder32MiB() {
    assertThat(Inference.defaultBatchSize(ModelSpec.smallResNet(1, 28, 10, 1, 16, 32, 64))).as("28 px").isEqualTo(256);
    assertThat(Inference.defaultBatchSize(ModelSpec.resNet18(1000))).as("224 px ResNet-18: 64x112x112 floats per image")
        .isEqualTo(10);
  }

  @Test
  void aModelsDefaultBatchIsTheCpuBoundOnTheCpuAnd256OnAGpu() {
    ModelSpec large = new ModelSpec(ModelSpec.STEM_LARGE, new int[] {1}, new int[] {64}, 3, 224, 10,
        new float[] {0.5f, 0.5f, 0.5f}, new float[] {0.5f, 0.5f, 0.5f});
    StageModel native224 = StageModel.of("large", large, ModelWeights.initial(large, 1));
    ModelSpec small = ModelSpec.smallResNet(1, 28, 10, 1, 8);
    StageModel native28 = StageModel.of("small", small, ModelWeights.initial(small, 1));
    assertThat(native224.defaultBatchSize(Device.cpu())).as("64x112x112 floats per image, under 32 MiB").isEqualTo(10);
    assertThat(native28.defaultBatchSize(Device.cpu())).isEqualTo(256);
    assertThat(native224.defaultBatchSize(Device.gpu())).as("no glibc pages to fear on a GPU").isEqualTo(256);

    // A TorchScript file's architecture is unknown: an ImageNet stem is assumed at 224 px.
    StageModel.TorchScriptInfo info224 = new StageModel.TorchScriptInfo(3, 224, 10, new float[] {0.5f, 0.5f, 0.5f},
        new float[] {0.5f, 0.5f, 0.5f}, "logits", "0".repeat(64), "model.pt");
    assertThat(StageModel.torchScript("ts", new byte[] {1}, info224).defaultBatchSize(Device.cpu())).isEqualTo(10);
    StageModel.TorchScriptInfo info28 = new StageModel.TorchScriptInfo(1, 28, 10, new float[] {0.5f},
        new float[] {0.5f}, "logits", "0".repeat(64), "model.pt");
    assertThat(StageModel.torchScript("ts", new byte[] {1}, info28).defaultBatchSize(Device.cpu()))
        .as("64 channels at 28x28: 32 MiB / 200,704 bytes").isEqualTo(167);
  }

  @Test
  void usesTheCpuWhenTheEngineHasNoGpu() {
    if (Engines.configure().getGpuCount() == 0) {
      assertThat(Devices.forCurrentTask()).isEqualTo(Device.cpu());
    } else {
      assertThat(Devices.forCurrentTask().isGpu()).as("driver with GPUs uses GPU 0").isTrue();
    }
  }
}
