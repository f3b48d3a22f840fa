package org.semiweak.teacher;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.when;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.semiweak.config.ConfigException;
import org.semiweak.config.OptionSpec;
import org.semiweak.config.Options;
import org.semiweak.data.ParquetKeyValues;
import org.semiweak.data.ScoreSchema;
import org.semiweak.data.SelectionSchema;
import org.semiweak.run.RunDir;
import org.semiweak.run.RunLayout;
import org.semiweak.run.Stage;
import org.semiweak.run.StageId;
import org.semiweak.run.StageOutput;
import org.semiweak.run.StagePlan;
import org.semiweak.run.StageWriter;
import org.semiweak.run.Upstream;
import org.semiweak.run.result.Publication;
import org.semiweak.run.result.SelectionResult;
import org.semiweak.run.SparkJobs;
import org.semiweak.stage.ParquetInput;
import org.semiweak.stage.PrepInfo;
import org.semiweak.teacher.select.ClassStats;
import org.semiweak.teacher.select.SelectTopK;
import org.semiweak.teacher.select.TopKOptions;
import org.semiweak.teacher.select.TopKResult;

/**
 * Selects pseudo-labeled images from a teacher's scores and commits them as a new, named selection
 * {@code selection/<teacher>/<name>} (schema {@link SelectionSchema}, version {@link SelectionSchema#VERSION}: each
 * row's class index and name; every file carries the vocabulary in its footer, {@link ParquetKeyValues#CLASS_NAMES}).
 *
 * <p>A selection committed before class names were written keeps its layout (version 1, column
 * {@code class}) and its fingerprint: its options did not change, so it is not selected again, and
 * readers take the layout from its manifest ({@link org.semiweak.stage.SelectionInput}).
 *
 * <p>Reads only the scores, so data engineers can select again with another K, P or filter without
 * scoring again. A committed selection is never overwritten: another configuration gets another
 * name (by default the name is derived from K, P and the filters, e.g. {@code k4000-p10}).
 */
public final class SelectPseudoLabels implements Stage {
  public static final OptionSpec<String> TEACHER = OptionSpec.stringOption("teacher", null,
      "the teacher whose scores to select from (the <teacher> of scores/<teacher>)");
  public static final OptionSpec<String> NAME = OptionSpec.stringOption("name", "",
      "name of this selection (default: derived from k, p and the filters, e.g. k4000-p10)");

  public static final List<OptionSpec<?>> OPTIONS;

  static {
    List<OptionSpec<?>> all = new ArrayList<>(List.of(TEACHER, NAME));
    all.addAll(TopKOptions.SPECS);
    OPTIONS = List.copyOf(all);
  }

  private final RunDir run;
  private final Options options;
  private final TopKOptions select;

  public SelectPseudoLabels(RunDir run, Options options) {
    this.run = run;
    this.options = options;
    this.select = TopKOptions.of(options);
  }

  /** The default name: what distinguishes this selection from others of the same teacher. */
  public String name() {
    String given = options.getOrNull(NAME);
    if (given != null && !given.isBlank()) {
      if (!RunLayout.isValidName(given)) {
        throw new ConfigException("select.name: use lower-case letters, digits, '.', '_', '=' and '-', found '" + given + "'");
      }
      return given;
    }
    StringBuilder sb = new StringBuilder("k" + select.k() + "-p" + select.p());
    if (select.minScore() > 0) {
      sb.append("-min").append(String.format(Locale.ROOT, "%s", select.minScore()));
    }
    if (select.tagConsistent()) {
      sb.append("-tags");
    }
    if (select.maxClassesPerImage() != TopKOptions.MAX_CLASSES_PER_IMAGE_DEFAULT) {
      sb.append("-m").append(select.maxClassesPerImage());
    }
    return sb.toString();
  }

  @Override
  public StageId id() {
    return RunLayout.selection(options.get(TEACHER), name());
  }

  @Override
  public boolean replaceable() {
    return false;
  }

