package org.semiweak.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Parameter;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import java.util.List;

/**
 * SGD with momentum, optionally Nesterov, and L2 weight decay, in PyTorch's formulation:
 *
 * <pre>
 *   g = grad + weightDecay * w      (L2, coupled; only for conv and linear kernels, not for biases or BatchNorm)
 *   v = momentum * v + g
 *   d = nesterov ? g + momentum * v : v
 *   w = w - lr * d
 * </pre>
 *
 * The momentum buffers {@code v} are the optimizer state that rounds average and checkpoints store.
 * Must run with gradient recording off ({@link org.semiweak.model.NoGrad}).
 */
final class Sgd {
  private final float momentum;
  private final boolean nesterov;
  private final float weightDecay;

  Sgd(TrainOptions options) {
    this.momentum = (float) options.momentum();
    this.nesterov = options.nesterov();
    this.weightDecay = (float) options.weightDecay();
  }

  /**
   * Updates every parameter in place from its gradient and clears the gradient.
   *
   * @param buffers momentum buffers, one per parameter, updated in place
   * @param scratch manager for temporaries, closed by the caller
   */
  void step(List<Parameter> params, List<NDArray> buffers, float learningRate, NDManager scratch) {
    for (int i = 0; i < params.size(); i++) {
      Parameter param = params.get(i);
      NDArray w = param.getArray();
      NDArray g = scratch(w.getGradient(), scratch);
      if (weightDecay != 0 && param.getType() == Parameter.Type.WEIGHT) {
        g = g.addi(scratch(w.mul(weightDecay), scratch));
      }
      NDArray v = buffers.get(i);
      v.muli(momentum).addi(g);
      NDArray direction = nesterov ? g.addi(scratch(v.mul(momentum), scratch)) : v;
      w.subi(scratch(direction.mul(learningRate), scratch));
      // PyTorch accumulates gradients; DJL's own optimizers clear them after the update too.
      JniUtils.zeroGrad((PtNDArray) w);
    }
  }

  /** Moves a temporary (attached to its operand's long-lived manager) to the scratch manager. */
  private static NDArray scratch(NDArray a, NDManager scratch) {
    a.attach(scratch);
    return a;
  }
}
