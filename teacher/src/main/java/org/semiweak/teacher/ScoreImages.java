package org.semiweak.teacher;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import org.apache.spark.SparkEnv;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.util.CollectionAccumulator;
import org.apache.spark.util.LongAccumulator;
import org.semiweak.config.ConfigException;
import org.semiweak.config.OptionSpec;
import org.semiweak.config.Options;
import org.semiweak.data.ImageSchema;
import org.semiweak.data.ScoreSchema;
import org.semiweak.model.ModelSpec;
import org.semiweak.run.RunDir;
import org.semiweak.run.RunLayout;
import org.semiweak.run.Split;
import org.semiweak.run.Stage;
import org.semiweak.run.StageId;
import org.semiweak.run.StageKind;
import org.semiweak.run.StageOutput;
import org.semiweak.run.StagePlan;
import org.semiweak.run.StageWriter;
import org.semiweak.run.Upstream;
import org.semiweak.run.result.Publication;
import org.semiweak.run.result.ScoreResult;
import org.semiweak.run.SparkJobs;
import org.semiweak.stage.PrepInfo;
import org.semiweak.model.StageModel;
import org.semiweak.stage.SparkProgress;
import org.semiweak.run.JavaSerialized;

/**
 * Scores every image of a split (default: unlabeled) with a teacher and commits, per image, its
 * top-Pmax classes and probabilities as {@code scores/<teacher>} (schema {@link ScoreSchema}).
 *
 * <p>Any model stage of the run can teach ({@code model}: a student scores for the next Noisy
 * Student generation); the scores are then named by {@code teacher}, e.g. {@code scores/semi-weak-gen2}.
 *
 * <p>The teacher (a semiweak model or a user's TorchScript file) is broadcast once and loaded once
 * per executor JVM ({@code ExecutorModels}); each task opens a classifier from the loaded model,
 * decodes its images and runs them through the model in batches, on the GPU Spark assigned to the
 * task if any ({@link ImageScoring}, which the library's {@code org.semiweak.api.ImageScorer} runs
 * too). Pmax is kept so that any selection with P &lt;= Pmax can be made later without scoring again.
 *
 * <p>With {@code logits: all} (the default {@code auto} when the teacher has at most {@link
 * #LOGITS_AUTO_MAX_CLASSES} classes) every image's full logit vector is kept too (column {@code
 * logits}, {@link ScoreSchema#WITH_LOGITS}): what {@code distill} trains on. A TorchScript teacher
 * that outputs probabilities gives their logarithm, which softmax at any temperature treats alike.
 */
public final class ScoreImages implements Stage {
  public static final OptionSpec<String> TEACHER = OptionSpec.stringOption("teacher", null,
      "the teacher to score with: the <recipe> of a committed teacher/<recipe> stage; with --model, the name of the"
          + " scores (scores/<teacher>) and of the selections and students made from them");
  public static final OptionSpec<String> MODEL = OptionSpec.stringOption("model", null,
      "score with this model stage of the run instead of teacher/<teacher>: any stage that commits a model, e.g."
          + " student/semi-weak/k4000-p2/finetune (Noisy Student: a student teaches the next generation)").optional();
  public static final OptionSpec<Integer> PMAX = OptionSpec.intOption("pmax", 10, 1, 100_000,
      "classes kept per image (selections may then use any P <= pmax)");
  public static final OptionSpec<Integer> BATCH_SIZE = OptionSpec.intOption("batch-size", 0, 0, 65_536,
      "images per forward pass; 0 = the model's for the task's device: on a GPU 256, on the CPU the largest batch"
          + " whose first activation stays under 32 MiB (256 for 28 px models, 10 for ResNet-18 at 224 px: larger"
          + " batches made CPU scoring several times slower)");
  public static final OptionSpec<String> SPLIT = OptionSpec.choiceOption("split", Split.UNLABELED.dirName(),
      Split.names(), "which prepared split to score");
  public static final OptionSpec<Integer> PARTITIONS = OptionSpec.intOption("partitions", 0, 0, 1_000_000,
      "Spark tasks to score in; 0 = one per Parquet file of the split (prep's files hold shard-records images"
          + " each, so the tasks are equal); N > 0 repartitions the images into N tasks (a shuffle)");

