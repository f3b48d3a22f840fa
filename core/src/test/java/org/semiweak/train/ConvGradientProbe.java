package org.semiweak.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import org.semiweak.model.Engines;
import org.semiweak.model.NoGrad;

/**
 * Counts non-finite gradients of one 3x3 convolution C to C (forward and backward on a batch of
 * 16 at 28 px), the fault {@link LocalTrainer} recomputes steps for: with libtorch 2.7.1 (oneDNN
 * 3.7.1) on AVX-512 the input gradient was sporadically NaN for C = 8 (43 in 3000), 12 (16) and 24
 * (6), never for C = 16. Rerun it after upgrading DJL or libtorch to see whether the guard is still
 * needed. Not a test (the fault is random); run it with the test classpath:
 *
 * <pre>
 * java -cp core/target/test-classes:core/target/classes:$(cat cp.txt) -Dai.djl.pytorch.num_threads=1 \
 *   org.semiweak.train.ConvGradientProbe 3000 8
 * </pre>
 */
public final class ConvGradientProbe {
  private ConvGradientProbe() {}

  public static void main(String[] args) {
    int iterations = args.length > 0 ? Integer.parseInt(args[0]) : 3000;
    int channels = args.length > 1 ? Integer.parseInt(args[1]) : 8;
    Engines.configure();
    int badInput = 0;
    int badWeight = 0;
    try (NDManager m = NDManager.newBaseManager()) {
      ai.djl.engine.Engine.getEngine("PyTorch").setRandomSeed(1);
      NDArray x0 = m.randomNormal(new Shape(16, channels, 28, 28));
      NDArray w0 = m.randomNormal(new Shape(channels, channels, 3, 3)).mul(0.1f);
      NDArray upstream = m.randomNormal(new Shape(16, channels, 28, 28));
      for (int i = 0; i < iterations; i++) {
        try (NDManager step = m.newSubManager()) {
          NDArray x = x0.duplicate();
          NDArray w = w0.duplicate();
          x.attach(step);
          w.attach(step);
          x.setRequiresGradient(true);
          w.setRequiresGradient(true);
          // Heap churn, as in training: Java-owned and libtorch-owned temporaries of varied sizes.
          for (int k = 0; k < 8; k++) {
            step.create(new float[100 + 37 * ((i + k) % 50)]);
            step.ones(new Shape(64 + 13 * ((i * 7 + k) % 40)));
          }
          try (NoGrad recording = NoGrad.recording()) {
            NDArray y = Conv2d.conv2d(x, w, null, new Shape(1, 1), new Shape(1, 1), new Shape(1, 1), 1)
                .singletonOrThrow();
            NDArray loss = y.mul(upstream).sum();
            JniUtils.backward((PtNDArray) loss, (PtNDArray) loss.onesLike(), false, false);
          }
          badInput += allFinite(x.getGradient().toFloatArray()) ? 0 : 1;
          badWeight += allFinite(w.getGradient().toFloatArray()) ? 0 : 1;
        }
      }
    }
    System.out.printf("conv %dx%d 3x3, %d passes: non-finite input gradients %d, weight gradients %d%n",
        channels, channels, iterations, badInput, badWeight);
  }

  private static boolean allFinite(float[] values) {
    for (float v : values) {
      if (!Float.isFinite(v)) {
        return false;
      }
    }
    return true;
  }
}
