package org.semiweak.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Block;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class ModelWeightsTest {
  private static final ModelSpec SPEC = ModelSpec.smallResNet(1, 16, 4, 1, 4, 8);

  @Test
  void bytesRoundTripExactly() {
    ModelWeights w = ModelWeights.initial(SPEC, 3);
    byte[] bytes = w.toBytes();
    ModelWeights back = ModelWeights.fromBytes(bytes);
    assertThat(back).as("weights read back equal the written ones bit for bit").isEqualTo(w);
    assertThat(back.toBytes()).as("re-serialized bytes are identical").isEqualTo(bytes);
    assertThat(back.names()).as("parameter order is kept").isEqualTo(w.names());
    assertThat(back.fingerprint()).isEqualTo(w.fingerprint());
  }

  @Test
  void snapshotIncludesBatchNormRunningStatistics() {
    ModelWeights w = ModelWeights.initial(SPEC, 1);
    assertThat(w.names()).as("BatchNorm running mean and variance are part of the weights")
        .anyMatch(n -> n.endsWith("runningMean"))
        .anyMatch(n -> n.endsWith("runningVar"));
  }

  @Test
  void initialWeightsAreAPureFunctionOfSpecAndSeed() {
    assertThat(ModelWeights.initial(SPEC, 7)).as("same seed").isEqualTo(ModelWeights.initial(SPEC, 7));
    assertThat(ModelWeights.initial(SPEC, 7)).as("other seed").isNotEqualTo(ModelWeights.initial(SPEC, 8));
  }

  @Test
  void pytorchInitialWeightsFollowPyTorchsDefaults() {
    ModelSpec spec = ModelSpec.smallResNet(1, 16, 4, 1, 16, 32);
    ModelWeights w = ModelWeights.initial(spec, 3, ModelWeights.Init.PYTORCH);
    // nn.Conv2d / nn.Linear: kaiming_uniform(a=sqrt(5)) = uniform in +-1/sqrt(fan in); Linear bias too.
    float[] stem = w.values("01Conv2d_weight");
    assertThat(maxAbs(stem)).isLessThanOrEqualTo(1 / Math.sqrt(9));
    assertThat(std(stem)).as("std of uniform(+-1/3) is 1/3/sqrt(3)").isCloseTo(1 / 3.0 / Math.sqrt(3), within(0.03));
    String head = w.names().stream().filter(n -> n.endsWith("Linear_weight")).findFirst().orElseThrow();
    String bias = head.replace("weight", "bias");
    double bound = 1 / Math.sqrt(32);
    assertThat(maxAbs(w.values(head))).isLessThanOrEqualTo(bound).isGreaterThan(bound / 2);
    assertThat(maxAbs(w.values(bias))).as("the linear bias is drawn too").isLessThanOrEqualTo(bound).isPositive();
    for (String n : w.names()) {
      float[] v = w.values(n);
      if (n.endsWith("gamma") || n.endsWith("runningVar")) {
        assertThat(v).as(n).containsOnly(1f);
      } else if (n.endsWith("beta") || n.endsWith("runningMean")) {
        assertThat(v).as(n).containsOnly(0f);
      }
    }
    assertThat(ModelWeights.initial(spec, 3)).as("the default scheme").isEqualTo(w);
  }

  @Test
  void heNormalInitialWeightsHaveStdSqrtTwoOverFanIn() {
    ModelSpec spec = ModelSpec.smallResNet(1, 16, 4, 1, 16, 32);
    ModelWeights w = ModelWeights.initial(spec, 3, ModelWeights.Init.HE_NORMAL);
    String conv = w.names().stream().filter(n -> n.endsWith("Conv2d_weight")).skip(1).findFirst().orElseThrow();
    long[] shape = w.shape(conv);
    double fanIn = shape[1] * shape[2] * shape[3];
    assertThat(std(w.values(conv))).isCloseTo(Math.sqrt(2 / fanIn), within(0.1 * Math.sqrt(2 / fanIn)));
    String bias = w.names().stream().filter(n -> n.endsWith("Linear_bias")).findFirst().orElseThrow();
    assertThat(w.values(bias)).containsOnly(0f);
  }

  private static double maxAbs(float[] v) {
    double m = 0;
    for (float x : v) {
      m = Math.max(m, Math.abs(x));
    }
    return m;
  }

  private static double std(float[] v) {
    double mean = 0;
    for (float x : v) {
      mean += x / (double) v.length;
    }
    double ss = 0;
    for (float x : v) {
      ss += (x - mean) * (x - mean);
    }
    return Math.sqrt(ss / v.length);
  }

  @Test
  void averageOfIdenticalWeightsIsTheIdentity() {
    ModelWeights w = ModelWeights.initial(SPEC, 5);
    assertThat(ModelWeights.average(List.of(w, w, w))).as("mean of three copies").isEqualTo(w);
    assertThat(ModelWeights.average(List.of(w))).as("mean of one").isEqualTo(w);
  }

  @Test
  void averageIsTheElementWiseMean() {
    ModelWeights a = ModelWeights.builder().add("x", new long[] {2}, new float[] {1f, 2f}).build();
    ModelWeights b = ModelWeights.builder().add("x", new long[] {2}, new float[] {3f, -2f}).build();
    assertThat(ModelWeights.average(List.of(a, b)).values("x")).containsExactly(2f, 0f);
  }

  @Test
  void averageRejectsDifferentLayouts() {
    ModelWeights a = ModelWeights.builder().add("x", new long[] {2}, new float[] {1f, 2f}).build();
    ModelWeights b = ModelWeights.builder().add("x", new long[] {1, 2}, new float[] {3f, -2f}).build();
    assertThatThrownBy(() -> ModelWeights.average(List.of(a, b))).hasMessageContaining("tensor 0 differs");
  }

  @Test
  void copyIntoThenFromBlockGivesTheSameWeights() {
    ModelWeights w = ModelWeights.initial(SPEC, 11);
    try (NDManager m = NDManager.newBaseManager(Device.cpu())) {
      Block block = Inference.newInitializedBlock(SPEC, m);
      w.copyInto(block);
      assertThat(ModelWeights.fromBlock(block)).isEqualTo(w);
    }
  }

  @Test
  void copyIntoRejectsWeightsOfAnotherArchitectureNamingTheParameter() {
    ModelWeights narrow = ModelWeights.initial(ModelSpec.smallResNet(1, 16, 4, 1, 4, 8), 1);
    ModelSpec wide = ModelSpec.smallResNet(1, 16, 4, 1, 6, 8);
    try (NDManager m = NDManager.newBaseManager(Device.cpu())) {
      Block block = Inference.newInitializedBlock(wide, m);
      assertThatThrownBy(() -> narrow.copyInto(block))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("weights do not fit the model: parameter '01Conv2d_weight' has shape (4, 1, 3, 3)"
              + " in the weights but (6, 1, 3, 3) in the model");
    }
  }

  @Test
  void copyIntoRejectsMissingParameters() {
    ModelWeights oneStage = ModelWeights.initial(ModelSpec.smallResNet(1, 16, 4, 1, 4), 1);
    try (NDManager m = NDManager.newBaseManager(Device.cpu())) {
      Block block = Inference.newInitializedBlock(SPEC, m);
      assertThatThrownBy(() -> oneStage.copyInto(block)).hasMessageContaining("is missing from the weights");
    }
  }

  @Test
  void fromBytesRejectsForeignTruncatedAndCorruptedData() {
    byte[] bytes = ModelWeights.initial(SPEC, 1).toBytes();
    assertThatThrownBy(() -> ModelWeights.fromBytes("PK\u0003\u0004 zip".getBytes()))
        .hasMessageContaining("not a semiweak weights file");
    assertThatThrownBy(() -> ModelWeights.fromBytes(Arrays.copyOf(bytes, bytes.length / 2)))
        .hasMessageContaining("corrupted");
    byte[] flipped = bytes.clone();
    flipped[bytes.length / 2] ^= 1;
    assertThatThrownBy(() -> ModelWeights.fromBytes(flipped)).hasMessageContaining("checksum mismatch");
  }
}
