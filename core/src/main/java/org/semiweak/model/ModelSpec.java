package org.semiweak.model;

import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.Blocks;
import ai.djl.nn.LambdaBlock;
import ai.djl.nn.ParallelBlock;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.BatchNorm;
import ai.djl.nn.pooling.Pool;
import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.semiweak.util.Fingerprint;
import org.semiweak.util.Json;

/**
 * The architecture of a classifier: a ResNet of basic residual blocks, with its input format and
 * normalization, as an immutable value that serializes to JSON ({@code model.json}).
 *
 * <p>The network is: stem ({@code small}: 3x3 conv stride 1, for 28-32 px inputs; {@code large}:
 * 7x7 conv stride 2 then 3x3 max pool stride 2, for 224 px), then one stage per entry of {@link
 * #stageBlocks()} with {@link #stageWidths()} channels (stage {@code i > 0} halves the resolution),
 * each block {@code conv-BN-ReLU-conv-BN + shortcut, ReLU}, then global average pooling and a
 * linear head giving {@link #numClasses()} logits.
 *
 * <pre>{@code
 * ModelSpec spec = ModelSpec.smallResNet(1, 28, 10, 1, 16, 32, 64)
 *     .withNormalization(new float[] {0.286f}, new float[] {0.353f});
 * Block block = spec.newBlock();   // uninitialized; see ModelWeights.initial / Inference.open
 * }</pre>
 */
@JsonPropertyOrder(alphabetic = true)
public final class ModelSpec implements Serializable {
  private static final long serialVersionUID = 1L;

  /** Stem for small images (28-32 px): one 3x3 convolution, stride 1. */
  public static final String STEM_SMALL = "small";

  /** Stem for large images (224 px): 7x7 convolution stride 2, then 3x3 max pool stride 2. */
  public static final String STEM_LARGE = "large";

  private final String stem;
  private final int[] stageBlocks;
  private final int[] stageWidths;
  private final int inputChannels;
  private final int inputSize;
  private final int numClasses;
  private final float[] normMean;
  private final float[] normStd;
  private transient volatile float[][] pixelLookupTable;

  /**
   * Creates a spec; every argument is validated.
   *
   * @throws IllegalArgumentException naming the first invalid field and what was expected
   */
  @JsonCreator
  public ModelSpec(
      @JsonProperty(value = "stem", required = true) String stem,
      @JsonProperty(value = "stageBlocks", required = true) int[] stageBlocks,
      @JsonProperty(value = "stageWidths", required = true) int[] stageWidths,
      @JsonProperty(value = "inputChannels", required = true) int inputChannels,
      @JsonProperty(value = "inputSize", required = true) int inputSize,
      @JsonProperty(value = "numClasses", required = true) int numClasses,
      @JsonProperty(value = "normMean", required = true) float[] normMean,
      @JsonProperty(value = "normStd", required = true) float[] normStd) {
    this.stem = stem;
    this.stageBlocks = stageBlocks == null ? null : stageBlocks.clone();
    this.stageWidths = stageWidths == null ? null : stageWidths.clone();
    this.inputChannels = inputChannels;
    this.inputSize = inputSize;
    this.numClasses = numClasses;
    this.normMean = normMean == null ? null : normMean.clone();
    this.normStd = normStd == null ? null : normStd.clone();
    validate();
  }

  /**
   * A small-stem ResNet with {@code blocksPerStage} blocks in each stage and normalization mean
   * 0.5, std 0.5 per channel (change it with {@link #withNormalization}).
   */
  public static ModelSpec smallResNet(
      int channels, int size, int classes, int blocksPerStage, int... widths) {
    int[] blocks = new int[widths.length];
    Arrays.fill(blocks, blocksPerStage);
    return new ModelSpec(
        STEM_SMALL, blocks, widths, channels, size, classes, filled(channels, 0.5f), filled(channels, 0.5f));
  }

  /** ResNet-18 for 224 px RGB images with ImageNet normalization. */
  public static ModelSpec resNet18(int classes) {
    return new ModelSpec(
        STEM_LARGE,
        new int[] {2, 2, 2, 2},
        new int[] {64, 128, 256, 512},
        3,
        224,
        classes,
        new float[] {0.485f, 0.456f, 0.406f},
        new float[] {0.229f, 0.224f, 0.225f});
  }

  /** This spec with another per-channel normalization (applied to pixels scaled to [0, 1]). */
  public ModelSpec withNormalization(float[] mean, float[] std) {
    return new ModelSpec(stem, stageBlocks, stageWidths, inputChannels, inputSize, numClasses, mean, std);
  }

