package org.semiweak.report;

import static org.apache.spark.sql.functions.broadcast;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.element_at;
import static org.apache.spark.sql.functions.floor;
import static org.apache.spark.sql.functions.isnan;
import static org.apache.spark.sql.functions.least;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.not;
import static org.apache.spark.sql.functions.size;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.when;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.sql.SparkSession;
import org.semiweak.config.OptionSpec;
import org.semiweak.config.Options;
import org.semiweak.data.ImageSchema;
import org.semiweak.data.MetricsSchema;
import org.semiweak.data.ScoreSchema;
import org.semiweak.data.SelectionSchema;
import org.semiweak.report.chart.BarChart;
import org.semiweak.report.chart.Heatmap;
import org.semiweak.report.chart.Histogram;
import org.semiweak.report.chart.LineChart;
import org.semiweak.run.RunDir;
import org.semiweak.run.RunLayout;
import org.semiweak.run.SparkJobs;
import org.semiweak.run.Split;
import org.semiweak.run.Stage;
import org.semiweak.run.StageId;
import org.semiweak.run.StageKind;
import org.semiweak.run.StageManifest;
import org.semiweak.run.StageOutput;
import org.semiweak.run.StagePlan;
import org.semiweak.run.StageStatus;
import org.semiweak.run.StageWriter;
import org.semiweak.run.Upstream;
import org.semiweak.run.Versions;
import org.semiweak.run.result.EvaluationResult;
import org.semiweak.run.result.ModelResult;
import org.semiweak.run.result.PrepResult;
import org.semiweak.run.result.Publication;
import org.semiweak.run.result.ReportResult;
import org.semiweak.run.result.ScoreResult;
import org.semiweak.run.result.SelectionResult;
import org.semiweak.run.result.TrainingPhase;
import org.semiweak.stage.ParquetInput;
import org.semiweak.stage.PrepInfo;
import org.semiweak.stage.SelectionInput;
import org.semiweak.util.Fingerprint;
import org.semiweak.util.Json;

/**
 * The run's report: {@code report/index.html}, one self-contained page (inline CSS and SVG, no
 * script, nothing fetched) about every other stage committed in the run, committed like any stage.
 * It reads the stages' manifests through their typed results, and aggregates with Spark what only
 * the data holds (the top-1 probability histograms of the scores, the precision of each class of a
 * selection where labels are known, the validation accuracy per class); it never collects rows.
 * A section the run has nothing for yet (no scores, no evaluation) is one line saying so.
 *
 * <pre>{@code
 * Stage report = StageCatalog.REPORT.create(run, Map.of());
 * StageExecution.planAndRun(run, spark, report);   // index.html in run.dataPath(RunLayout.report())
 * }</pre>
 */
public final class RunReport implements Stage {
  /** Bins of the top-1 probability histograms, over [0, 1]. */
  static final int BINS = 20;
  /**
   * Above this many classes the charts drawn per class (score histograms, thumbnails) and the
   * confusion heatmaps (classes squared cells) are left out with a note: the page would be tens of
   * megabytes; the Parquet tables hold those numbers.
   */
  static final int MAX_CLASSES_CHARTED = 100;

  public static final OptionSpec<Integer> THUMBNAILS = OptionSpec.intOption("thumbnails", 8, 0, 100,
      "images shown per class and selection, from the top and from around rank K (0: no thumbnails)");

  public static final List<OptionSpec<?>> OPTIONS = List.of(THUMBNAILS);

  private final RunDir run;
  private final Options options;

  public RunReport(RunDir run, Options options) {
    this.run = run;
    this.options = options;
  }

  @Override
  public StageId id() {
    return RunLayout.report();
  }

  /** Reads every other stage of the run, committed or planned before it; refuses a run that has none. */
  @Override
  public StagePlan plan(Upstream upstream) {
    StagePlan.Builder plan = StagePlan.builder(id(), options.effective());
    List<Upstream.Known> stages = upstream.stages(StageKind.REPORT);
    if (stages.isEmpty()) {
      throw new org.semiweak.config.ConfigException("report: no stage is committed in " + run.root()
          + ", so there is nothing to report (semiweak status " + run.root() + " lists what a run directory holds)");
    }
    stages.forEach(plan::input);
    return plan.publishes(new Publication.Report()).build();
  }

