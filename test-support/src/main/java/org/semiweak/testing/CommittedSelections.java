package org.semiweak.testing;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.semiweak.data.SelectionSchema;
import org.semiweak.run.RunDir;
import org.semiweak.run.RunLayout;
import org.semiweak.run.StageId;
import org.semiweak.run.StageManifest;
import org.semiweak.run.StageOutput;
import org.semiweak.run.StagePlan;
import org.semiweak.run.StageWriter;
import org.semiweak.run.result.Publication;
import org.semiweak.run.result.SelectionResult;

/**
 * Commits a pseudo-label selection that no select stage made (Parquet with {@link SelectionSchema}
 * and a {@link SelectionResult}), so that the student's stages can be tested without the teacher
 * module.
 *
 * <pre>{@code
 * List<CommittedSelections.Pick> picks = List.of(new Pick("fmnist-train-00042", 3, 0.9f), ...);
 * CommittedSelections.commit(spark, run, "t", "s", 10, 2, picks);
 * }</pre>
 */
public final class CommittedSelections {
  private CommittedSelections() {}

  /** One selected (image, class) pair and its score. */
  public record Pick(String imageId, int classIndex, float score) {}

  /**
   * Commits {@code picks} as {@code selection/<teacher>/<name>}, ranked per class by score
   * descending (ties by image id), and returns the manifest.
   *
   * @param classNames the run's classes, for the per-class statistics
   */
  public static StageManifest commit(SparkSession spark, RunDir run, String teacher, String name, int k, int p,
      List<String> classNames, List<Pick> picks) {
    return commit(spark, run, teacher, name, k, p, classNames, picks, SelectionSchema.VERSION);
  }

  /**
   * Commits {@code picks} like {@link #commit(SparkSession, RunDir, String, String, int, int, List, List)}, in the
   * layout of {@code schemaVersion}: {@link SelectionSchema#V1} writes the column {@code class} and a manifest
   * without {@code schemaVersion}, as semiweak did before class names were written.
   */
  public static StageManifest commit(SparkSession spark, RunDir run, String teacher, String name, int k, int p,
      List<String> classNames, List<Pick> picks, int schemaVersion) {
    boolean v1 = schemaVersion == SelectionSchema.V1;
    StageId id = RunLayout.selection(teacher, name);
    Map<Integer, List<Pick>> byClass = new TreeMap<>();
    for (Pick pick : picks) {
      byClass.computeIfAbsent(pick.classIndex(), c -> new ArrayList<>()).add(pick);
    }
    List<Row> rows = new ArrayList<>();
    List<SelectionResult.ClassSelection> classes = new ArrayList<>();
    for (int c = 0; c < classNames.size(); c++) {
      List<Pick> of = new ArrayList<>(byClass.getOrDefault(c, List.of()));
      of.sort(Comparator.comparing(Pick::score).reversed().thenComparing(Pick::imageId));
      for (int r = 0; r < of.size(); r++) {
        rows.add(v1 ? RowFactory.create(of.get(r).imageId(), c, of.get(r).score(), r + 1)
            : RowFactory.create(of.get(r).imageId(), c, classNames.get(c), of.get(r).score(), r + 1));
      }
      float min = (float) of.stream().mapToDouble(Pick::score).min().orElse(Double.NaN);
      float max = (float) of.stream().mapToDouble(Pick::score).max().orElse(Double.NaN);
      double mean = of.stream().mapToDouble(Pick::score).average().orElse(Double.NaN);
      List<Long> histogram = new ArrayList<>(java.util.Collections.nCopies(10, 0L));
      of.forEach(x -> histogram.set(Math.min(9, (int) (x.score() * 10)), histogram.get(Math.min(9, (int) (x.score() * 10))) + 1));
      classes.add(new SelectionResult.ClassSelection(c, classNames.get(c), of.size(), of.size(), of.size() < k, min,
          min, max, mean, histogram, 0));
    }
    try (StageWriter w = run.begin(id)) {
      spark.createDataFrame(rows, SelectionSchema.schema(schemaVersion)).coalesce(1).write()
          .mode(org.apache.spark.sql.SaveMode.Overwrite).parquet(w.tempDir().toString());
      StagePlan plan = StagePlan.builder(id, Map.of("k", k, "p", p, "teacher", teacher, "name", name,
              "fixture", CommittedSelections.class.getSimpleName()))
          .publishes(new Publication.Selection(k, p)).build();
      return w.commit(plan, new StageOutput(Map.of("selected", (long) rows.size()),
          new SelectionResult(k, p, null, 0, classes, 0, 0, v1 ? null : schemaVersion)));
    }
  }
}