  public static final OptionSpec<Double> MAX_NON_FINITE = OptionSpec.doubleOption("max-non-finite", 0.001, 0, 1,
      "fraction of images whose scores may be NaN or infinite (each counted and left out, as rejected) before the"
          + " stage fails: more means a broken teacher, not a few odd images");
  /** {@code logits: auto} keeps the logits of teachers with at most this many classes (4 KB of floats per image). */
  public static final int LOGITS_AUTO_MAX_CLASSES = ScoreSchema.LOGITS_AUTO_MAX_CLASSES;
  public static final OptionSpec<String> LOGITS = OptionSpec.choiceOption("logits", "auto",
      List.of("auto", "all", "none"),
      "also keep every image's full logit vector, what distill trains on: all, none, or auto (all when the teacher"
          + " has at most " + LOGITS_AUTO_MAX_CLASSES + " classes, else none; 4 bytes per class and image)");
  public static final List<OptionSpec<?>> OPTIONS = List.of(TEACHER, MODEL, PMAX, BATCH_SIZE, SPLIT, PARTITIONS,
      MAX_NON_FINITE, LOGITS);

  private final RunDir run;
  private final Options options;

  public ScoreImages(RunDir run, Options options) {
    this.run = run;
    this.options = options;
  }

  @Override
  public StageId id() {
    return RunLayout.scores(options.get(TEACHER));
  }

  /** The model that scores: {@code teacher/<teacher>}, or the stage that {@code model} names. */
  StageId teacherStage() {
    String model = options.getOrNull(MODEL);
    return model == null ? RunLayout.teacher(options.get(TEACHER)) : modelStage(model);
  }

  /** The stage of a {@code --model} value, which must be a stage that commits a model. */
  static StageId modelStage(String path) {
    StageId id;
    try {
      id = RunLayout.parse(path.strip().replaceAll("/+$", ""));
    } catch (IllegalArgumentException e) {
      throw new ConfigException("score.model: " + e.getMessage());
    }
    if (!MODEL_KINDS.contains(id.kind())) {
      throw new ConfigException("score.model: '" + path + "' is a " + id.kind().command() + " stage, which commits no"
          + " model; give a teacher/RECIPE, student/TEACHER/NAME/{pretrain,distill,finetune} or baseline stage");
    }
    return id;
  }

  /** The stage kinds that commit a model a run can score with. */
  static final java.util.Set<StageKind> MODEL_KINDS = java.util.EnumSet.of(StageKind.TRAIN_TEACHER,
      StageKind.PRETRAIN, StageKind.DISTILL, StageKind.FINETUNE, StageKind.BASELINE);

  @Override
  public StagePlan plan(Upstream upstream) {
    StageId modelStage = teacherStage();
    if (modelStage.kind() != StageKind.TRAIN_TEACHER && options.get(TEACHER).equals(modelStage.teacher())) {
      // The model learned from scores/<teacher>: scoring with it into scores/<teacher> would replace its own input.
      throw new ConfigException("score.model " + modelStage + " was trained from scores/" + options.get(TEACHER)
          + ", so its scores need another name: --teacher " + options.get(TEACHER) + "-gen2, for example");
    }
    Upstream.Known prep = upstream.require(RunLayout.prep(), id());
    Publication.Images images = upstream.require(RunLayout.prep(), Publication.Images.class, id());
    Upstream.Known teacher = upstream.require(modelStage, id());
    Publication.Model model = upstream.require(modelStage, Publication.Model.class, id());
    if (model.classes() != images.numClasses()) {
      throw new ConfigException(modelStage + " predicts " + model.classes() + " classes but the vocabulary of "
          + "prep has " + images.numClasses() + ": train the teacher for this dataset");
    }
    if (model.inputSize() != images.imageSize() || model.channels() != images.channels()) {
      throw new ConfigException(modelStage + " expects " + model.channels() + "x" + model.inputSize() + "x"
          + model.inputSize() + " images but prep writes " + images.channels() + "x" + images.imageSize() + "x"
          + images.imageSize());
    }
    // Performance knobs and the failure threshold do not change the scores.
    Map<String, Object> eff = new TreeMap<>(options.effective());
    eff.remove(BATCH_SIZE.key());
    eff.remove(PARTITIONS.key());
    eff.remove(MAX_NON_FINITE.key());
    // The resolved choice: without logits the plan is the one of scores written before the option existed.
    boolean logits = keepsLogits(options.get(LOGITS), model.classes());
    eff.remove(LOGITS.key());
    if (logits) {
      eff.put(LOGITS.key(), "all");
    }
    return StagePlan.builder(id(), eff).input(prep).input(teacher)
        .publishes(new Publication.Scores(Math.min(options.get(PMAX), model.classes()), model.classes(), logits))
        .build();
  }

