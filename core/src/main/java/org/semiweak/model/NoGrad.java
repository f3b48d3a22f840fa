package org.semiweak.model;

import ai.djl.pytorch.jni.JniUtils;

/**
 * Switches libtorch's autograd recording for the current thread, restoring the previous mode on
 * close. libtorch keeps this mode per thread, and Spark runs tasks on pooled threads, so model
 * code sets it explicitly instead of relying on whatever the thread did before.
 */
public final class NoGrad implements AutoCloseable {
  private final boolean previous;

  private NoGrad(boolean enabled) {
    previous = JniUtils.isGradMode();
    JniUtils.setGradMode(enabled);
  }

  /** Disables gradient recording (inference, parameter updates). */
  public static NoGrad enter() {
    return new NoGrad(false);
  }

  /** Enables gradient recording (a training forward and backward pass). */
  public static NoGrad recording() {
    return new NoGrad(true);
  }

  @Override
  public void close() {
    JniUtils.setGradMode(previous);
  }
}
