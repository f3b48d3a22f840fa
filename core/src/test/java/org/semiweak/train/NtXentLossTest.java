package org.semiweak.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.Test;
import org.semiweak.model.Engines;

/** SimCLR's NT-Xent loss on two views of a batch, against values computed by hand. */
class NtXentLossTest {
  /**
   * Two images, first views a = (1, 0), b = (0, 1), second views a' = (1, 0), b' = (0.6, 0.8), at
   * temperature 0.5. The cosine similarities are a.b = 0, a.a' = 1, a.b' = 0.6, b.a' = 0, b.b' = 0.8,
   * a'.b' = 0.6, so over the other three views, with the partner first:
   * <pre>
   *   a : -2   + log(e^0 + e^2 + e^1.2)     = 0.460373   (others b, a', b' at 0, 2, 1.2)
   *   b : -1.6 + log(e^0 + e^0 + e^1.6)     = 0.339178   (a, a', b' at 0, 0, 1.6)
   *   a': -2   + log(e^2 + e^0 + e^1.2)     = 0.460373   (a, b, b' at 2, 0, 1.2)
   *   b': -1.6 + log(e^1.2 + e^1.6 + e^1.2) = 0.850424   (a, b, a' at 1.2, 1.6, 1.2)
   * </pre>
   * mean 0.527587.
   */
  @Test
  void theLossIsTheMeanCrossEntropyOfFindingEachViewsPartner() {
    Engines.configure();
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray z = m.create(new float[] {1, 0, 0, 1, 1, 0, 0.6f, 0.8f}, new Shape(4, 2));
      assertThat(LocalTrainer.ntXentLoss(z, 0.5).getFloat()).isCloseTo(0.527587f, within(1e-5f));
      NDArray scaled = m.create(new float[] {3, 0, 0, 0.5f, 2, 0, 1.2f, 1.6f}, new Shape(4, 2));
      assertThat(LocalTrainer.ntXentLoss(scaled, 0.5).getFloat()).as("projections are L2-normalized first")
          .isCloseTo(0.527587f, within(1e-5f));
    }
  }

  @Test
  void eachFirstViewThatIsClosestToItsOwnSecondViewCounts() {
    Engines.configure();
    try (NDManager m = NDManager.newBaseManager()) {
      // a is closest to a' (1 vs 0.6 and 0); b is closest to b' (0.8 vs 0 and 0): both found.
      NDArray z = m.create(new float[] {1, 0, 0, 1, 1, 0, 0.6f, 0.8f}, new Shape(4, 2));
      assertThat(LocalTrainer.countPartnersFound(z)).isEqualTo(2);
      // Swap the second views: each first view is now closest to the other image's second view.
      NDArray swapped = m.create(new float[] {1, 0, 0, 1, 0.6f, 0.8f, 1, 0}, new Shape(4, 2));
      assertThat(LocalTrainer.countPartnersFound(swapped)).isEqualTo(0);
    }
  }

  @Test
  void aBatchNeedsTwoViewsOfAtLeastTwoImages() {
    Engines.configure();
    try (NDManager m = NDManager.newBaseManager()) {
      assertThatThrownBy(() -> LocalTrainer.ntXentLoss(m.ones(new Shape(3, 2)), 0.5))
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("two views of at least 2 images");
    }
  }
}