  /** Whether {@code logits: mode} keeps the logits of a teacher with {@code classes} classes. */
  static boolean keepsLogits(String mode, int classes) {
    return switch (mode) {
      case "all" -> true;
      case "none" -> false;
      default -> classes <= LOGITS_AUTO_MAX_CLASSES;
    };
  }

  @Override
  public StageOutput execute(SparkSession spark, StagePlan plan, StageWriter out) {
    PrepInfo prep = PrepInfo.require(run, id());
    if (options.get(PARTITIONS) > 0) {
      return score(spark, plan, out, prep);
    }
    // One task per file of the split. Spark packs small files into about one task per core by bytes,
    // and when that gives 3 tasks on 2 cores the last runs alone, a third of the stage on one core
    // (at 224 px: 0.81x of the bare forward pass, against 0.88x-0.97x with one task per file,
    // docs/BENCHMARKS.md). prep's files hold shard-records images each, so one per task keeps the
    // tasks equal; a file of one row group is read by one task anyway.
    int files = prep.input(Split.parse(options.get(SPLIT))).fileCount(spark.sparkContext().hadoopConfiguration());
    int tasks = Math.max(files, spark.sparkContext().defaultParallelism());
    return SparkJobs.withSqlConf(spark, "spark.sql.files.minPartitionNum", String.valueOf(tasks),
        () -> score(spark, plan, out, prep));
  }

  private StageOutput score(SparkSession spark, StagePlan plan, StageWriter out, PrepInfo prep) {
    StageModel teacher = StageModel.read(run, teacherStage());
    ModelSpec spec = teacher.spec();
    String fingerprint = teacher.fingerprint();
    int pmax = ((Publication.Scores) plan.publication()).pmax();
    boolean logits = ((Publication.Scores) plan.publication()).logits();
    org.apache.spark.sql.types.StructType schema = logits ? ScoreSchema.WITH_LOGITS : ScoreSchema.SCHEMA;
    int batchSize = options.get(BATCH_SIZE); // 0: each task takes the model's batch for its device

    Dataset<Row> images = prep.read(spark, Split.parse(options.get(SPLIT))).select(ImageSchema.IMAGE_ID,
        ImageSchema.IMAGE, ImageSchema.TAG_CLASSES, ImageSchema.LABEL);
    if (options.get(PARTITIONS) > 0) {
      images = images.repartition(options.get(PARTITIONS));
    }
    long in = images.count();

    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    Broadcast<JavaSerialized<StageModel>> model = jsc.broadcast(JavaSerialized.of(teacher));
    LongAccumulator modelLoads = spark.sparkContext().longAccumulator("score model loads");
    CollectionAccumulator<String> executors = spark.sparkContext().collectionAccumulator("score executors");
    CollectionAccumulator<String> rejected = spark.sparkContext().collectionAccumulator("score rejected");
    LongAccumulator nonFinite = spark.sparkContext().longAccumulator("score non-finite");

    try (SparkProgress progress = new SparkProgress(spark, "score " + options.get(TEACHER), in)) {
      SparkJobs.describe(spark, "score " + in + " images with " + teacherStage());
      LongAccumulator done = progress.accumulator();
      Dataset<Row> scores = images.mapPartitions(
          (MapPartitionsFunction<Row, Row>) rows ->
              scorePartition(rows, fingerprint, model, pmax, logits, batchSize, modelLoads, executors, rejected,
                  nonFinite, done),
          Encoders.row(schema));
      org.semiweak.data.ParquetKeyValues.saveWithClassNames(scores.write().mode(org.apache.spark.sql.SaveMode.Overwrite),
          prep.vocabulary().classes(), out.tempDir().toString());
      SparkJobs.describe(spark, "count the scores written for " + id());

      long scored = spark.read().parquet(out.tempDir().toString()).count();
      List<String> rejects = rejected.value();
      if (in != scored + rejects.size()) {
        throw new IllegalStateException("score lost records: " + in + " in, " + scored + " scored, " + rejects.size()
            + " rejected");
      }
      long nonFiniteCount = nonFinite.value();
      if (nonFiniteCount > options.get(MAX_NON_FINITE) * in) {
        throw new IllegalStateException(String.format(java.util.Locale.ROOT,
            "the teacher %s gave NaN or infinite scores for %,d of %,d images (more than score.max-non-finite = %s),"
                + " e.g. %s. A teacher must give finite probabilities: check the model (semiweak status lists it).",
            teacherStage(), nonFiniteCount, in, options.get(MAX_NON_FINITE),
            rejects.stream().filter(r -> r.endsWith(NON_FINITE)).limit(5)
                .map(r -> r.substring(0, r.length() - NON_FINITE.length()))
                .toList()));
      }
      Map<String, Long> counts = new LinkedHashMap<>();
      counts.put("in", in);
      counts.put("scored", scored);
      counts.put("rejected", (long) rejects.size());
      counts.put("rejected.non-finite", nonFiniteCount);
      return new StageOutput(counts, new ScoreResult(options.get(SPLIT), pmax, spec.numClasses(),
          teacher.description(), progress.rate(), images.rdd().getNumPartitions(), modelLoads.value(),
          List.copyOf(new TreeSet<>(executors.value())), rejects.stream().limit(100).toList(), logits));
    } finally {
      model.destroy();
    }
  }

