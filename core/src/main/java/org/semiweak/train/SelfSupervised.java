package org.semiweak.train;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import java.io.Serializable;

/**
 * The objective of a self-supervised training run, in place of classification: the images' labels
 * are not used. Only SimCLR (Chen et al. 2020) exists so far:
 *
 * <ul>
 *   <li>each image of a batch gives two views ({@link org.semiweak.model.ContrastiveViews}: random
 *       resized crop, flip, brightness and contrast jitter, solarize);
 *   <li>the network is the classifier's encoder with a projection head instead of the classifier,
 *       {@code Linear(features, projectionHidden) - ReLU - Linear(projectionHidden, projectionDim)}
 *       ({@link org.semiweak.model.ProjectionNet}); the head is dropped when the encoder is
 *       fine-tuned;
 *   <li>the loss is NT-Xent at {@link #temperature()}: for each of the {@code 2B} views, the cross
 *       entropy of finding its partner among the other {@code 2B - 1} views of the worker's batch by
 *       cosine similarity. Negatives are the worker's batch only: with {@code workers > 1} each worker
 *       sees {@code batchSize / workers} images, so more workers at the same global batch mean fewer
 *       negatives per view (SimCLR gathers them across devices; this trainer averages models instead).
 * </ul>
 *
 * @param method {@code simclr}
 * @param temperature NT-Xent's temperature, > 0 (SimCLR: 0.1 to 0.5)
 * @param projectionHidden units of the projection head's hidden layer
 * @param projectionDim units of the projection, where the loss compares views
 * @param minCropScale smallest area of a view's crop, as a fraction of the image (SimCLR: 0.08)
 */
@JsonPropertyOrder(alphabetic = true)
public record SelfSupervised(
    @JsonProperty(value = "method", required = true) String method,
    @JsonProperty(value = "temperature", required = true) double temperature,
    @JsonProperty(value = "projectionHidden", required = true) int projectionHidden,
    @JsonProperty(value = "projectionDim", required = true) int projectionDim,
    @JsonProperty(value = "minCropScale", required = true) double minCropScale) implements Serializable {

  public static final String SIMCLR = "simclr";

  @JsonCreator
  public SelfSupervised {
    if (!SIMCLR.equals(method)) {
      throw new IllegalArgumentException("self-supervised method must be \"" + SIMCLR + "\" (BYOL and SwAV are not"
          + " built yet), found " + (method == null ? "null" : "\"" + method + "\""));
    }
    if (!(temperature > 0) || !Double.isFinite(temperature)) {
      throw new IllegalArgumentException("temperature must be > 0, found " + temperature);
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
    return new SelfSupervised(SIMCLR, temperature, projectionHidden, projectionDim, minCropScale);
  }
}