  @Override
  public StageOutput execute(SparkSession spark, StagePlan plan, StageWriter out) {
    Map<StageKind, List<StageManifest>> byKind = new TreeMap<>();
    List<String> stages = new ArrayList<>();
    for (StageManifest.Input in : plan.inputs()) {
      StageId stage = StageWriter.stageOf(in).orElseThrow();
      StageManifest m = run.require(stage, id().path());
      byKind.computeIfAbsent(stage.kind(), k -> new ArrayList<>()).add(m);
      stages.add(stage.path());
    }
    // A stale stage still shows what it committed, but the page must say that an input has changed since.
    Map<String, StageStatus.State> states = new LinkedHashMap<>();
    run.statuses(false).forEach(st -> states.put(st.stage(), st.state()));
    List<String> stale = stages.stream().filter(st -> states.get(st) == StageStatus.State.STALE).toList();
    List<String> classes = byKind.containsKey(StageKind.PREP)
        ? byKind.get(StageKind.PREP).get(0).result(PrepResult.class).classes() : List.of();

    Page page = new Page();
    evaluation(spark, page, byKind.get(StageKind.EVALUATE));
    training(page, byKind);
    scores(spark, page, byKind.get(StageKind.SCORE), classes);
    selections(spark, page, byKind.get(StageKind.SELECT));
    selectionComparison(spark, page, byKind.get(StageKind.SELECT), byKind.get(StageKind.EVALUATE));
    prep(spark, page, byKind.get(StageKind.PREP));
    facts(page, byKind, states);
    boolean one = stale.size() == 1;
    String staleNote = stale.isEmpty() ? "" : " " + stale.size() + " of them " + (one ? "is" : "are")
        + " stale: an input stage ran again after " + (one ? "it was" : "they were") + " built, so "
        + (one ? "its" : "their") + " charts show what the old inputs gave ('semiweak run' rebuilds "
        + (one ? "it" : "them") + "): " + String.join(", ", stale) + ".";
    String html = page.html("semiweak run " + run.root(), "Report of the " + stages.size() + " committed stages of "
        + run.root() + ", written by semiweak " + Versions.semiweak() + ". Everything on this page comes from what"
        + " the stages committed (their manifests and Parquet outputs)." + staleNote);

    byte[] bytes = html.getBytes(StandardCharsets.UTF_8);
    Path file = out.temp(RunLayout.REPORT_PAGE);
    try (OutputStream os = run.fs().create(file, false)) {
      os.write(bytes);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
    }
    Map<String, Long> counts = new LinkedHashMap<>();
    counts.put("stages", (long) stages.size());
    counts.put("sections", (long) page.sections().size());
    counts.put("charts", (long) page.charts());
    String relative = RunLayout.path(id()) + "/" + RunLayout.REPORT_PAGE;
    return new StageOutput(counts, new ReportResult(relative, bytes.length, page.sections(), page.omitted(),
        page.charts(), stages));
  }

  // ---- evaluation ----

  private void evaluation(SparkSession spark, Page page, List<StageManifest> manifests) {
    String title = "Evaluation";
    if (manifests == null) {
      page.omitted("evaluation", title, "No evaluation committed yet: run the evaluate stage (semiweak evaluate"
          + " --run-dir " + run.root() + ").");
      return;
    }
    StageManifest m = manifests.get(0);
    EvaluationResult r = m.result(EvaluationResult.class);
    page.section("evaluation", title);
    boolean validation = r.hasValidation();
    long testImages = m.counts().getOrDefault("test-images", 0L);
    page.p("Top-1 and top-5 accuracy of every evaluated model on the " + String.format(Locale.ROOT, "%,d", testImages)
        + " images of the test split" + (validation ? ", and top-1 on the validation split (val %)." : "."));
    List<String> header = new ArrayList<>(List.of("model", "role", "top-1 %", "top-5 %"));
    if (validation) {
      header.add("val %");
    }
    List<List<String>> rows = new ArrayList<>();
    for (EvaluationResult.ModelEvaluation e : r.models()) {
      List<String> row = new ArrayList<>(List.of(e.model(), e.role(), pct(e.top1()), pct(e.top5())));
      if (validation) {
        row.add(e.validation() == null ? "n/a" : pct(e.validation().top1()));
      }
      rows.add(row);
    }
    page.table(header, rows);
    if (validation) {
      page.note("val %: top-1 on prep's validation split (labeled images no stage trains on): choose options on it,"
          + " report the test set.");
    }
    List<String> models = r.models().stream().map(EvaluationResult.ModelEvaluation::model).toList();
    BarChart top1 = new BarChart("top-1 accuracy per model", models).valueAxis("top-1 %", "%").max(100)
        .series("test", r.models().stream().mapToDouble(e -> 100 * e.top1()).toArray());
    if (validation) {
      top1.series("validation", r.models().stream()
          .mapToDouble(e -> e.validation() == null ? Double.NaN : 100 * e.validation().top1()).toArray());
    }
    page.chart(top1.toSvg());

    Map<String, double[]> validationPerClass = validationPerClass(spark, r.classes().size());
    for (EvaluationResult.ModelEvaluation e : r.models()) {
      page.h3(e.model() + " (" + e.role() + ")");
      BarChart bars = new BarChart("accuracy per class: " + e.model(), r.classes()).valueAxis("top-1 %", "%").max(100)
          .series("test", e.perClassAccuracy().stream().mapToDouble(a -> a == null ? Double.NaN : 100 * a).toArray());
      if (validationPerClass.containsKey(e.model())) {
        bars.series("validation", validationPerClass.get(e.model()));
      }
      page.chart(bars.toSvg());
      if (r.classes().size() > MAX_CLASSES_CHARTED) {
        page.note("No confusion heatmap for " + r.classes().size() + " classes (more than " + MAX_CLASSES_CHARTED
            + "): evaluate/confusion holds the matrix as a Parquet table.");
        continue;
      }
      long[][] confusion = e.confusion().stream().map(row -> row.stream().mapToLong(Long::longValue).toArray())
          .toArray(long[][]::new);
      page.chart(new Heatmap("confusion on the test split: " + e.model(), r.classes(), r.classes(), confusion)
          .axes("true class", "predicted class").toSvg());
    }
  }

