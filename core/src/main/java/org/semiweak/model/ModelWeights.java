package org.semiweak.model;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.training.initializer.Initializer;
import ai.djl.util.Pair;
import java.io.Serializable;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.zip.CRC32;
import org.semiweak.util.Fingerprint;
import org.semiweak.util.SeededRandom;

/**
 * An immutable snapshot of named float tensors: all parameters of a model (BatchNorm running mean
 * and variance included), or the optimizer's momentum buffers.
 *
 * <p>Entries keep the order of the block's parameters. Equality is exact (bit for bit), so two runs
 * can be compared with {@code equals}; {@link #maxAbsDifference} measures how far apart they are.
 *
 * <pre>{@code
 * ModelWeights w = ModelWeights.initial(spec, 42);
 * byte[] bytes = w.toBytes();                      // broadcast, checkpoint, weights.bin
 * ModelWeights avg = ModelWeights.average(List.of(w1, w2));
 * }</pre>
 */
public final class ModelWeights implements Serializable {
  private static final long serialVersionUID = 1L;
  private static final byte[] MAGIC = {'S', 'W', 'M', 'W'};
  private static final int FORMAT_VERSION = 1;
  private static final ModelWeights EMPTY = new ModelWeights(new String[0], new long[0][], new float[0][]);

  private final String[] names;
  private final long[][] shapes;
  private final float[][] values;
  private transient Map<String, Integer> index;

  private ModelWeights(String[] names, long[][] shapes, float[][] values) {
    this.names = names;
    this.shapes = shapes;
    this.values = values;
  }

  /** No entries: the optimizer state before the first step. */
  public static ModelWeights empty() {
    return EMPTY;
  }

  /** Starts an explicit snapshot; {@link Builder#add} copies the arrays it is given. */
  public static Builder builder() {
    return new Builder();
  }

  /** Collects named tensors in insertion order; names must be unique. */
  public static final class Builder {
    private final List<String> names = new ArrayList<>();
    private final List<long[]> shapes = new ArrayList<>();
    private final List<float[]> values = new ArrayList<>();
    private final Set<String> seen = new LinkedHashSet<>();

    private Builder() {}

    public Builder add(String name, long[] shape, float[] data) {
      addOwned(name, shape.clone(), data.clone());
      return this;
    }

    /** Adds a tensor without copying: the snapshot takes over {@code shape} and {@code data}. */
    public Builder addOwned(String name, long[] shape, float[] data) {
      if (!seen.add(name)) {
        throw new IllegalArgumentException("duplicate tensor name '" + name + "'");
      }
      long n = 1;
      for (long d : shape) {
        if (d < 0) {
          throw new IllegalArgumentException("tensor '" + name + "' has a negative dimension: " + Arrays.toString(shape));
        }
        n *= d;
      }
      if (n != data.length) {
        throw new IllegalArgumentException(
            "tensor '" + name + "' has shape " + Arrays.toString(shape) + " (" + n + " values) but "
                + data.length + " values were given");
      }
      names.add(name);
      shapes.add(shape);
      values.add(data);
      return this;
    }

    public ModelWeights build() {
      return new ModelWeights(
          names.toArray(new String[0]), shapes.toArray(new long[0][]), values.toArray(new float[0][]));
    }
  }

  /** Snapshot of all parameters of an initialized block, in the block's parameter order. */
  public static ModelWeights fromBlock(Block block) {
    Builder b = builder();
    for (Pair<String, Parameter> p : block.getParameters()) {
      Parameter param = p.getValue();
      if (!param.isInitialized()) {
        throw new IllegalStateException("parameter '" + p.getKey() + "' is not initialized; initialize the block first");
      }
      NDArray array = param.getArray();
      b.addOwned(p.getKey(), array.getShape().getShape(), array.toFloatArray());
    }
    return b.build();
  }

