package org.semiweak.train;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import java.io.Serializable;

/**
 * The objective of a self-supervised training run, in place of classification: the images' labels
 * are not used. Each image of a batch gives two views ({@link org.semiweak.model.ContrastiveViews}:
 * random resized crop, flip, brightness and contrast jitter, solarize), and the network is the
 * classifier's encoder with a projection head instead of the classifier ({@link
 * org.semiweak.model.ProjectionNet}); the heads are dropped when the encoder is fine-tuned.
 *
 * <ul>
 *   <li><b>SimCLR</b> (Chen et al. 2020): the loss is NT-Xent at {@link #temperature()}: for each of
 *       the {@code 2B} views, the cross entropy of finding its partner among the other {@code 2B - 1}
 *       views of the worker's batch by cosine similarity. Negatives are the worker's batch only: with
 *       {@code workers > 1} each worker sees {@code batchSize / workers} images, so more workers at
 *       the same global batch mean fewer negatives per view (SimCLR gathers them across devices; this
 *       trainer averages models instead).
 *   <li><b>BYOL</b> (Grill et al. 2020): no negatives. An online network (encoder, projection,
 *       predictor) predicts the projection that a target network (encoder, projection) gives of the
 *       other view: loss {@code 2 - 2 cos(prediction, target projection)}, summed over both
 *       directions. The target is a moving average of the online network, its rate rising from
 *       {@link #targetMomentum()} to 1 along a cosine over the run. It is kept in the optimizer state,
 *       so rounds average it across workers like the momentum buffers, and checkpoints keep it.
 * </ul>
 *
 * @param method {@code simclr} or {@code byol}
 * @param temperature SimCLR: NT-Xent's temperature, > 0 (0.1 to 0.5); BYOL: 0
 * @param projectionHidden units of the projection head's (and predictor's) hidden layer
 * @param projectionDim units of the projection, where the loss compares views
 * @param minCropScale smallest area of a view's crop, as a fraction of the image (SimCLR: 0.08)
 * @param targetMomentum BYOL: the target's moving-average rate at the start, in (0, 1) (0.996 for
 *     ImageNet, 0.99 for short runs); SimCLR: 0
 */
@JsonPropertyOrder(alphabetic = true)
public record SelfSupervised(
    @JsonProperty(value = "method", required = true) String method,
    @JsonProperty("temperature") @JsonInclude(JsonInclude.Include.NON_DEFAULT) double temperature,
    @JsonProperty(value = "projectionHidden", required = true) int projectionHidden,
    @JsonProperty(value = "projectionDim", required = true) int projectionDim,
    @JsonProperty(value = "minCropScale", required = true) double minCropScale,
    @JsonProperty("targetMomentum") @JsonInclude(JsonInclude.Include.NON_DEFAULT) double targetMomentum)
    implements Serializable {

  public static final String SIMCLR = "simclr";
  public static final String BYOL = "byol";

  @JsonCreator
  public SelfSupervised {
    if (SIMCLR.equals(method)) {
      if (!(temperature > 0) || !Double.isFinite(temperature)) {
        throw new IllegalArgumentException("simclr: temperature must be > 0, found " + temperature);
      }
      if (targetMomentum != 0) {
        throw new IllegalArgumentException("simclr has no target network: targetMomentum must be 0, found "
            + targetMomentum);
      }
    } else if (BYOL.equals(method)) {
      if (!(targetMomentum > 0 && targetMomentum < 1)) {
        throw new IllegalArgumentException("byol: targetMomentum must be in (0, 1), found " + targetMomentum);
      }
      if (temperature != 0) {
        throw new IllegalArgumentException("byol has no temperature: it must be 0, found " + temperature);
      }
    } else {
      throw new IllegalArgumentException("self-supervised method must be \"" + SIMCLR + "\" or \"" + BYOL
          + "\" (SwAV is not built yet), found " + (method == null ? "null" : "\"" + method + "\""));
    }
    if (projectionHidden < 1 || projectionDim < 1) {
      throw new IllegalArgumentException("projectionHidden and projectionDim must be >= 1, found " + projectionHidden
          + " and " + projectionDim);
    }
    if (!(minCropScale > 0 && minCropScale <= 1)) {
      throw new IllegalArgumentException("minCropScale must be in (0, 1], found " + minCropScale);
    }
  }

  /** SimCLR with the given temperature, head and crop scale. */
  public static SelfSupervised simclr(double temperature, int projectionHidden, int projectionDim, double minCropScale) {
    return new SelfSupervised(SIMCLR, temperature, projectionHidden, projectionDim, minCropScale, 0);
  }

  /** BYOL with the given starting target momentum, heads and crop scale. */
  public static SelfSupervised byol(double targetMomentum, int projectionHidden, int projectionDim, double minCropScale) {
    return new SelfSupervised(BYOL, 0, projectionHidden, projectionDim, minCropScale, targetMomentum);
  }

  /** Whether the trained network has a predictor and a moving-average target (BYOL). */
  public boolean hasTarget() {
    return BYOL.equals(method);
  }

  /**
   * BYOL's moving-average rate at global step {@code step} of {@code totalSteps}: {@code 1 - (1 -
   * targetMomentum) (cos(pi step / totalSteps) + 1) / 2}, from {@link #targetMomentum()} to 1.
   */
  public double targetMomentumAt(long step, long totalSteps) {
    return 1 - (1 - targetMomentum) * (Math.cos(Math.PI * step / totalSteps) + 1) / 2;
  }
}
