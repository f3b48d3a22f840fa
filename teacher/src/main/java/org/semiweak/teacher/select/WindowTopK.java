package org.semiweak.teacher.select;

import static org.apache.spark.sql.functions.col;

import java.util.List;
import java.util.Objects;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.semiweak.data.ScoreSchema;

/**
 * The plain Spark baseline of {@link SelectTopK}: {@code row_number() over (partition by class
 * order by score desc, image_id) <= k} over every candidate.
 *
 * <p>Same candidates, filters, tie-breaking and output rows as {@link SelectTopK} (both build on the
 * same candidate expressions), but it shuffles and sorts all candidates, and it trusts its input:
 * no validation pass, no statistics, rows with NaN or invalid probabilities are simply not
 * candidates. It exists to check {@link SelectTopK} against and to benchmark it.
 *
 * <pre>{@code
 * Dataset<Row> selection = WindowTopK.withOptions(options).select(scores, classNames); // lazy
 * }</pre>
 */
public final class WindowTopK {
  private final TopKOptions options;

  private WindowTopK(TopKOptions options) {
    this.options = Objects.requireNonNull(options, "options");
  }

  public static WindowTopK withOptions(TopKOptions options) {
    return new WindowTopK(options);
  }

  /**
   * The selection as a lazy {@link org.semiweak.data.SelectionSchema} Dataset: nothing runs until an action (e.g. a
   * write), and each action recomputes it from the scores.
   */
  public Dataset<Row> select(Dataset<Row> scores, List<String> classNames) {
    int numClasses = classNames.size();
    options.checkFor(numClasses);
    ClassCandidates.checkSchema(scores.schema(), options);
    Dataset<Row> candidates = ClassCandidates.explode(scores, options, numClasses, false, List.of(ScoreSchema.IMAGE_ID))
        .filter(col(ClassCandidates.OUTCOME).equalTo(ClassCandidates.SELECTABLE));
    return SelectTopK.rank(SelectTopK.selectionColumns(candidates), options.k(), classNames);
  }
}