  /** Snapshot of named arrays (e.g. optimizer buffers); names and arrays in matching order. */
  public static ModelWeights fromArrays(List<String> names, List<NDArray> arrays) {
    if (names.size() != arrays.size()) {
      throw new IllegalArgumentException(names.size() + " names for " + arrays.size() + " arrays");
    }
    Builder b = builder();
    for (int i = 0; i < names.size(); i++) {
      NDArray a = arrays.get(i);
      b.addOwned(names.get(i), a.getShape().getShape(), a.toFloatArray());
    }
    return b.build();
  }

  /**
   * Writes these values into the parameters of an initialized block of the same architecture.
   *
   * @throws IllegalArgumentException naming the first missing, extra or differently shaped
   *     parameter
   */
  public void copyInto(Block block) {
    List<Pair<String, Parameter>> params = new ArrayList<>();
    block.getParameters().forEach(params::add);
    Set<String> blockNames = new LinkedHashSet<>();
    for (Pair<String, Parameter> p : params) {
      blockNames.add(p.getKey());
      Integer i = index().get(p.getKey());
      if (i == null) {
        throw new IllegalArgumentException(
            "weights do not fit the model: parameter '" + p.getKey() + "' is missing from the weights ("
                + names.length + " tensors); were they saved from another model spec?");
      }
      Parameter param = p.getValue();
      if (!param.isInitialized()) {
        throw new IllegalStateException("parameter '" + p.getKey() + "' is not initialized; initialize the block first");
      }
      long[] blockShape = param.getArray().getShape().getShape();
      if (!Arrays.equals(blockShape, shapes[i])) {
        throw new IllegalArgumentException(
            "weights do not fit the model: parameter '" + p.getKey() + "' has shape "
                + new Shape(shapes[i]) + " in the weights but " + new Shape(blockShape)
                + " in the model; were they saved from another model spec?");
      }
    }
    for (String n : names) {
      if (!blockNames.contains(n)) {
        throw new IllegalArgumentException(
            "weights do not fit the model: the weights have a tensor '" + n + "' that the model does not have");
      }
    }
    for (Pair<String, Parameter> p : params) {
      NDArray array = p.getValue().getArray();
      if (array.getDataType() != DataType.FLOAT32) {
        throw new IllegalStateException("parameter '" + p.getKey() + "' is " + array.getDataType() + ", expected float32");
      }
      copyNative(array, values[index().get(p.getKey())]);
    }
  }

  /**
   * Copies values into a parameter with a native in-place op, so that the parameter keeps the
   * storage libtorch allocated: DJL's {@code NDArray.set(Buffer)} would re-point a CPU tensor at a
   * Java direct buffer (torch {@code set_} on foreign storage). This was first suspected of the NaN
   * losses seen in training, which turned out to come from oneDNN (see LocalTrainer); owning the
   * storage natively is kept as the simpler lifetime.
   */
  public static void copyNative(NDArray target, float[] values) {
    try (NDManager scratch = target.getManager().newSubManager()) {
      NDArray source = scratch.create(values, target.getShape());
      try (NoGrad off = NoGrad.enter()) {
        target.muli(0).addi(source);
      }
    }
  }

  /** How {@link #initial(ModelSpec, long, Init)} draws convolution and linear parameters. */
  public enum Init {
    /**
     * PyTorch's defaults for {@code nn.Conv2d} and {@code nn.Linear}: weights kaiming-uniform with
     * {@code a = sqrt(5)}, i.e. uniform in +-1/sqrt(fan in), the linear bias uniform in
     * +-1/sqrt(fan in).
     */
    PYTORCH,
    /** Convolutions He-normal (std sqrt(2 / fan in)), the linear weight uniform in +-1/sqrt(fan in), bias 0. */
    HE_NORMAL
  }

  /** The scheme of {@link #initial(ModelSpec, long)}. */
  public static final Init INIT_DEFAULT = Init.PYTORCH;

  /** {@link #initial(ModelSpec, long, Init)} with {@link #INIT_DEFAULT}. */
  public static ModelWeights initial(ModelSpec spec, long seed) {
    return initial(spec, seed, INIT_DEFAULT);
  }