  private static Iterator<Row> scorePartition(Iterator<Row> rows, String fingerprint,
      Broadcast<JavaSerialized<StageModel>> model, int pmax, boolean logits, int batchSize, LongAccumulator modelLoads,
      CollectionAccumulator<String> executors, CollectionAccumulator<String> rejected, LongAccumulator nonFinite,
      LongAccumulator done) {
    List<Row> out = new ArrayList<>();
    List<Row> batch = new ArrayList<>();
    long taskNonFinite = 0;
    try (ImageScoring scoring = ImageScoring.openForTask(fingerprint, () -> model.value().get(), batchSize)) {
      int size = scoring.batchSize();
      if (scoring.loadedModelNow()) {
        modelLoads.add(1);
      }
      executors.add(SparkEnv.get().executorId());
      while (rows.hasNext()) {
        batch.add(rows.next());
        if (batch.size() == size || !rows.hasNext()) {
          taskNonFinite += scoreBatch(batch, scoring, fingerprint, pmax, logits, out, rejected, nonFinite);
          done.add(batch.size());
          batch.clear();
        }
      }
    }
    if (taskNonFinite > 0) {
      org.slf4j.LoggerFactory.getLogger(ScoreImages.class).warn("task {} of {}: {} images got NaN or infinite scores",
          org.apache.spark.TaskContext.getPartitionId(), fingerprint, taskNonFinite);
    }
    return out.iterator();
  }

  /** Scores one batch into {@code out}; returns how many images got non-finite scores (left out, as rejected). */
  private static long scoreBatch(List<Row> batch, ImageScoring scoring, String fingerprint, int pmax,
      boolean keepLogits, List<Row> out, CollectionAccumulator<String> rejected, LongAccumulator nonFinite) {
    List<String> ids = new ArrayList<>(batch.size());
    List<byte[]> images = new ArrayList<>(batch.size());
    for (Row r : batch) {
      ids.add(r.getString(0));
      images.add((byte[]) r.get(1));
    }
    List<ImageScoring.Scored> scored = scoring.score(ids, images, pmax, keepLogits);
    long bad = 0;
    for (int i = 0; i < batch.size(); i++) {
      Row r = batch.get(i);
      ImageScoring.Scored s = scored.get(i);
      if (!s.isScored()) {
        rejected.add(s.reason());
        if (s.rejection() == ImageScoring.Rejection.NON_FINITE) {
          nonFinite.add(1);
          bad++;
        }
        continue;
      }
      Object classSeq = ImageScoring.seq(s.classes());
      Object probSeq = ImageScoring.seq(s.probs());
      Integer label = r.isNullAt(3) ? null : r.getInt(3);
      if (!keepLogits) {
        out.add(RowFactory.create(r.getString(0), classSeq, probSeq, r.get(2), label, fingerprint));
      } else {
        out.add(RowFactory.create(r.getString(0), classSeq, probSeq, r.get(2), label, fingerprint,
            ImageScoring.seq(s.logits())));
      }
    }
    return bad;
  }

  /** The reason of an image whose scores are NaN or infinite, after its id. */
  static final String NON_FINITE = ImageScoring.NON_FINITE;
}