  /**
   * Per model, the validation accuracy of each class, from {@code evaluate/per_class} (a few rows per
   * model and class); empty for evaluations written before that table or without a validation split.
   */
  private Map<String, double[]> validationPerClass(SparkSession spark, int numClasses) {
    Map<String, double[]> out = new TreeMap<>();
    Path dir = new Path(run.dataPath(RunLayout.evaluate()), MetricsSchema.PER_CLASS_DIR);
    try {
      if (!run.fs().exists(dir)) {
        return out;
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + dir + ": " + e.getMessage(), e);
    }
    SparkJobs.describe(spark, "report: validation accuracy per class from " + dir);
    List<Row> rows = new ParquetInput(dir, MetricsSchema.PER_CLASS, "MetricsSchema.PER_CLASS", RunLayout.evaluate())
        .read(spark).where(col(MetricsSchema.SPLIT).equalTo(Split.VALIDATION.dirName()))
        .select(MetricsSchema.MODEL, MetricsSchema.CLASS_INDEX, MetricsSchema.ACCURACY).collectAsList();
    for (Row row : rows) {
      double[] v = out.computeIfAbsent(row.getString(0), k -> {
        double[] a = new double[numClasses];
        java.util.Arrays.fill(a, Double.NaN);
        return a;
      });
      int c = row.getInt(1);
      if (c >= 0 && c < numClasses && !row.isNullAt(2)) {
        v[c] = 100 * row.getDouble(2);
      }
    }
    return out;
  }

  // ---- training ----

  private void training(Page page, Map<StageKind, List<StageManifest>> byKind) {
    List<StageManifest> models = new ArrayList<>();
    byKind.forEach((kind, ms) -> {
      if (kind.producesModel()) {
        models.addAll(ms);
      }
    });
    String title = "Training";
    if (models.isEmpty()) {
      page.omitted("training", title, "No model committed yet (teacher, student or baseline).");
      return;
    }
    page.section("training", title);
    page.p("The mean training loss and the training-batch top-1 accuracy of every round, per training phase of each"
        + " model (learning curves from the manifests). The training-batch accuracy is counted on the batches as they"
        + " were trained: augmented images, the model in train mode, each batch before its update; it shows how"
        + " training went, not how well the model generalizes (with soft targets a prediction counts as right at a"
        + " class of largest target weight). Test accuracy is measured once, on the test split, at the end of each"
        + " stage.");
    List<List<String>> rows = new ArrayList<>();
    for (StageManifest m : models) {
      ModelResult r = m.result(ModelResult.class);
      for (TrainingPhase p : r.training()) {
        rows.add(List.of(m.stage(), p.name(), num(p.examples()), String.valueOf(p.epochs()),
            String.valueOf(p.workers()), String.valueOf(p.roundsRun() + p.roundsResumed()),
            String.format(Locale.ROOT, "%.4f", p.finalLoss()), finalTrainAccuracy(p), secs(p.seconds())));
      }
      if (r.training().isEmpty()) {
        rows.add(List.of(m.stage(), "(imported: " + r.model().type() + ")", "", "", "", "", "", "", ""));
      }
    }
    page.table(List.of("stage", "phase", "examples", "epochs", "workers", "rounds", "final loss",
        "final train acc %", "seconds"), rows);
    linearEvaluations(page, models);
    for (StageManifest m : models) {
      ModelResult r = m.result(ModelResult.class);
      List<TrainingPhase> curves = r.training().stream()
          .filter(p -> p.learningCurve() != null && !p.learningCurve().isEmpty()).toList();
      if (curves.isEmpty()) {
        continue;
      }
      LineChart chart = new LineChart("training loss: " + m.stage() + " (test top-1 " + pct(r.testTop1()) + " %)",
          "round", "mean loss");
      for (TrainingPhase p : curves) {
        chart.series(p.name(), p.learningCurve().stream().mapToDouble(TrainingPhase.CurvePoint::round).toArray(),
            p.learningCurve().stream().mapToDouble(TrainingPhase.CurvePoint::loss).toArray());
      }
      page.chart(chart.toSvg());
      trainingAccuracyChart(page, m.stage(), curves);
    }
  }

