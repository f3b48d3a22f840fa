package org.semiweak.run.result;

import java.util.List;
import org.semiweak.data.SelectionSchema;

/**
 * What select published: per class, how many images were selected and with which scores.
 *
 * @param k images selected at most per class
 * @param p classes of each image's scores considered
 * @param precision share of selected (image, class) pairs whose class is the image's true label,
 *     where the label is known (the simulated demo keeps it); null when no label is known
 * @param labelsKnown selected pairs whose image has a known label
 * @param classes per-class statistics, in class order
 * @param secondsPass1 wall time of the histogram pass
 * @param secondsPass2 wall time of the selection pass
 * @param schemaVersion the layout of the selection's Parquet files ({@link SelectionSchema#schema(int)}); null, read
 *     as {@value SelectionSchema#V1}, in manifests written before class names were written
 */
public record SelectionResult(int k, int p, Double precision, long labelsKnown, List<ClassSelection> classes,
    double secondsPass1, double secondsPass2, Integer schemaVersion) implements StageResult {

  public SelectionResult {
    schemaVersion = schemaVersion == null ? SelectionSchema.V1 : schemaVersion;
  }

  /** A result of a selection written now, in {@link SelectionSchema#VERSION}. */
  public SelectionResult(int k, int p, Double precision, long labelsKnown, List<ClassSelection> classes,
      double secondsPass1, double secondsPass2) {
    this(k, p, precision, labelsKnown, classes, secondsPass1, secondsPass2, SelectionSchema.VERSION);
  }

  /** The class names of the selection's classes, in class order. */
  public List<String> classNames() {
    return classes.stream().map(ClassSelection::name).toList();
  }

  @Override
  public Publication.Selection publication() {
    return new Publication.Selection(k, p);
  }

  /**
   * One class of a selection.
   *
   * @param classIndex the class
   * @param name its name in the vocabulary
   * @param candidates (image, class) pairs with the class among the image's top P
   * @param selected pairs selected
   * @param fewerThanK whether fewer than K candidates existed
   * @param scoreThreshold the score cut of the class (see {@code ClassStats})
   * @param minScore lowest selected score
   * @param maxScore highest selected score
   * @param meanScore mean selected score
   * @param scoreHistogram 10 counts of selected scores by tenths
   * @param nanRejected candidates whose score was NaN
   */
  public record ClassSelection(int classIndex, String name, long candidates, long selected, boolean fewerThanK,
      float scoreThreshold, float minScore, float maxScore, double meanScore, List<Long> scoreHistogram,
      long nanRejected) {}
}