  /** This spec with another number of classes (only the head changes). */
  public ModelSpec withNumClasses(int classes) {
    return new ModelSpec(stem, stageBlocks, stageWidths, inputChannels, inputSize, classes, normMean, normStd);
  }

  private static float[] filled(int n, float v) {
    float[] a = new float[Math.max(n, 0)];
    Arrays.fill(a, v);
    return a;
  }

  private void validate() {
    if (!STEM_SMALL.equals(stem) && !STEM_LARGE.equals(stem)) {
      throw invalid("stem must be \"small\" (28-32 px inputs) or \"large\" (224 px), found " + quote(stem));
    }
    if (stageBlocks == null || stageWidths == null || stageBlocks.length == 0) {
      throw invalid("stageBlocks and stageWidths must be non-empty arrays, e.g. [1,1,1] and [16,32,64]");
    }
    if (stageBlocks.length != stageWidths.length) {
      throw invalid(
          "stageBlocks has "
              + stageBlocks.length
              + " stages but stageWidths has "
              + stageWidths.length
              + "; give one width per stage");
    }
    for (int i = 0; i < stageBlocks.length; i++) {
      if (stageBlocks[i] < 1) {
        throw invalid("stageBlocks[" + i + "] must be >= 1, found " + stageBlocks[i]);
      }
      if (stageWidths[i] < 1) {
        throw invalid("stageWidths[" + i + "] must be >= 1, found " + stageWidths[i]);
      }
    }
    if (inputChannels != 1 && inputChannels != 3) {
      throw invalid("inputChannels must be 1 (gray) or 3 (RGB), found " + inputChannels);
    }
    int minSize = STEM_LARGE.equals(stem) ? 32 : 8;
    if (inputSize < minSize) {
      throw invalid("inputSize must be >= " + minSize + " for the " + stem + " stem, found " + inputSize);
    }
    if (numClasses < 2) {
      throw invalid("numClasses must be >= 2, found " + numClasses);
    }
    if (normMean == null || normMean.length != inputChannels || normStd == null || normStd.length != inputChannels) {
      throw invalid(
          "normMean and normStd must have one value per input channel ("
              + inputChannels
              + "), found "
              + (normMean == null ? "null" : Arrays.toString(normMean))
              + " and "
              + (normStd == null ? "null" : Arrays.toString(normStd)));
    }
    for (int c = 0; c < inputChannels; c++) {
      if (!(normStd[c] > 0) || !Float.isFinite(normStd[c]) || !Float.isFinite(normMean[c])) {
        throw invalid("normStd must be finite and > 0 and normMean finite, found channel " + c
            + ": mean " + normMean[c] + ", std " + normStd[c]);
      }
    }
  }

  private static IllegalArgumentException invalid(String message) {
    return new IllegalArgumentException("invalid model spec: " + message);
  }

  private static String quote(String s) {
    return s == null ? "null" : "\"" + s + "\"";
  }

  /**
   * Builds a new, uninitialized DJL block for this architecture. Parameter names are stable for a
   * given spec, so {@link ModelWeights} taken from one block fit every block of the same spec.
   */
  public Block newBlock() {
    SequentialBlock net = new SequentialBlock();
    int width = stageWidths[0];
    if (STEM_SMALL.equals(stem)) {
      net.add(conv(width, 3, 1, 1)).add(BatchNorm.builder().build()).add(Activation.reluBlock());
    } else {
      net.add(conv(width, 7, 2, 3))
          .add(BatchNorm.builder().build())
          .add(Activation.reluBlock())
          .add(Pool.maxPool2dBlock(new Shape(3, 3), new Shape(2, 2), new Shape(1, 1)));
    }
    int inWidth = width;
    int blockIndex = 0;
    for (int s = 0; s < stageBlocks.length; s++) {
      for (int b = 0; b < stageBlocks[s]; b++) {
        int stride = s > 0 && b == 0 ? 2 : 1;
        net.add(basicBlock(inWidth, stageWidths[s], stride, blockIndex++));
        inWidth = stageWidths[s];
      }
    }
    // The pooling block is a LambdaBlock, as Pool.globalAvgPool2dBlock() is, so the classifier's
    // parameter names do not change; TrainingNoise is the identity outside a training scope.
    net.add(LambdaBlock.singleton(x -> TrainingNoise.onFeatures(Pool.globalAvgPool2d(x)), "globalAvgPool2d"))
        .add(Linear.builder().setUnits(numClasses).build());
    return net;
  }

  /** The number of residual blocks, over all stages (what stochastic depth counts). */
  public int residualBlocks() {
    return Arrays.stream(stageBlocks).sum();
  }