  /**
   * The linear evaluation of each self-supervised encoder (a linear classifier on the frozen
   * pretrained encoder) beside the model's test top-1 after fine-tuning: what pretraining alone
   * learned, and what fine-tuning added. Nothing when no model has one.
   */
  private static void linearEvaluations(Page page, List<StageManifest> models) {
    List<List<String>> rows = new ArrayList<>();
    for (StageManifest m : models) {
      ModelResult r = m.result(ModelResult.class);
      ModelResult.LinearEvaluation e = r.linearEvaluation();
      if (e != null) {
        rows.add(List.of(m.stage(), num(e.labeledImages()), pct(e.testTop1()), pct(r.testTop1()), num(e.testImages())));
      }
    }
    if (rows.isEmpty()) {
      return;
    }
    page.p("Linear evaluation of each self-supervised encoder, the measure self-supervised methods report: the"
        + " encoder as pretrained, frozen, with only a linear classifier trained on the labeled images; beside it the"
        + " same model's test top-1 after its fine-tuning phases.");
    page.table(List.of("stage", "labeled images", "linear evaluation top-1 %", "fine-tuned top-1 %", "test images"),
        rows);
  }

  /**
   * The training-batch accuracy per round of a model's phases, in percent; phases from manifests
   * written before it was recorded are left out with a note (rounds restored from such a run's
   * checkpoints are gaps).
   */
  private static void trainingAccuracyChart(Page page, String stage, List<TrainingPhase> curves) {
    List<TrainingPhase> measured = curves.stream().filter(RunReport::hasTrainAccuracy).toList();
    List<String> unmeasured = curves.stream().filter(p -> !hasTrainAccuracy(p)).map(TrainingPhase::name).toList();
    if (!unmeasured.isEmpty()) {
      page.note("No training-batch accuracy for " + stage + " (" + String.join(", ", unmeasured) + "): recorded"
          + " before semiweak measured it.");
    }
    if (measured.isEmpty()) {
      return;
    }
    LineChart chart = new LineChart("training-batch accuracy: " + stage + " (top-1, augmented, train mode)", "round",
        "train acc %");
    for (TrainingPhase p : measured) {
      chart.series(p.name(), p.learningCurve().stream().mapToDouble(TrainingPhase.CurvePoint::round).toArray(),
          p.learningCurve().stream()
              .mapToDouble(c -> c.trainAccuracy() == null ? Double.NaN : 100 * c.trainAccuracy()).toArray());
    }
    page.chart(chart.toSvg());
  }

  private static boolean hasTrainAccuracy(TrainingPhase p) {
    return p.learningCurve().stream().anyMatch(c -> c.trainAccuracy() != null);
  }

  /** The last round's training-batch accuracy in percent, n/a when its manifest has none. */
  private static String finalTrainAccuracy(TrainingPhase p) {
    List<TrainingPhase.CurvePoint> curve = p.learningCurve();
    Double last = curve == null || curve.isEmpty() ? null : curve.get(curve.size() - 1).trainAccuracy();
    return last == null ? "n/a" : pct(last);
  }

  // ---- scores ----

  private void scores(SparkSession spark, Page page, List<StageManifest> manifests, List<String> classes) {
    String title = "Scores";
    if (manifests == null) {
      page.omitted("scores", title, "No scores committed yet: a teacher scores the unlabeled images in the score stage.");
      return;
    }
    page.section("scores", title);
    page.p("How confident each teacher is: the histogram of every scored image's top-1 probability, overall and per"
        + " predicted (top-1) class, in " + BINS + " bins over [0, 1] (aggregated with Spark over every image).");
    for (StageManifest m : manifests) {
      ScoreResult r = m.result(ScoreResult.class);
      StageId id = m.id();
      page.h3(m.stage());
      page.note(String.format(Locale.ROOT, "%s images of %s scored by %s (%s); top-%d kept%s; %.0f images/s on %d"
          + " executor(s).", num(m.counts().getOrDefault("scored", 0L)), r.split(), id.teacher(),
          Fingerprint.shortForm(r.model().fingerprint()), r.pmax(), r.hasLogits() ? ", with logits" : "",
          r.imagesPerSecond(), r.executors() == null ? 0 : r.executors().size()));
      SparkJobs.describe(spark, "report: top-1 probability histogram of " + id);
      Dataset<Row> s = new ParquetInput(run.dataPath(id), ScoreSchema.SCHEMA, "ScoreSchema", id).read(spark)
          .where(size(col(ScoreSchema.PROBS)).gt(0));
      org.apache.spark.sql.Column top = element_at(col(ScoreSchema.PROBS), 1);
      List<Row> bins = s.where(not(isnan(top)))
          .groupBy(element_at(col(ScoreSchema.CLASSES), 1).as("top_class"),
              least(floor(top.multiply(BINS)).cast("int"), lit(BINS - 1)).as("bin"))
          .agg(count(lit(1)).as("n")).collectAsList();
      int n = Math.max(r.classes(), classes.size());
      long[] overall = new long[BINS];
      long[][] perClass = new long[n][BINS];
      for (Row row : bins) {
        int c = row.getInt(0);
        int b = Math.max(0, row.getInt(1));
        long k = row.getLong(2);
        overall[b] += k;
        if (c >= 0 && c < n) {
          perClass[c][b] += k;
        }
      }
      page.chart(new Histogram("top-1 probability: " + m.stage(), 0, 1, overall).xTitle("top-1 probability").toSvg());
      if (n > MAX_CLASSES_CHARTED) {
        page.note("No histogram per class for " + n + " classes (more than " + MAX_CLASSES_CHARTED + ").");
        continue;
      }
      page.note("Per predicted (top-1) class:");
      page.raw("<div class=\"multiples\">");
      for (int c = 0; c < n; c++) {
        page.chart(new Histogram(className(classes, c), 0, 1, perClass[c]).size(280, 150).toSvg());
      }
      page.raw("</div>\n");
    }
  }

