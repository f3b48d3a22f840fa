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
 *   <li><b>SwAV</b> (Caron et al. 2020): the projections are compared with {@link #prototypes()}
 *       learned unit vectors; each view's soft assignment to them (its code) is computed by
 *       Sinkhorn-Knopp over the worker's batch (3 iterations at {@link #sinkhornEpsilon()}, so that
 *       the batch spreads evenly over the prototypes), and each view predicts its partner's code from
 *       its own similarities at {@link #temperature()} (swapped prediction, cross-entropy). Codes come
 *       from the worker's batch only (there is no queue). With {@link #smallCrops()} > 0, multi-crop:
 *       each image also gives that many small views of {@link #smallCropSize()} pixels, crops of
 *       0.05 to {@code minCropScale} of its area, which predict the codes of the two large views
 *       (codes are computed from the large views only).
 * </ul>
 *
 * @param method {@code simclr} or {@code byol}
 * @param temperature SimCLR: NT-Xent's temperature, > 0 (0.1 to 0.5); SwAV: the prediction's (0.1);
 *     BYOL: 0
 * @param projectionHidden units of the projection head's (and predictor's) hidden layer
 * @param projectionDim units of the projection, where the loss compares views
 * @param minCropScale smallest area of a view's crop, as a fraction of the image (SimCLR: 0.08)
 * @param targetMomentum BYOL: the target's moving-average rate at the start, in (0, 1) (0.996 for
 *     ImageNet, 0.99 for short runs); SimCLR and SwAV: 0
 * @param prototypes SwAV: the number of prototypes, >= 2; SimCLR and BYOL: 0
 * @param sinkhornEpsilon SwAV: the entropy weight of Sinkhorn-Knopp's codes, > 0 (0.05); SimCLR and BYOL: 0
 * @param smallCrops SwAV: small views per image besides the two large ones (multi-crop; SwAV: 6); 0: none
 * @param smallCropSize the small views' side in pixels, >= 8 when there are small views (SwAV: 96 for 224)
 */
