package org.semiweak.teacher.select;

import java.util.List;

/**
 * What selection did for one class: how many candidates it had, how many it kept, and the scores it
 * kept.
 *
 * <p>Accounting: {@code considered() = candidates + nanRejected + belowMinScore + notInTags}, and
 * {@code selected = min(k, candidates)}. Score fields are {@code NaN} when nothing was selected.
 * {@code scoreThreshold <= minSelectedScore}.
 *
 * @param classIndex the class
 * @param candidates images with the class among their first {@code min(p, maxClassesPerImage)}
 *     classes that passed every filter (the pool the top K come from)
 * @param selected images kept: {@code min(k, candidates)}
 * @param fewerThanK whether the class had fewer than k candidates (so it kept all of them)
 * @param scoreThreshold the cut of the second pass: the lowest score of the histogram bin in which the
 *     count of candidates from the top reaches k (0 when the class has at most k candidates, so all of
 *     them are kept); the {@code survivors} are exactly the candidates scoring at or above it, and
 *     every selected score is at or above it. {@code NaN} when the class has no candidate
 * @param minSelectedScore lowest selected score: the score of the last selected image (rank {@code
 *     selected}); with ties, images with this score but a larger image id were left out
 * @param maxSelectedScore highest selected score
 * @param meanSelectedScore mean selected score, summed in rank order in double precision
 * @param selectedScoreHistogram 10 counts of selected scores: bin {@code i} holds scores {@code s}
 *     with {@code floor(10 s) == i} (computed on the float's exact value), 1.0 in bin 9
 * @param nanRejected candidates whose probability was NaN: never selected, counted here
 * @param belowMinScore candidates dropped by {@code min-score}
 * @param notInTags candidates dropped by {@code tag-consistent} (class not in the image's tags)
 * @param survivors candidates at or above the class's histogram threshold, i.e. the ones the
 *     second pass ranked exactly; {@code survivors / selected} measures how tight the threshold was
 */
public record ClassStats(
    int classIndex,
    long candidates,
    long selected,
    boolean fewerThanK,
    float scoreThreshold,
    float minSelectedScore,
    float maxSelectedScore,
    double meanSelectedScore,
    List<Long> selectedScoreHistogram,
    long nanRejected,
    long belowMinScore,
    long notInTags,
    long survivors) {

  /** Number of bins of {@link #selectedScoreHistogram}. */
  public static final int HISTOGRAM_BINS = 10;

  public ClassStats {
    selectedScoreHistogram = List.copyOf(selectedScoreHistogram);
    if (selectedScoreHistogram.size() != HISTOGRAM_BINS) {
      throw new IllegalArgumentException(
          "selectedScoreHistogram needs " + HISTOGRAM_BINS + " bins, found " + selectedScoreHistogram.size());
    }
  }

  /** Every (image, class) pair looked at for this class: candidates plus the three rejections. */
  public long considered() {
    return candidates + nanRejected + belowMinScore + notInTags;
  }
}