  // ---- selections ----

  private void selections(SparkSession spark, Page page, List<StageManifest> manifests) {
    String title = "Selection";
    if (manifests == null) {
      page.omitted("selection", title, "No selection committed yet: the select stage picks the top-K images per class.");
      return;
    }
    page.section("selection", title);
    page.p("Per class, the images selected against K, the score of the image at rank K (the class's cut), and the"
        + " precision of the pseudo-labels where the true labels of the unlabeled images are known.");
    for (StageManifest m : manifests) {
      SelectionResult r = m.result(SelectionResult.class);
      StageId id = m.id();
      page.h3(m.stage());
      page.note(String.format(Locale.ROOT, "K = %,d, P = %d; %s (image, class) pairs selected; precision %s.", r.k(),
          r.p(), num(m.counts().getOrDefault("selected", 0L)),
          r.precision() == null ? "n/a (no true labels known)" : pct(r.precision()) + " %"));
      List<String> names = r.classes().stream().map(SelectionResult.ClassSelection::name).toList();
      page.chart(new BarChart("selected per class: " + m.stage(), names).valueAxis("images", "")
          .series("selected", r.classes().stream().mapToDouble(SelectionResult.ClassSelection::selected).toArray())
          .reference(r.k(), "K = " + String.format(Locale.ROOT, "%,d", r.k())).toSvg());
      double[] atK = r.classes().stream()
          .mapToDouble(c -> c.selected() >= r.k() ? c.minScore() : Double.NaN).toArray();
      page.chart(new BarChart("score at rank K: " + m.stage(), names).valueAxis("probability", "").max(1)
          .series("score at rank K", atK).toSvg());
      Map<Integer, double[]> precision = r.labelsKnown() > 0 ? precisionPerClass(spark, id) : Map.of();
      if (!precision.isEmpty()) {
        page.chart(new BarChart("precision per class: " + m.stage(), names).valueAxis("precision %", "%").max(100)
            .series("precision", r.classes().stream().mapToDouble(c -> {
              double[] kc = precision.get(c.classIndex());
              return kc == null || kc[0] == 0 ? Double.NaN : 100 * kc[1] / kc[0];
            }).toArray()).toSvg());
      }
      List<List<String>> rows = new ArrayList<>();
      for (SelectionResult.ClassSelection c : r.classes()) {
        double[] kc = precision.get(c.classIndex());
        rows.add(List.of(c.name(), num(c.candidates()), num(c.selected()),
            c.selected() >= r.k() ? String.format(Locale.ROOT, "%.4f", c.minScore()) : "n/a",
            String.format(Locale.ROOT, "%.4f", c.meanScore()),
            kc == null || kc[0] == 0 ? "n/a" : pct(kc[1] / kc[0])));
      }
      page.table(List.of("class", "candidates", "selected", "score at rank K", "mean score", "precision %"), rows);
      if (r.classes().stream().anyMatch(SelectionResult.ClassSelection::fewerThanK)) {
        page.note("n/a at rank K: the class had fewer than K candidates.");
      }
      thumbnails(spark, page, id, r, names);
    }
  }

