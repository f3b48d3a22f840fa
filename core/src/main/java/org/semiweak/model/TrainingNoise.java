package org.semiweak.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import java.util.SplittableRandom;

/**
 * The model noise of Noisy Student's student, active during one training forward pass on the
 * calling thread and nowhere else: dropout on the pooled features before the classifier, and
 * stochastic depth (Huang et al. 2016) on the residual branches.
 *
 * <p>Why a per-thread scope instead of layers: the network of a {@link ModelSpec} is the same block
 * for training, scoring and export, with the same parameter names, so a model trained with noise
 * loads wherever one trained without it, and scoring (which never enters a scope) is never noisy.
 * Both kinds are "inverted": kept values are scaled by 1 / keep probability while training, so the
 * network is used unchanged at inference. The masks come from a seeded Java generator, so a step
 * is a pure function of its seed like the rest of training (see {@code LocalTrainer}).
 *
 * <pre>{@code
 * try (TrainingNoise noise = TrainingNoise.enter(0.2, 0.2, spec.residualBlocks(), stepSeed)) {
 *   logits = block.forward(store, input, true);
 * }
 * }</pre>
 */
public final class TrainingNoise implements AutoCloseable {
  private static final ThreadLocal<TrainingNoise> CURRENT = new ThreadLocal<>();

  private final double dropout;
  private final double stochasticDepth;
  private final int residualBlocks;
  private final SplittableRandom rng;

  private TrainingNoise(double dropout, double stochasticDepth, int residualBlocks, long seed) {
    if (!(dropout >= 0 && dropout < 1)) {
      throw new IllegalArgumentException("dropout must be in [0, 1), found " + dropout);
    }
    if (!(stochasticDepth >= 0 && stochasticDepth < 1)) {
      throw new IllegalArgumentException("stochastic depth must be in [0, 1), found " + stochasticDepth);
    }
    this.dropout = dropout;
    this.stochasticDepth = stochasticDepth;
    this.residualBlocks = residualBlocks;
    this.rng = new SplittableRandom(seed);
  }

  /**
   * Turns the noise on for forward passes on this thread until {@link #close()}.
   *
   * @param dropout probability that a pooled feature is zeroed before the classifier (0: none)
   * @param stochasticDepth probability that the last residual block's branch is dropped for an
   *     image; block {@code l} of {@code L} drops with {@code l / L} of it (the linear decay rule)
   * @param residualBlocks the number of residual blocks of the model ({@link
   *     ModelSpec#residualBlocks()})
   * @param seed the seed of the masks of this pass
   */
  public static TrainingNoise enter(double dropout, double stochasticDepth, int residualBlocks, long seed) {
    TrainingNoise noise = new TrainingNoise(dropout, stochasticDepth, residualBlocks, seed);
    CURRENT.set(noise);
    return noise;
  }

  @Override
  public void close() {
    CURRENT.remove();
  }

  /** The pooled features {@code (batch, channels)} with dropout when a scope asks for it. */
  static NDArray onFeatures(NDArray features) {
    TrainingNoise noise = CURRENT.get();
    if (noise == null || noise.dropout == 0) {
      return features;
    }
    Shape shape = features.getShape();
    return features.mul(features.getManager().create(noise.mask(shape.size(), noise.dropout), shape));
  }

  /**
   * The residual branch {@code (batch, C, H, W)} of block {@code blockIndex} (0-based), dropped
   * per image with that block's probability when a scope asks for stochastic depth.
   */
  static NDArray onResidualBranch(NDArray branch, int blockIndex) {
    TrainingNoise noise = CURRENT.get();
    if (noise == null || noise.stochasticDepth == 0) {
      return branch;
    }
    double drop = noise.stochasticDepth * (blockIndex + 1) / Math.max(1, noise.residualBlocks);
    long batch = branch.getShape().get(0);
    return branch.mul(branch.getManager().create(noise.mask(batch, drop), new Shape(batch, 1, 1, 1)));
  }

  /** {@code n} values, each 0 with probability {@code drop}, else 1 / (1 - drop) (inverted dropout). */
  private float[] mask(long n, double drop) {
    float keepScale = (float) (1 / (1 - drop));
    float[] mask = new float[Math.toIntExact(n)];
    for (int i = 0; i < mask.length; i++) {
      mask[i] = rng.nextDouble() < drop ? 0f : keepScale;
    }
    return mask;
  }
}
