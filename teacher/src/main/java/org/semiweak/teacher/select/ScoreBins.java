package org.semiweak.teacher.select;

import java.io.Serializable;

/**
 * Fixed, monotone bins over scores in [0, 1], fine near both 0 and 1, used to find per-class score
 * thresholds from a histogram.
 *
 * <p>Teacher probabilities crowd near 1 (confident top-1) and near 0 (the tail of the top-P), so
 * uniform bins would put thousands of candidates into the bin that holds the K-th score. These bins
 * are logarithmic in the distance to the nearer end: with {@code q = min(p, 1 - p)}, each octave
 * {@code [2^-(j+1), 2^-j)} of {@code q} from {@code 2^-25} to {@code 2^-1} is cut into {@code
 * subBins} equal parts, and {@code q < 2^-25} (including exact 0 and 1) falls into the end bins.
 * The bin of a score depends only on its float bits (no transcendental functions), so both passes
 * and every executor compute the same bin.
 *
 * <p>The property selection relies on: {@link #binOf} never decreases as the score grows, so "bin
 * &gt;= bin of the K-th best score" keeps every candidate of the top K.
 */
final class ScoreBins implements Serializable {
  private static final long serialVersionUID = 1L;

  /** Octaves of {@code q} resolved: {@code [2^-25, 2^-1]}; below lands in the end bins. */
  static final int OCTAVES = 24;

  /** Float bits of {@code 2^-25}, the smallest resolved distance from 0 or 1. */
  private static final int MIN_RESOLVED_BITS = (127 - 25) << 23;

  /** Most histogram cells (classes x bins) the first pass may produce; bounds its memory and output. */
  static final int CELL_BUDGET = 1 << 17;

  static final int MAX_SUB_BINS = 256;

  private final int subBins;

  ScoreBins(int subBins) {
    if (subBins < 1 || subBins > MAX_SUB_BINS) {
      throw new IllegalArgumentException("subBins must be in [1, " + MAX_SUB_BINS + "], found " + subBins);
    }
    this.subBins = subBins;
  }

  /** The finest bins whose histogram over all classes stays within {@link #CELL_BUDGET} cells. */
  static ScoreBins forClasses(int numClasses) {
    long perClass = CELL_BUDGET / Math.max(1, numClasses);
    long s = (perClass - 1) / (2L * OCTAVES);
    return new ScoreBins((int) Math.max(1, Math.min(MAX_SUB_BINS, s)));
  }

  int subBins() {
    return subBins;
  }

  /** Number of bins; bins are {@code 0 .. count() - 1}, score 0 in bin 0, score 1 in the last. */
  int count() {
    return 2 * OCTAVES * subBins + 1;
  }

  /** The bin of a score in [0, 1] (not NaN); non-decreasing in the score. */
  int binOf(float score) {
    if (score > 0.5f) {
      // 1 - score is exact in float for score in [0.5, 1] (Sterbenz), so no rounding can break order.
      return 2 * OCTAVES * subBins - halfBin(1f - score);
    }
    return halfBin(score);
  }

  /** Bin of {@code q} in [0, 0.5]: octave then linear position of the mantissa inside the octave. */
  private int halfBin(float q) {
    int bits = Float.floatToRawIntBits(q);
    if (bits < MIN_RESOLVED_BITS) {
      return 0; // q below 2^-25, exact zero, or -0.0 (negative bits)
    }
    int octave = (bits >>> 23) - (127 - 25);
    long mantissa = bits & 0x7FFFFF;
    return octave * subBins + (int) ((mantissa * subBins) >>> 23);
  }

  /**
   * The smallest score in {@code [0, 1]} whose bin is at least {@code bin}: "score &gt;= lowerEdge(b)"
   * and "binOf(score) &gt;= b" keep exactly the same scores, so a filter can compare floats instead
   * of computing bins.
   */
  float lowerEdge(int bin) {
    if (bin <= 0) {
      return 0f;
    }
    int low = 0; // binOf(intBitsToFloat(low)) < bin
    int high = Float.floatToRawIntBits(1f); // binOf(1) is the last bin, >= bin
    if (binOf(1f) < bin) {
      throw new IllegalArgumentException("bin " + bin + " is above the last bin " + binOf(1f));
    }
    while (high - low > 1) {
      int mid = (low + high) >>> 1;
      if (binOf(Float.intBitsToFloat(mid)) >= bin) {
        high = mid;
      } else {
        low = mid;
      }
    }
    return Float.intBitsToFloat(high);
  }

  /**
   * The per-class threshold bin from a histogram: the bin in which the count from the top reaches
   * {@code k}, or 0 (keep all) when the class has at most {@code k} candidates.
   *
   * @param histogram candidate counts by bin for one class, length {@link #count()}
   * @return {@code [thresholdBin, survivors]}: candidates with a bin &gt;= thresholdBin, the ones the
   *     second pass must rank
   */
  static long[] threshold(long[] histogram, int k) {
    long cumulative = 0;
    for (int b = histogram.length - 1; b >= 0; b--) {
      cumulative += histogram[b];
      if (cumulative >= k) {
        return new long[] {b, cumulative};
      }
    }
    return new long[] {0, cumulative};
  }
}