  /**
   * Across the run's selections: how much each pair of selections overlaps ((image, class) pairs in
   * both, counted by Spark), and the accuracy of the students trained on each against its K and P.
   */
  private void selectionComparison(SparkSession spark, Page page, List<StageManifest> selections,
      List<StageManifest> evaluations) {
    if (selections == null || selections.size() < 2) {
      return;
    }
    page.h3("Across selections");
    List<List<String>> overlap = new ArrayList<>();
    for (int i = 0; i < selections.size(); i++) {
      for (int j = i + 1; j < selections.size(); j++) {
        StageId a = selections.get(i).id();
        StageId b = selections.get(j).id();
        SparkJobs.describe(spark, "report: overlap of " + a + " and " + b);
        long common = pairs(spark, a).intersect(pairs(spark, b)).count();
        long na = selections.get(i).counts().getOrDefault("selected", 0L);
        long nb = selections.get(j).counts().getOrDefault("selected", 0L);
        overlap.add(List.of(a.path(), b.path(), num(common), na == 0 ? "n/a" : pct((double) common / na),
            nb == 0 ? "n/a" : pct((double) common / nb)));
      }
    }
    page.table(List.of("selection A", "selection B", "(image, class) pairs in both", "% of A", "% of B"), overlap);
    if (evaluations == null) {
      return;
    }
    Map<String, SelectionResult> byPath = new TreeMap<>();
    selections.forEach(m -> byPath.put(m.stage(), m.result(SelectionResult.class)));
    List<List<String>> rows = new ArrayList<>();
    Map<String, List<double[]>> perTeacher = new TreeMap<>();
    for (EvaluationResult.ModelEvaluation e : evaluations.get(0).result(EvaluationResult.class).models()) {
      StageId model = RunLayout.parse(e.model());
      if (model.kind() != StageKind.PRETRAIN && model.kind() != StageKind.FINETUNE) {
        continue;
      }
      if (model.selection().startsWith(RunLayout.DISTILL_PREFIX)) {
        continue;
      }
      SelectionResult sel = byPath.get(RunLayout.selection(model.teacher(), model.selection()).path());
      if (sel == null) {
        continue;
      }
      rows.add(List.of(e.model(), String.valueOf(sel.k()), String.valueOf(sel.p()), pct(e.top1()),
          e.validation() == null ? "n/a" : pct(e.validation().top1())));
      if (model.kind() == StageKind.FINETUNE) {
        perTeacher.computeIfAbsent(model.teacher() + " (P = " + sel.p() + ")", k -> new ArrayList<>())
            .add(new double[] {sel.k(), 100 * e.top1()});
      }
    }
    if (rows.isEmpty()) {
      return;
    }
    page.table(List.of("student", "K", "P", "top-1 %", "val %"), rows);
    if (perTeacher.values().stream().anyMatch(points -> points.size() > 1)) {
      LineChart chart = new LineChart("fine-tuned student top-1 against K", "K", "top-1 %");
      perTeacher.forEach((teacher, points) -> {
        points.sort(java.util.Comparator.comparingDouble(p -> p[0]));
        chart.series(teacher, points.stream().mapToDouble(p -> p[0]).toArray(),
            points.stream().mapToDouble(p -> p[1]).toArray());
      });
      page.chart(chart.toSvg());
    }
  }

  private Dataset<Row> pairs(SparkSession spark, StageId selection) {
    return SelectionInput.require(run, selection, id()).read(spark)
        .select(SelectionSchema.IMAGE_ID, SelectionSchema.CLASS_INDEX);
  }

  /** Per class: pairs whose image has a known label, and those whose label is the class. */
  private Map<Integer, double[]> precisionPerClass(SparkSession spark, StageId selection) {
    StageId scores = RunLayout.scores(selection.teacher());
    SparkJobs.describe(spark, "report: precision per class of " + selection);
    Dataset<Row> sel = SelectionInput.require(run, selection, id()).read(spark);
    Dataset<Row> labels = new ParquetInput(run.dataPath(scores), ScoreSchema.SCHEMA, "ScoreSchema", scores)
        .read(spark).select(ScoreSchema.IMAGE_ID, ScoreSchema.LABEL).where(col(ScoreSchema.LABEL).isNotNull());
    List<Row> rows = sel.join(labels, SelectionSchema.IMAGE_ID).groupBy(col(SelectionSchema.CLASS_INDEX))
        .agg(count(lit(1)).as("known"),
            sum(when(col(ScoreSchema.LABEL).equalTo(col(SelectionSchema.CLASS_INDEX)), 1L).otherwise(0L)).as("correct"))
        .collectAsList();
    Map<Integer, double[]> out = new TreeMap<>();
    for (Row row : rows) {
      out.put(row.getInt(0), new double[] {row.getLong(1), row.getLong(2)});
    }
    return out;
  }

