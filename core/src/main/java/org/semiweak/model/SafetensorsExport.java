package org.semiweak.model;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A native semiweak model as a <a href="https://huggingface.co/docs/safetensors">safetensors</a>
 * file that plain PyTorch loads into the module of {@code deploy/python/semiweak_model.py}.
 *
 * <p>The file is an 8-byte little-endian header length, a JSON header ({@code {name: {dtype, shape,
 * data_offsets}, "__metadata__": {string: string}}}, padded with spaces to a multiple of 8 bytes),
 * then every tensor's float32 values, little-endian, back to back in header order.
 *
 * <p>Tensor names are the {@code state_dict} names of that PyTorch module: {@code features.N...} for
 * the stem and the residual blocks ({@code main.0/1/3/4} for conv-BN-ReLU-conv-BN, {@code
 * shortcut.0/1} for a projection), {@code head.weight}/{@code head.bias} for the linear head; each
 * BatchNorm has {@code weight}, {@code bias}, {@code running_mean} and {@code running_var}
 * ({@code num_batches_tracked}, an integer counter that inference never reads, is left out: PyTorch
 * fills it in when a state dict lacks it). They are derived from the spec in the order of the DJL
 * block's parameters, and every weight's DJL name and shape is checked against them, so a change of
 * {@link ModelSpec#newBlock()} fails here instead of exporting a scrambled model.
 */
public final class SafetensorsExport {
  /** Compact JSON that keeps the order of maps (the header lists tensors in file order). */
  private static final ObjectMapper COMPACT = new ObjectMapper();

  private SafetensorsExport() {}

  /**
   * One tensor of the export.
   *
   * @param name PyTorch's state_dict name
   * @param djlSuffix how the DJL parameter's name ends ({@code Conv2d_weight}, {@code BatchNorm_gamma}, ...)
   * @param shape its shape (the same in DJL and PyTorch)
   */
  public record Tensor(String name, String djlSuffix, long[] shape) {}

  /** The tensors of {@code spec}'s network, in the order of the DJL block's parameters. */
  public static List<Tensor> tensors(ModelSpec spec) {
    List<Tensor> out = new ArrayList<>();
    int[] widths = spec.stageWidths();
    int[] blocks = spec.stageBlocks();
    boolean large = ModelSpec.STEM_LARGE.equals(spec.stem());
    conv(out, "features.0", widths[0], spec.inputChannels(), large ? 7 : 3);
    batchNorm(out, "features.1", widths[0]);
    // features.2 is the ReLU, features.3 the large stem's max pool: neither has parameters.
    int index = large ? 4 : 3;
    int in = widths[0];
    for (int s = 0; s < blocks.length; s++) {
      for (int b = 0; b < blocks[s]; b++) {
        int stride = s > 0 && b == 0 ? 2 : 1;
        int width = widths[s];
        String block = "features." + index++;
        conv(out, block + ".main.0", width, in, 3);
        batchNorm(out, block + ".main.1", width);
        conv(out, block + ".main.3", width, width, 3);
        batchNorm(out, block + ".main.4", width);
        if (stride != 1 || in != width) {
          conv(out, block + ".shortcut.0", width, in, 1);
          batchNorm(out, block + ".shortcut.1", width);
        }
        in = width;
      }
    }
    out.add(new Tensor("head.weight", "Linear_weight", new long[] {spec.numClasses(), in}));
    out.add(new Tensor("head.bias", "Linear_bias", new long[] {spec.numClasses()}));
    return out;
  }

  private static void conv(List<Tensor> out, String prefix, int filters, int in, int kernel) {
    out.add(new Tensor(prefix + ".weight", "Conv2d_weight", new long[] {filters, in, kernel, kernel}));
  }

  private static void batchNorm(List<Tensor> out, String prefix, int channels) {
    long[] shape = {channels};
    out.add(new Tensor(prefix + ".weight", "BatchNorm_gamma", shape));
    out.add(new Tensor(prefix + ".bias", "BatchNorm_beta", shape));
    out.add(new Tensor(prefix + ".running_mean", "BatchNorm_runningMean", shape));
    out.add(new Tensor(prefix + ".running_var", "BatchNorm_runningVar", shape));
  }

  /**
   * The architecture as {@code __metadata__} entries (strings; lists as JSON): {@code stem},
   * {@code widths}, {@code blocks}, {@code input_channels}, {@code input_size}, {@code num_classes},
   * {@code norm_mean}, {@code norm_std}, and {@code spec} (semiweak's own {@code model.json}).
   */
  public static Map<String, String> architecture(ModelSpec spec) {
    Map<String, String> m = new LinkedHashMap<>();
    m.put("format", "semiweak-resnet");
    m.put("stem", spec.stem());
    m.put("widths", json(spec.stageWidths()));
    m.put("blocks", json(spec.stageBlocks()));
    m.put("input_channels", Integer.toString(spec.inputChannels()));
    m.put("input_size", Integer.toString(spec.inputSize()));
    m.put("num_classes", Integer.toString(spec.numClasses()));
    m.put("norm_mean", json(spec.normMean()));
    m.put("norm_std", json(spec.normStd()));
    m.put("preprocessing", "x = pixels / 255, then (x - norm_mean) / norm_std per channel; NCHW float32");
    m.put("spec", json(spec));
    return m;
  }

  /** A value as compact JSON, e.g. {@code [16,32]} or {@code ["T-shirt/top","Trouser"]}. */
  public static String json(Object value) {
    try {
      return COMPACT.writeValueAsString(value);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot write " + value + " as JSON", e);
    }
  }

  /**
   * Writes {@code weights} of a model of {@code spec} as a safetensors file to {@code out}, with
   * {@code metadata} (the architecture of {@link #architecture} is added before it).
   *
   * @throws IllegalArgumentException if the weights are not those of {@code spec}'s network, naming
   *     the first tensor that differs
   */
  public static void write(OutputStream out, ModelSpec spec, ModelWeights weights, Map<String, String> metadata)
      throws IOException {
    List<Tensor> tensors = tensors(spec);
    List<String> names = weights.names();
    if (names.size() != tensors.size()) {
      throw new IllegalArgumentException("the weights have " + names.size() + " tensors but a " + spec + " has "
          + tensors.size() + ": they were not saved from this architecture");
    }
    Map<String, Object> header = new LinkedHashMap<>();
    Map<String, String> meta = new LinkedHashMap<>(architecture(spec));
    meta.putAll(metadata);
    header.put("__metadata__", meta);
    long offset = 0;
    for (int i = 0; i < tensors.size(); i++) {
      Tensor t = tensors.get(i);
      String djl = names.get(i);
      long[] shape = weights.shape(djl);
      if (!djl.endsWith(t.djlSuffix()) || !Arrays.equals(shape, t.shape())) {
        throw new IllegalArgumentException("weight " + i + " is '" + djl + "' " + Arrays.toString(shape)
            + " but the PyTorch module expects a " + t.djlSuffix() + " " + Arrays.toString(t.shape()) + " for '"
            + t.name() + "' (" + spec + ")");
      }
      long bytes = 4L * count(shape);
      Map<String, Object> entry = new LinkedHashMap<>();
      entry.put("dtype", "F32");
      entry.put("shape", shape);
      entry.put("data_offsets", new long[] {offset, offset + bytes});
      header.put(t.name(), entry);
      offset += bytes;
    }
    byte[] json = json(header).getBytes(StandardCharsets.UTF_8);
    int padded = (json.length + 7) / 8 * 8;
    byte[] headerBytes = Arrays.copyOf(json, padded);
    Arrays.fill(headerBytes, json.length, padded, (byte) ' ');
    out.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(padded).array());
    out.write(headerBytes);
    for (String djl : names) {
      float[] v = weights.values(djl);
      ByteBuffer buf = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
      buf.asFloatBuffer().put(v);
      out.write(buf.array());
    }
  }

  private static long count(long[] shape) {
    long n = 1;
    for (long d : shape) {
      n *= d;
    }
    return n;
  }
}
