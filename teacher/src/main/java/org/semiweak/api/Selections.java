package org.semiweak.api;

import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.semiweak.data.ScoreSchema;
import org.semiweak.data.SelectionSchema;
import org.semiweak.teacher.select.SelectTopK;
import org.semiweak.teacher.select.TopKOptions;
import org.semiweak.teacher.select.TopKResult;

/**
 * Pseudo-label selection as a function over any DataFrame of scores: the {@code select} stage's own
 * algorithm ({@link SelectTopK}), so the rows are the ones the stage would commit for the same
 * scores and options.
 *
 * <pre>{@code
 * Dataset<Row> picks = Selections.topKPerClass(scores, classNames, 4000, 10);
 * picks.write().parquet("hdfs:///pseudo-labels");   // image_id, class_index, class_name, score, rank
 * picks.unpersist();
 * }</pre>
 *
 * <p>The scores need the columns selection reads, as {@link ScoreSchema} has them: {@code image_id}
 * (string), {@code classes} ({@code array<int>}) and {@code probs} ({@code array<float>}), and {@code
 * tag_classes} for tag-consistent selection; other columns are ignored. A committed {@code
 * scores/<teacher>} folder has them, and so has {@link ImageScorer}'s output once rows with a
 * rejection are filtered out. Invalid rows (null arrays, fewer than p classes, an unknown class, a
 * probability outside [0, 1]) fail the selection with a message that counts them and names examples.
 */
public final class Selections {
  private Selections() {}

  /**
   * For every class, the {@code k} images with the highest probability for it among the images that
   * have it among their top {@code p} classes; ranks 1..k by score descending, ties by image id.
   *
   * @param classNames the class names in index order (the run's vocabulary; a score folder carries
   *     them in its Parquet footer, {@link org.semiweak.data.ParquetKeyValues#classNames})
   * @return rows of {@link SelectionSchema}, computed and persisted: call {@code unpersist()} when done
   */
  public static Dataset<Row> topKPerClass(Dataset<Row> scores, List<String> classNames, int k, int p) {
    TopKResult result = select(scores, classNames, TopKOptions.defaults().withK(k).withP(p));
    // The result's only resource is the persisted selection, which the caller now owns.
    return result.selection();
  }

  /**
   * The selection with every option of the select stage (minimum score, tag consistency, classes
   * per image), and its per-class statistics. Close the result to release the persisted rows.
   */
  public static TopKResult select(Dataset<Row> scores, List<String> classNames, TopKOptions options) {
    return SelectTopK.withOptions(options).execute(scores, classNames);
  }
}