  private static Block basicBlock(int inWidth, int outWidth, int stride, int blockIndex) {
    SequentialBlock main =
        new SequentialBlock()
            .add(conv(outWidth, 3, stride, 1))
            .add(BatchNorm.builder().build())
            .add(Activation.reluBlock())
            .add(conv(outWidth, 3, 1, 1))
            .add(BatchNorm.builder().build());
    Block shortcut =
        stride == 1 && inWidth == outWidth
            ? Blocks.identityBlock()
            : new SequentialBlock().add(conv(outWidth, 1, stride, 0)).add(BatchNorm.builder().build());
    ParallelBlock residual =
        new ParallelBlock(
            outputs ->
                new ai.djl.ndarray.NDList(TrainingNoise.onResidualBranch(outputs.get(0).singletonOrThrow(), blockIndex)
                    .add(outputs.get(1).singletonOrThrow())),
            List.of(main, shortcut));
    return new SequentialBlock().add(residual).add(Activation.reluBlock());
  }

  private static Block conv(int filters, int kernel, int stride, int padding) {
    return Conv2d.builder()
        .setFilters(filters)
        .setKernelShape(new Shape(kernel, kernel))
        .optStride(new Shape(stride, stride))
        .optPadding(new Shape(padding, padding))
        .optBias(false)
        .build();
  }

  /** The input shape of one batch: {@code (batch, channels, size, size)}. */
  public Shape inputShape(long batch) {
    return new Shape(batch, inputChannels, inputSize, inputSize);
  }

  /** SHA-256 of the canonical JSON form: equal specs, equal fingerprints. */
  public String fingerprint() {
    return Fingerprint.of(toJson());
  }

  public String toJson() {
    return Json.write(this);
  }

  public static ModelSpec fromJson(String json) {
    return Json.read(json, ModelSpec.class);
  }

  @JsonProperty("stem")
  public String stem() {
    return stem;
  }

  @JsonProperty("stageBlocks")
  public int[] stageBlocks() {
    return stageBlocks.clone();
  }

  @JsonProperty("stageWidths")
  public int[] stageWidths() {
    return stageWidths.clone();
  }

  @JsonProperty("inputChannels")
  public int inputChannels() {
    return inputChannels;
  }

  @JsonProperty("inputSize")
  public int inputSize() {
    return inputSize;
  }

  @JsonProperty("numClasses")
  public int numClasses() {
    return numClasses;
  }

  @JsonProperty("normMean")
  public float[] normMean() {
    return normMean.clone();
  }

  @JsonProperty("normStd")
  public float[] normStd() {
    return normStd.clone();
  }

  /** Normalized value of each 8-bit pixel value, per channel: {@code (v / 255 - mean) / std}. */
  float[][] pixelLookupTable() {
    float[][] lut = pixelLookupTable;
    if (lut == null) {
      lut = new float[inputChannels][256];
      for (int c = 0; c < inputChannels; c++) {
        for (int v = 0; v < 256; v++) {
          lut[c][v] = (v / 255f - normMean[c]) / normStd[c];
        }
      }
      pixelLookupTable = lut;
    }
    return lut;
  }

  /**
   * Bytes of the largest activation tensor of one image (the stem's output, float32). Tensors
   * above 32 MiB are slow on CPU: glibc maps and unmaps them on every batch (see {@link
   * Inference#defaultBatchSize}).
   */
  public long activationBytesPerImage() {
    long side = STEM_SMALL.equals(stem) ? inputSize : (inputSize + 1) / 2;
    return 4L * stageWidths[0] * side * side;
  }

  /** Number of input values of one image: channels x size x size. */
  public int imageValues() {
    return inputChannels * inputSize * inputSize;
  }

  @Override
  public boolean equals(Object o) {
    if (this == o) {
      return true;
    }
    if (!(o instanceof ModelSpec)) {
      return false;
    }
    ModelSpec m = (ModelSpec) o;
    return stem.equals(m.stem)
        && Arrays.equals(stageBlocks, m.stageBlocks)
        && Arrays.equals(stageWidths, m.stageWidths)
        && inputChannels == m.inputChannels
        && inputSize == m.inputSize
        && numClasses == m.numClasses
        && Arrays.equals(normMean, m.normMean)
        && Arrays.equals(normStd, m.normStd);
  }

  @Override
  public int hashCode() {
    return fingerprint().hashCode();
  }

  @Override
  public String toString() {
    List<String> stages = new ArrayList<>();
    for (int i = 0; i < stageBlocks.length; i++) {
      stages.add(stageBlocks[i] + "x" + stageWidths[i]);
    }
    return String.format(
        Locale.ROOT,
        "ResNet(stem=%s, stages=%s, input=%dx%dx%d, classes=%d)",
        stem, stages, inputChannels, inputSize, inputSize, numClasses);
  }
}