  /**
   * A grid of images per class: the first ranks and those just above rank K (the borderline ones),
   * from the PNG bytes prep stored, as data URIs.
   */
  private void thumbnails(SparkSession spark, Page page, StageId selection, SelectionResult r, List<String> names) {
    int n = options.get(THUMBNAILS);
    if (n == 0) {
      return;
    }
    if (r.classes().size() > MAX_CLASSES_CHARTED) {
      page.note("No thumbnails for " + r.classes().size() + " classes (more than " + MAX_CLASSES_CHARTED + ").");
      return;
    }
    SparkJobs.describe(spark, "report: thumbnails of " + selection);
    // Ranks 1..n, and the n ranks up to each class's last (rank K when the class filled K).
    List<Row> last = r.classes().stream().map(c -> RowFactory.create(c.classIndex(), (int) c.selected())).toList();
    Dataset<Row> lastRanks = spark.createDataFrame(last, new StructType()
        .add(SelectionSchema.CLASS_INDEX, DataTypes.IntegerType).add("last_rank", DataTypes.IntegerType));
    Dataset<Row> sel = SelectionInput.require(run, selection, id()).read(spark);
    Dataset<Row> picked = sel.join(broadcast(lastRanks), SelectionSchema.CLASS_INDEX).where(col(SelectionSchema.RANK).leq(n)
        .or(col(SelectionSchema.RANK).gt(col("last_rank").minus(n))));
    Dataset<Row> images = PrepInfo.require(run, id()).read(spark, Split.UNLABELED)
        .select(ImageSchema.IMAGE_ID, ImageSchema.IMAGE);
    List<Row> rows = picked.join(images, SelectionSchema.IMAGE_ID)
        .select(col(SelectionSchema.CLASS_INDEX), col(SelectionSchema.RANK), col(SelectionSchema.SCORE),
            col(SelectionSchema.IMAGE_ID), col(ImageSchema.IMAGE))
        .orderBy(col(SelectionSchema.CLASS_INDEX), col(SelectionSchema.RANK)).collectAsList();
    Map<Integer, List<Row>> byClass = new TreeMap<>();
    rows.forEach(row -> byClass.computeIfAbsent(row.getInt(0), k -> new ArrayList<>()).add(row));
    StringBuilder sb = new StringBuilder("<table class=\"thumbs\"><thead><tr><th>class</th><th>top (rank 1-")
        .append(n).append(")</th><th>borderline (the last ").append(n).append(" ranks, up to K)</th></tr></thead><tbody>\n");
    for (SelectionResult.ClassSelection c : r.classes()) {
      List<Row> cls = byClass.getOrDefault(c.classIndex(), List.of());
      sb.append("<tr><td>").append(Page.esc(c.name())).append("</td><td>");
      cls.stream().filter(row -> row.getInt(1) <= n).forEach(row -> img(sb, row));
      sb.append("</td><td>");
      cls.stream().filter(row -> row.getInt(1) > Math.max(n, c.selected() - n)).forEach(row -> img(sb, row));
      sb.append("</td></tr>\n");
    }
    page.raw(sb.append("</tbody></table>\n").toString());
  }

  private static void img(StringBuilder sb, Row row) {
    byte[] png = row.getAs(4);
    String label = row.getString(3) + ", rank " + row.getInt(1) + ", score "
        + String.format(Locale.ROOT, "%.4f", row.getFloat(2));
    sb.append("<img src=\"data:image/png;base64,").append(java.util.Base64.getEncoder().encodeToString(png))
        .append("\" alt=\"").append(Page.esc(label)).append("\" title=\"").append(Page.esc(label)).append("\">");
  }

  // ---- prep ----