  private StageId scoresStage() {
    return RunLayout.scores(options.get(TEACHER));
  }

  @Override
  public StagePlan plan(Upstream upstream) {
    Upstream.Known scores = upstream.require(scoresStage(), id());
    Publication.Scores published = upstream.require(scoresStage(), Publication.Scores.class, id());
    try {
      SelectTopK.withOptions(select).validate(ScoreSchema.SCHEMA, published.classes());
    } catch (IllegalArgumentException e) {
      throw new ConfigException(e.getMessage());
    }
    if (select.p() > published.pmax()) {
      throw new ConfigException("select.p = " + select.p() + " but " + scoresStage() + " keeps only the top "
          + published.pmax() + " classes per image (score.pmax); use p <= " + published.pmax()
          + " or score again with a larger pmax");
    }
    Map<String, Object> eff = new TreeMap<>(select.effective());
    eff.put(TEACHER.key(), options.get(TEACHER));
    eff.put(NAME.key(), name());
    return StagePlan.builder(id(), eff).input(scores).publishes(new Publication.Selection(select.k(), select.p()))
        .build();
  }

  @Override
  public StageOutput execute(SparkSession spark, StagePlan plan, StageWriter out) {
    PrepInfo prep = PrepInfo.require(run, id());
    Dataset<Row> scores = new ParquetInput(run.dataPath(scoresStage()), ScoreSchema.SCHEMA, "ScoreSchema",
        scoresStage()).read(spark);
    try (TopKResult result = SelectTopK.withOptions(select).execute(scores, prep.vocabulary().classes())) {
      SparkJobs.describe(spark, "write selection " + id());
      ParquetKeyValues.saveWithClassNames(result.selection().write().mode(SaveMode.Overwrite),
          prep.vocabulary().classes(), out.tempDir().toString());
      Dataset<Row> written = spark.read().schema(SelectionSchema.SCHEMA).parquet(out.tempDir().toString());

      // Pseudo-label precision where the true label is known (the simulated demo keeps it).
      Row p = written.join(scores.select(ScoreSchema.IMAGE_ID, ScoreSchema.LABEL), ScoreSchema.IMAGE_ID)
          .agg(count(col(ScoreSchema.LABEL)).as("known"),
              sum(when(col(ScoreSchema.LABEL).equalTo(col(SelectionSchema.CLASS_INDEX)), 1).otherwise(0)).as("correct"),
              count(col(SelectionSchema.CLASS_INDEX)).as("rows"))
          .first();
      long rows = p.getLong(2);
      if (rows != result.selected()) {
        throw new IllegalStateException("selection wrote " + rows + " rows but selected " + result.selected());
      }
      long known = p.getLong(0);
      long correct = p.isNullAt(1) ? 0 : p.getLong(1);
      Map<String, Long> counts = new LinkedHashMap<>();
      counts.put("in", result.images());
      counts.put("considered", result.considered());
      counts.put("candidates", result.candidates());
      counts.put("selected", result.selected());
      counts.put("rejected.nan", result.nanRejected());
      counts.put("rejected.below-min-score", result.belowMinScore());
      counts.put("rejected.not-in-tags", result.notInTags());
      return new StageOutput(counts, new SelectionResult(select.k(), select.p(),
          known == 0 ? null : (double) correct / known, known, classSelections(result.classStats(), prep),
          result.pass1Seconds(), result.pass2Seconds()));
    }
  }

  private static List<SelectionResult.ClassSelection> classSelections(List<ClassStats> stats, PrepInfo prep) {
    List<SelectionResult.ClassSelection> out = new ArrayList<>();
    for (ClassStats s : stats) {
      out.add(new SelectionResult.ClassSelection(s.classIndex(), prep.vocabulary().classes().get(s.classIndex()),
          s.candidates(), s.selected(), s.fewerThanK(), s.scoreThreshold(), s.minSelectedScore(),
          s.maxSelectedScore(), s.meanSelectedScore(), s.selectedScoreHistogram(), s.nanRejected()));
    }
    return out;
  }
}
