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
import org.semiweak.data.ScoreSchema;
import org.semiweak.data.SelectionSchema;
import org.semiweak.run.ManifestBuilder;
import org.semiweak.run.RunDir;
import org.semiweak.run.Stage;
import org.semiweak.run.StageManifest;
import org.semiweak.run.StageWriter;
import org.semiweak.stage.ParquetInput;
import org.semiweak.stage.PrepInfo;
import org.semiweak.teacher.select.ClassStats;
import org.semiweak.teacher.select.SelectTopK;
import org.semiweak.teacher.select.TopKOptions;
import org.semiweak.teacher.select.TopKResult;

/**
 * Selects pseudo-labeled images from a teacher's scores and commits them as a new, named selection
 * {@code selection/<teacher>/<name>} (schema {@link SelectionSchema}).
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
      if (!given.matches("[a-z0-9][a-z0-9._=-]*")) {
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
  public String path() {
    return "selection/" + options.get(TEACHER) + "/" + name();
  }

  @Override
  public String kind() {
    return "select";
  }

  @Override
  public boolean replaceable() {
    return false;
  }

  private String scoresStage() {
    return "scores/" + options.get(TEACHER);
  }

  @Override
  public ManifestBuilder plan() {
    StageManifest scores = run.require(scoresStage(), "select");
    PrepInfo prep = PrepInfo.require(run, "select");
    try {
      SelectTopK.withOptions(select).validate(ScoreSchema.SCHEMA, prep.numClasses());
    } catch (IllegalArgumentException e) {
      throw new ConfigException(e.getMessage());
    }
    Object pmax = scores.metrics().get("pmax");
    if (pmax instanceof Number n && select.p() > n.intValue()) {
      throw new ConfigException("select.p = " + select.p() + " but " + scoresStage() + " kept only the top "
          + n.intValue() + " classes per image (pmax); use p <= " + n.intValue() + " or score again with a larger pmax");
    }
    Map<String, Object> eff = new TreeMap<>(select.effective());
    eff.put(TEACHER.key(), options.get(TEACHER));
    eff.put(NAME.key(), name());
    return new ManifestBuilder(path(), kind(), eff).input(run, scores);
  }

  @Override
  public StageManifest execute(SparkSession spark, ManifestBuilder m) {
    PrepInfo prep = PrepInfo.require(run, "select");
    Dataset<Row> scores = new ParquetInput(run.stagePath(scoresStage()), ScoreSchema.SCHEMA, "ScoreSchema", "score")
        .read(spark);
    try (StageWriter w = run.begin(path());
        TopKResult result = SelectTopK.withOptions(select).execute(scores, prep.numClasses())) {
      spark.sparkContext().setJobDescription("write selection " + path());
      result.selection().write().mode(SaveMode.Overwrite).parquet(w.tempDir().toString());
      Dataset<Row> written = spark.read().schema(SelectionSchema.SCHEMA).parquet(w.tempDir().toString());

      // Pseudo-label precision where the true label is known (the simulated demo keeps it).
      Row p = written.join(scores.select(ScoreSchema.IMAGE_ID, ScoreSchema.LABEL), ScoreSchema.IMAGE_ID)
          .agg(count(col(ScoreSchema.LABEL)).as("known"),
              sum(when(col(ScoreSchema.LABEL).equalTo(col(SelectionSchema.CLASS)), 1).otherwise(0)).as("correct"),
              count(col(SelectionSchema.CLASS)).as("rows"))
          .first();
      long rows = p.getLong(2);
      if (rows != result.selected()) {
        throw new IllegalStateException("selection wrote " + rows + " rows but selected " + result.selected());
      }
      long known = p.getLong(0);
      long correct = p.isNullAt(1) ? 0 : p.getLong(1);
      m.count("in", result.images());
      m.count("considered", result.considered());
      m.count("candidates", result.candidates());
      m.count("selected", result.selected());
      m.count("rejected.nan", result.nanRejected());
      m.count("rejected.below-min-score", result.belowMinScore());
      m.count("rejected.not-in-tags", result.notInTags());
      m.metric("totals", result.totals());
      m.metric("precision", known == 0 ? null : (double) correct / known);
      m.metric("labels-known", known);
      m.metric("classes", classStats(result.classStats(), prep));
      m.metric("seconds-pass1", result.pass1Seconds());
      m.metric("seconds-pass2", result.pass2Seconds());
      StageManifest manifest = m.build();
      w.commit(manifest);
      return manifest;
    }
  }

  private static List<Map<String, Object>> classStats(List<ClassStats> stats, PrepInfo prep) {
    List<Map<String, Object>> out = new ArrayList<>();
    for (ClassStats s : stats) {
      Map<String, Object> row = new LinkedHashMap<>();
      row.put("class", s.classIndex());
      row.put("name", prep.vocabulary().classes().get(s.classIndex()));
      row.put("candidates", s.candidates());
      row.put("selected", s.selected());
      row.put("fewer-than-k", s.fewerThanK());
      row.put("score-threshold", s.scoreThreshold());
      row.put("min-score", s.minSelectedScore());
      row.put("max-score", s.maxSelectedScore());
      row.put("mean-score", s.meanSelectedScore());
      row.put("score-histogram", s.selectedScoreHistogram());
      row.put("nan-rejected", s.nanRejected());
      out.add(row);
    }
    return out;
  }
}