  /**
   * Deterministic initial weights for a spec: convolutions and the linear head by {@code init},
   * BatchNorm scales 1 and shifts 0, running mean 0 and variance 1 (PyTorch's BatchNorm defaults).
   * Each tensor draws from its own stream seeded by (seed, name), so the result is a pure function
   * of spec, seed and scheme.
   */
  public static ModelWeights initial(ModelSpec spec, long seed, Init init) {
    return initial(spec.newBlock(), spec.inputShape(1), seed, init);
  }

  /**
   * {@link #initial(ModelSpec, long, Init)} for any new block of convolutions, BatchNorms and linear
   * layers (e.g. a {@link ProjectionNet}), initialized for {@code inputShape}.
   */
  static ModelWeights initial(Block block, Shape inputShape, long seed, Init init) {
    Engines.configure();
    Builder b = builder();
    try (NDManager manager = NDManager.newBaseManager(Device.cpu())) {
      // Zeros avoid drawing random numbers from the engine's (unseeded) generator; values are ours.
      block.setInitializer(Initializer.ZEROS, Parameter.Type.WEIGHT);
      block.initialize(manager, DataType.FLOAT32, inputShape);
      long lastFanIn = 1;
      for (Pair<String, Parameter> p : block.getParameters()) {
        String name = p.getKey();
        Parameter param = p.getValue();
        long[] shape = param.getArray().getShape().getShape();
        float[] v = new float[Math.toIntExact(param.getArray().size())];
        SplittableRandom rng = new SplittableRandom(SeededRandom.hash(seed, name));
        switch (param.getType()) {
          case WEIGHT:
            long fanIn = 1;
            for (int d = 1; d < shape.length; d++) {
              fanIn *= shape[d];
            }
            lastFanIn = fanIn;
            if (shape.length == 2 || init == Init.PYTORCH) {
              uniform(v, 1.0 / Math.sqrt(fanIn), rng);
            } else {
              double std = Math.sqrt(2.0 / fanIn);
              for (int j = 0; j < v.length; j++) {
                v[j] = (float) (rng.nextGaussian() * std);
              }
            }
            break;
          case BIAS:
            // Only linear layers have a bias, right after their weight (convolutions have none).
            if (init == Init.PYTORCH) {
              uniform(v, 1.0 / Math.sqrt(lastFanIn), rng);
            }
            break;
          case GAMMA:
          case RUNNING_VAR:
            Arrays.fill(v, 1f);
            break;
          case BETA:
          case RUNNING_MEAN:
            break;
          default:
            throw new IllegalStateException("no initializer for parameter '" + name + "' of type " + param.getType());
        }
        b.addOwned(name, shape, v);
      }
    }
    return b.build();
  }

  private static void uniform(float[] v, double bound, SplittableRandom rng) {
    for (int j = 0; j < v.length; j++) {
      v[j] = (float) ((rng.nextDouble() * 2 - 1) * bound);
    }
  }

  /**
   * The element-wise mean of snapshots with the same names and shapes (the model-averaging step),
   * summed in double precision. The mean of one snapshot equals it exactly.
   */
  public static ModelWeights average(List<ModelWeights> all) {
    if (all.isEmpty()) {
      throw new IllegalArgumentException("cannot average zero weight snapshots");
    }
    ModelWeights first = all.get(0);
    if (all.size() == 1) {
      return first;
    }
    for (int k = 1; k < all.size(); k++) {
      first.requireSameLayout(all.get(k), "snapshot 0", "snapshot " + k);
    }
    Builder b = builder();
    for (int i = 0; i < first.names.length; i++) {
      int n = first.values[i].length;
      double[] sum = new double[n];
      for (ModelWeights w : all) {
        float[] v = w.values[i];
        for (int j = 0; j < n; j++) {
          sum[j] += v[j];
        }
      }
      float[] mean = new float[n];
      for (int j = 0; j < n; j++) {
        mean[j] = (float) (sum[j] / all.size());
      }
      b.addOwned(first.names[i], first.shapes[i].clone(), mean);
    }
    return b.build();
  }