  private void prep(SparkSession spark, Page page, List<StageManifest> manifests) {
    String title = "Prepared images";
    if (manifests == null) {
      page.omitted("prep", title, "No prep committed yet.");
      return;
    }
    StageManifest m = manifests.get(0);
    PrepResult r = m.result(PrepResult.class);
    page.section("prep", title);
    page.p(String.format(Locale.ROOT, "%s records read, %s images written (%dx%d, %d channel(s)), %s quarantined, %s"
        + " exact duplicates dropped; %.0f records/s.", num(m.counts().getOrDefault("in", 0L)),
        num(m.counts().getOrDefault("written", 0L)), r.imageSize(), r.imageSize(), r.channels(),
        num(m.counts().getOrDefault("quarantined", 0L)), num(m.counts().getOrDefault("duplicates", 0L)),
        r.imagesPerSecond()));
    if (r.unlabeledTagCoverage() != null) {
      page.note("Weak tags: " + pct(r.unlabeledTagCoverage()) + " % of the unlabeled images have a tag of the"
          + " vocabulary" + (r.simulatedTagAccuracy() == null ? "."
              : "; the simulated tags name the true class of " + pct(r.simulatedTagAccuracy()) + " % of them."));
    }
    List<String> splits = new ArrayList<>(r.perClass().keySet());
    TreeSet<String> names = new TreeSet<>();
    r.perClass().values().forEach(perClass -> names.addAll(perClass.keySet()));
    List<String> ordered = new ArrayList<>(r.classes().stream().filter(names::contains).toList());
    names.stream().filter(c -> !ordered.contains(c)).forEach(ordered::add);
    List<String> header = new ArrayList<>(List.of("class"));
    header.addAll(splits);
    List<List<String>> rows = new ArrayList<>();
    for (String c : ordered) {
      List<String> row = new ArrayList<>(List.of(c));
      splits.forEach(s -> row.add(num(r.perClass().get(s).getOrDefault(c, 0L))));
      rows.add(row);
    }
    page.table(header, rows);
    BarChart perSplit = new BarChart("images per class and split", ordered).valueAxis("images", "");
    for (String s : splits) {
      perSplit.series(s, ordered.stream().mapToDouble(c -> r.perClass().get(s).getOrDefault(c, 0L)).toArray());
    }
    page.chart(perSplit.toSvg());

    Map<String, Long> reasons = new TreeMap<>();
    m.counts().forEach((k, v) -> {
      if (k.startsWith("quarantined.") && v > 0) {
        reasons.put(k.substring("quarantined.".length()), v);
      }
    });
    if (reasons.isEmpty()) {
      page.note("Nothing was quarantined.");
      return;
    }
    page.h3("Quarantine");
    page.table(List.of("reason", "records"), reasons.entrySet().stream()
        .map(e -> List.of(e.getKey(), num(e.getValue()))).toList());
    SparkJobs.describe(spark, "report: quarantine examples");
    List<Row> examples = new ParquetInput(new Path(run.dataPath(RunLayout.prep()), RunLayout.QUARANTINE), ImageSchema.QUARANTINE_SCHEMA,
        "ImageSchema.QUARANTINE_SCHEMA", RunLayout.prep()).read(spark)
        .select(ImageSchema.REASON, ImageSchema.SOURCE_FILE, ImageSchema.SOURCE_ENTRY, ImageSchema.DETAIL)
        .orderBy(ImageSchema.REASON, ImageSchema.SOURCE_FILE, ImageSchema.SOURCE_ENTRY).limit(10).collectAsList();
    page.table(List.of("reason", "file", "entry", "detail"), examples.stream().map(row -> List.of(row.getString(0),
        row.getString(1), row.getString(2), row.isNullAt(3) ? "" : row.getString(3))).toList());
    page.note("The first " + examples.size() + " quarantined records (prep/quarantine holds them all).");
  }

  // ---- run facts ----

  private void facts(Page page, Map<StageKind, List<StageManifest>> byKind, Map<String, StageStatus.State> states) {
    String title = "Run facts";
    List<StageManifest> all = new ArrayList<>();
    byKind.values().forEach(all::addAll);
    if (all.isEmpty()) {
      page.omitted("facts", title, "No stage committed in " + run.root() + " yet.");
      return;
    }
    page.section("facts", title);
    double total = all.stream().mapToDouble(StageManifest::seconds).sum();
    TreeSet<String> executors = new TreeSet<>();
    TreeSet<String> versions = new TreeSet<>();
    for (StageManifest m : all) {
      versions.add(m.semiweakVersion());
      if (m.stageKind().producesModel()) {
        m.result(ModelResult.class).training().forEach(p -> {
          if (p.executors() != null) {
            executors.addAll(p.executors());
          }
        });
      } else if (m.stageKind() == StageKind.SCORE && m.result(ScoreResult.class).executors() != null) {
        executors.addAll(m.result(ScoreResult.class).executors());
      }
    }
    page.p(String.format(Locale.ROOT, "%d stages, %s of stage wall time in all; written by semiweak %s; executors: %s.",
        all.size(), secs(total) + " s", String.join(", ", versions), executors.isEmpty() ? "n/a"
            : String.join(", ", executors)));
    List<List<String>> rows = new ArrayList<>();
    for (StageManifest m : all) {
      StageStatus.State state = states.getOrDefault(m.stage(), StageStatus.State.COMMITTED);
      rows.add(List.of(m.stage(), m.kind(), state.label(), m.semiweakVersion(), Fingerprint.shortForm(m.fingerprint()),
          m.commit() == null ? "" : m.commit().substring(0, Math.min(8, m.commit().length())),
          m.finishedAt() == null ? "" : m.finishedAt(), secs(m.seconds())));
    }
    page.table(List.of("stage", "kind", "state", "version", "fingerprint", "commit", "finished", "wall s"), rows);
    page.h3("Options and record counts per stage");
    for (StageManifest m : all) {
      Map<String, Object> shown = new LinkedHashMap<>();
      shown.put("options", m.options());
      shown.put("counts", m.counts());
      shown.put("inputs", m.inputs().stream().map(in -> in.name() + " @ " + Fingerprint.shortForm(in.fingerprint()))
          .toList());
      page.details(m.stage() + " (" + m.kind() + ")", Json.write(shown));
    }
  }

  // ---- formatting ----

  private static String pct(double share) {
    return String.format(Locale.ROOT, "%.2f", 100 * share);
  }

  private static String num(long n) {
    return String.format(Locale.ROOT, "%,d", n);
  }

  private static String secs(double s) {
    return String.format(Locale.ROOT, "%.1f", s);
  }

  private static String className(List<String> classes, int c) {
    return c < classes.size() ? classes.get(c) : "class " + c;
  }
}