@JsonPropertyOrder(alphabetic = true)
public record SelfSupervised(
    @JsonProperty(value = "method", required = true) String method,
    @JsonProperty("temperature") @JsonInclude(JsonInclude.Include.NON_DEFAULT) double temperature,
    @JsonProperty(value = "projectionHidden", required = true) int projectionHidden,
    @JsonProperty(value = "projectionDim", required = true) int projectionDim,
    @JsonProperty(value = "minCropScale", required = true) double minCropScale,
    @JsonProperty("targetMomentum") @JsonInclude(JsonInclude.Include.NON_DEFAULT) double targetMomentum,
    @JsonProperty("prototypes") @JsonInclude(JsonInclude.Include.NON_DEFAULT) int prototypes,
    @JsonProperty("sinkhornEpsilon") @JsonInclude(JsonInclude.Include.NON_DEFAULT) double sinkhornEpsilon,
    @JsonProperty("smallCrops") @JsonInclude(JsonInclude.Include.NON_DEFAULT) int smallCrops,
    @JsonProperty("smallCropSize") @JsonInclude(JsonInclude.Include.NON_DEFAULT) int smallCropSize)
    implements Serializable {

  public static final String SIMCLR = "simclr";
  public static final String BYOL = "byol";
  public static final String SWAV = "swav";

  // The defaults of train-teacher's ssl-* options, here so that the stage and the benchmark that
  // times its steps (TrainBenchmark) cannot drift apart.
  public static final double DEFAULT_SIMCLR_TEMPERATURE = 0.5;
  public static final double DEFAULT_SWAV_TEMPERATURE = 0.1;
  public static final double DEFAULT_TARGET_MOMENTUM = 0.99;
  public static final int DEFAULT_PROTOTYPES = 100;
  public static final double DEFAULT_SINKHORN_EPSILON = 0.05;
  public static final int DEFAULT_PROJECTION_HIDDEN = 256;
  public static final int DEFAULT_PROJECTION_DIM = 128;
  public static final double DEFAULT_MIN_CROP_SCALE = 0.2;

  /** Sinkhorn-Knopp iterations per batch, as SwAV's. */
  public static final int SINKHORN_ITERATIONS = 3;

  @JsonCreator
  public SelfSupervised {
    if (SIMCLR.equals(method) || SWAV.equals(method)) {
      if (!(temperature > 0) || !Double.isFinite(temperature)) {
        throw new IllegalArgumentException(method + ": temperature must be > 0, found " + temperature);
      }
      if (targetMomentum != 0) {
        throw new IllegalArgumentException(method + " has no target network: targetMomentum must be 0, found "
            + targetMomentum);
      }
      if (SWAV.equals(method) && (prototypes < 2 || !(sinkhornEpsilon > 0) || !Double.isFinite(sinkhornEpsilon))) {
        throw new IllegalArgumentException("swav: prototypes must be >= 2 and sinkhornEpsilon > 0, found " + prototypes
            + " and " + sinkhornEpsilon);
      }
    } else if (BYOL.equals(method)) {
      if (!(targetMomentum > 0 && targetMomentum < 1)) {
        throw new IllegalArgumentException("byol: targetMomentum must be in (0, 1), found " + targetMomentum);
      }
      if (temperature != 0) {
        throw new IllegalArgumentException("byol has no temperature: it must be 0, found " + temperature);
      }
    } else {
      throw new IllegalArgumentException("self-supervised method must be \"" + SIMCLR + "\", \"" + BYOL + "\" or \""
          + SWAV + "\", found " + (method == null ? "null" : "\"" + method + "\""));
    }
    if (!SWAV.equals(method) && (prototypes != 0 || sinkhornEpsilon != 0)) {
      throw new IllegalArgumentException(method + " has no prototypes: prototypes and sinkhornEpsilon must be 0, found "
          + prototypes + " and " + sinkhornEpsilon);
    }
    if (projectionHidden < 1 || projectionDim < 1) {
      throw new IllegalArgumentException("projectionHidden and projectionDim must be >= 1, found " + projectionHidden
          + " and " + projectionDim);
    }
    if (!(minCropScale > 0 && minCropScale <= 1)) {
      throw new IllegalArgumentException("minCropScale must be in (0, 1], found " + minCropScale);
    }
    if (smallCrops < 0 || (smallCrops > 0 && !SWAV.equals(method))) {
      throw new IllegalArgumentException("small crops (multi-crop) are for swav only and >= 0, found " + smallCrops
          + " for " + method);
    }
    if (smallCrops > 0 && (smallCropSize < 8 || minCropScale <= SMALL_CROP_MIN_SCALE)) {
      throw new IllegalArgumentException("small crops need a side >= 8 pixels and minCropScale > "
          + SMALL_CROP_MIN_SCALE + " (they cover " + SMALL_CROP_MIN_SCALE + " to minCropScale of the image), found "
          + smallCropSize + " and " + minCropScale);
    }
  }

  /** The smallest area of a small view's crop, as a fraction of the image (SwAV's 0.05). */
  public static final double SMALL_CROP_MIN_SCALE = 0.05;

  /** SimCLR with the given temperature, head and crop scale. */
  public static SelfSupervised simclr(double temperature, int projectionHidden, int projectionDim, double minCropScale) {
    return new SelfSupervised(SIMCLR, temperature, projectionHidden, projectionDim, minCropScale, 0, 0, 0, 0, 0);
  }

  /** BYOL with the given starting target momentum, heads and crop scale. */
  public static SelfSupervised byol(double targetMomentum, int projectionHidden, int projectionDim, double minCropScale) {
    return new SelfSupervised(BYOL, 0, projectionHidden, projectionDim, minCropScale, targetMomentum, 0, 0, 0, 0);
  }

  /** SwAV with the given prototypes, Sinkhorn epsilon, prediction temperature, head and crop scale. */
  public static SelfSupervised swav(int prototypes, double sinkhornEpsilon, double temperature, int projectionHidden,
      int projectionDim, double minCropScale) {
    return new SelfSupervised(SWAV, temperature, projectionHidden, projectionDim, minCropScale, 0, prototypes,
        sinkhornEpsilon, 0, 0);
  }

  /** {@code method} with train-teacher's defaults for every setting. */
  public static SelfSupervised defaults(String method) {
    return switch (method) {
      case SIMCLR -> simclr(DEFAULT_SIMCLR_TEMPERATURE, DEFAULT_PROJECTION_HIDDEN, DEFAULT_PROJECTION_DIM,
          DEFAULT_MIN_CROP_SCALE);
      case BYOL -> byol(DEFAULT_TARGET_MOMENTUM, DEFAULT_PROJECTION_HIDDEN, DEFAULT_PROJECTION_DIM,
          DEFAULT_MIN_CROP_SCALE);
      case SWAV -> swav(DEFAULT_PROTOTYPES, DEFAULT_SINKHORN_EPSILON, DEFAULT_SWAV_TEMPERATURE,
          DEFAULT_PROJECTION_HIDDEN, DEFAULT_PROJECTION_DIM, DEFAULT_MIN_CROP_SCALE);
      default -> throw new IllegalArgumentException("self-supervised method must be \"" + SIMCLR + "\", \"" + BYOL
          + "\" or \"" + SWAV + "\", found \"" + method + "\"");
    };
  }

  /**
   * The side of multi-crop's small views for images of {@code imageSize} pixels: 96/224 of it, as
   * SwAV's 96 px views of 224 px images, and at least 8 (12 for 28 px images).
   */
  public static int defaultSmallCropSize(int imageSize) {
    return Math.max(8, (int) Math.round(imageSize * 96.0 / 224));
  }

  /** This SwAV objective with multi-crop: {@code count} small views of {@code size} pixels per image. */
  public SelfSupervised withSmallCrops(int count, int size) {
    return new SelfSupervised(method, temperature, projectionHidden, projectionDim, minCropScale, targetMomentum,
        prototypes, sinkhornEpsilon, count, count == 0 ? 0 : size);
  }

  /** The prototypes after the projection: SwAV's count, else 0. */
  public int prototypeCount() {
    return SWAV.equals(method) ? prototypes : 0;
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