  private void requireSameLayout(ModelWeights other, String thisLabel, String otherLabel) {
    if (names.length != other.names.length) {
      throw new IllegalArgumentException(
          thisLabel + " has " + names.length + " tensors but " + otherLabel + " has " + other.names.length);
    }
    for (int i = 0; i < names.length; i++) {
      if (!names[i].equals(other.names[i]) || !Arrays.equals(shapes[i], other.shapes[i])) {
        throw new IllegalArgumentException(
            "tensor " + i + " differs: " + thisLabel + " has '" + names[i] + "' " + Arrays.toString(shapes[i])
                + ", " + otherLabel + " has '" + other.names[i] + "' " + Arrays.toString(other.shapes[i]));
      }
    }
  }

  /**
   * Serializes to the weights format: magic {@code SWMW}, version, tensor count, then per tensor
   * its UTF-8 name, rank, dimensions and float32 values, all little-endian, then a CRC32 of
   * everything before it. {@link #fromBytes} restores it exactly.
   */
  public byte[] toBytes() {
    byte[][] nameBytes = new byte[names.length][];
    long size = MAGIC.length + 4 + 4;
    for (int i = 0; i < names.length; i++) {
      nameBytes[i] = names[i].getBytes(StandardCharsets.UTF_8);
      size += 4 + nameBytes[i].length + 4 + 8L * shapes[i].length + 4L * values[i].length;
    }
    size += 8;
    if (size > Integer.MAX_VALUE - 16) {
      throw new IllegalStateException("weights too large for one array: " + size + " bytes");
    }
    ByteBuffer buf = ByteBuffer.allocate((int) size).order(ByteOrder.LITTLE_ENDIAN);
    buf.put(MAGIC).putInt(FORMAT_VERSION).putInt(names.length);
    for (int i = 0; i < names.length; i++) {
      buf.putInt(nameBytes[i].length).put(nameBytes[i]).putInt(shapes[i].length);
      for (long d : shapes[i]) {
        buf.putLong(d);
      }
      buf.asFloatBuffer().put(values[i]);
      buf.position(buf.position() + 4 * values[i].length);
    }
    CRC32 crc = new CRC32();
    crc.update(buf.array(), 0, buf.position());
    buf.putLong(crc.getValue());
    return buf.array();
  }

  /**
   * Reads the format written by {@link #toBytes}.
   *
   * @throws IllegalArgumentException if the bytes are not a weights file, of another version,
   *     truncated or corrupted (checksum mismatch)
   */
  public static ModelWeights fromBytes(byte[] bytes) {
    ByteBuffer buf = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    try {
      byte[] magic = new byte[MAGIC.length];
      buf.get(magic);
      if (!Arrays.equals(magic, MAGIC)) {
        throw new IllegalArgumentException(
            "not a semiweak weights file: expected magic SWMW, found " + Arrays.toString(magic));
      }
      int version = buf.getInt();
      if (version != FORMAT_VERSION) {
        throw new IllegalArgumentException(
            "weights format version " + version + " is not supported (this build reads version " + FORMAT_VERSION + ")");
      }
      if (bytes.length < 8) {
        throw new BufferUnderflowException();
      }
      CRC32 crc = new CRC32();
      crc.update(bytes, 0, bytes.length - 8);
      long stored = ByteBuffer.wrap(bytes, bytes.length - 8, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
      if (stored != crc.getValue()) {
        throw new IllegalArgumentException("weights file is corrupted: checksum mismatch (" + bytes.length + " bytes)");
      }
      int count = buf.getInt();
      Builder b = builder();
      for (int i = 0; i < count; i++) {
        byte[] name = new byte[buf.getInt()];
        buf.get(name);
        long[] shape = new long[buf.getInt()];
        long n = 1;
        for (int d = 0; d < shape.length; d++) {
          shape[d] = buf.getLong();
          n *= shape[d];
        }
        float[] v = new float[Math.toIntExact(n)];
        buf.asFloatBuffer().get(v);
        buf.position(buf.position() + 4 * v.length);
        b.addOwned(new String(name, StandardCharsets.UTF_8), shape, v);
      }
      if (buf.remaining() != 8) {
        throw new IllegalArgumentException("weights file has " + (buf.remaining() - 8) + " unexpected trailing bytes");
      }
      return b.build();
    } catch (BufferUnderflowException | IndexOutOfBoundsException | NegativeArraySizeException | ArithmeticException e) {
      throw new IllegalArgumentException("weights file is truncated or malformed (" + bytes.length + " bytes)", e);
    }
  }

  /** SHA-256 of {@link #toBytes()}. */
  public String fingerprint() {
    return Fingerprint.of(toBytes());
  }

  /** Tensor names in order. */
  public List<String> names() {
    return Collections.unmodifiableList(Arrays.asList(names));
  }

  public int size() {
    return names.length;
  }

  public boolean isEmpty() {
    return names.length == 0;
  }

  public boolean contains(String name) {
    return index().containsKey(name);
  }

  /** A copy of the shape of tensor {@code name}. */
  public long[] shape(String name) {
    return shapes[require(name)].clone();
  }

  /** A copy of the values of tensor {@code name}, row-major. */
  public float[] values(String name) {
    return values[require(name)].clone();
  }

  /**
   * Copies {@code count} values starting at {@code from} of the flat sequence of all tensors, in
   * order (tensor 0's values, then tensor 1's ...), into {@code target} at {@code offset}.
   */
  public void copyFlat(long from, float[] target, int offset, int count) {
    if (from < 0 || count < 0 || from + count > valueCount()) {
      throw new IndexOutOfBoundsException("values [" + from + ", " + (from + count) + ") of " + valueCount());
    }
    long start = 0;
    for (float[] v : values) {
      long end = start + v.length;
      if (count > 0 && from < end) {
        int at = (int) (from - start);
        int n = (int) Math.min(count, v.length - at);
        System.arraycopy(v, at, target, offset, n);
        from += n;
        offset += n;
        count -= n;
      }
      start = end;
    }
  }

  /** Total number of values over all tensors. */
  public long valueCount() {
    long n = 0;
    for (float[] v : values) {
      n += v.length;
    }
    return n;
  }

  /** The largest absolute element-wise difference to {@code other} (same names and shapes). */
  public double maxAbsDifference(ModelWeights other) {
    requireSameLayout(other, "these weights", "the other weights");
    double max = 0;
    for (int i = 0; i < values.length; i++) {
      for (int j = 0; j < values[i].length; j++) {
        max = Math.max(max, Math.abs((double) values[i][j] - other.values[i][j]));
      }
    }
    return max;
  }

  private int require(String name) {
    Integer i = index().get(name);
    if (i == null) {
      throw new IllegalArgumentException("no tensor named '" + name + "' (have " + names.length + " tensors)");
    }
    return i;
  }

  private Map<String, Integer> index() {
    Map<String, Integer> m = index;
    if (m == null) {
      m = new HashMap<>();
      for (int i = 0; i < names.length; i++) {
        m.put(names[i], i);
      }
      index = m;
    }
    return m;
  }

  @Override
  public boolean equals(Object o) {
    if (this == o) {
      return true;
    }
    if (!(o instanceof ModelWeights)) {
      return false;
    }
    ModelWeights w = (ModelWeights) o;
    return Arrays.equals(names, w.names) && Arrays.deepEquals(shapes, w.shapes) && Arrays.deepEquals(values, w.values);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(names) * 31 + Arrays.deepHashCode(values);
  }

  @Override
  public String toString() {
    return "ModelWeights(" + names.length + " tensors, " + valueCount() + " values)";
  }
}
