package org.semiweak.student;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.function.MapFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.semiweak.config.ConfigException;
import org.semiweak.config.OptionSpec;
import org.semiweak.config.Options;
import org.semiweak.data.ImageSchema;
import org.semiweak.data.ScoreSchema;
import org.semiweak.model.ModelSpec;
import org.semiweak.model.ModelWeights;
import org.semiweak.model.StageModel;
import org.semiweak.run.RunDir;
import org.semiweak.run.RunLayout;
import org.semiweak.run.SparkJobs;
import org.semiweak.run.Split;
import org.semiweak.run.StageId;
import org.semiweak.run.StageManifest;
import org.semiweak.run.StagePlan;
import org.semiweak.run.Upstream;
import org.semiweak.run.result.Publication;
import org.semiweak.run.result.ScoreResult;
import org.semiweak.stage.ParquetInput;
import org.semiweak.stage.PrepInfo;
import org.semiweak.stage.TrainingOptionSpecs;
import org.semiweak.stage.TrainingStage;
import org.semiweak.train.ExampleShard;
import org.semiweak.train.SoftTargets;
import scala.jdk.javaapi.CollectionConverters;

/**
 * Distills a teacher into a student with soft labels (Hinton et al. 2015; SimCLRv2's third step):
 * the student, from scratch, trains on <b>every</b> image the teacher scored against the teacher's
 * softened distribution {@code softmax(logits / T)} with the soft cross-entropy, and is committed as
 * {@code student/<teacher>/distill-t<T>/distill}; {@code finetune} with {@code selection: distill-t<T>}
 * continues it on the labeled set, as it continues a student pretrained on a selection.
 *
 * <p>It needs scores that kept every image's logits (score option {@code logits}); scores without
 * them, e.g. written before the option existed, are refused at plan time, before any Spark job.
 * Like pretrain, the training set (scores joined with the images) is materialized once under the
 * stage's work folder and reused after a crash.
 */
public final class DistillStudent extends TrainingStage {
  public static final OptionSpec<String> TEACHER = OptionSpec.stringOption("teacher", null,
      "the teacher whose scores (scores/<teacher>, with logits) the student is distilled from");
  public static final OptionSpec<Double> TEMPERATURE = OptionSpec.doubleOption("temperature", 2.0, 0.05, 100,
      "T of the soft targets softmax(teacher logits / T); 1 is the teacher's own distribution, larger T flattens it"
          + " (Hinton et al. 2015 use 2-20; SimCLRv2 tunes it, 1 and 2 among the values); the student's logits are"
          + " not divided by T. Names the stage: student/<teacher>/distill-t<T>");
  public static final OptionSpec<Integer> LABELED_PER_BATCH = OptionSpec.intOption("labeled-per-batch", null, 0,
      1 << 20, "joint training (Noisy Student): this many images of every batch (over all workers) are labeled"
          + " images with their one-hot label, the rest scored images with the teacher's soft targets; the labeled"
          + " images repeat as often as the ratio needs, and an epoch is one pass over the scored images. A multiple"
          + " of workers, below batch-size; 0 or absent: scored images only (then finetune on the labeled set)")
      .optional();
  public static final TrainingOptionSpecs TRAINING = new TrainingOptionSpecs("", StudentDefaults.PRETRAIN, true);

  public static final List<OptionSpec<?>> OPTIONS = TRAINING.after(TEACHER, TEMPERATURE, LABELED_PER_BATCH);

  public DistillStudent(RunDir run, Options options) {
    super(run, options);
  }

  /** The stage's name under {@code student/<teacher>/}: {@code distill-t2}, {@code distill-t1.5}. */
  public static String name(double temperature) {
    return RunLayout.DISTILL_PREFIX + "t" + BigDecimal.valueOf(temperature).stripTrailingZeros().toPlainString();
  }

  /** The name of this distillation, which its {@code finetune} takes as {@code selection}. */
  public String name() {
    return name(options.get(TEMPERATURE));
  }

  @Override
  public StageId id() {
    return RunLayout.distill(options.get(TEACHER), name());
  }

  private StageId scoresStage() {
    return RunLayout.scores(options.get(TEACHER));
  }

  @Override
  public StagePlan plan(Upstream upstream) {
    Upstream.Known scores = upstream.require(scoresStage(), id());
    Publication.Scores published = upstream.require(scoresStage(), Publication.Scores.class, id());
    if (!published.logits()) {
      throw new ConfigException(id() + " trains on the teacher's logits, but " + scoresStage() + " kept only the top "
          + published.pmax() + " probabilities of each image (scored with the score option logits: none, or before"
          + " that option existed). Score again keeping every image's logits: semiweak run CONFIG --from score with"
          + " logits: all in the score section"
          + (published.classes() <= LOGITS_AUTO_MAX_CLASSES
              ? ", or semiweak rerun " + run.root() + " " + scoresStage() + " (its default logits: auto keeps them"
                  + " for up to " + LOGITS_AUTO_MAX_CLASSES + " classes)"
              : ", or semiweak score --run-dir " + run.root() + " --teacher " + options.get(TEACHER)
                  + " --logits all --force"));
    }
    Upstream.Known prep = upstream.require(RunLayout.prep(), id());
    Publication.Images images = upstream.require(RunLayout.prep(), Publication.Images.class, id());
    if (published.classes() != images.numClasses()) {
      throw new ConfigException(scoresStage() + " scores " + published.classes() + " classes but prep has "
          + images.numClasses() + ": score again with a teacher of this dataset");
    }
    ModelSpec spec = TRAINING.modelSpec(options, images);
    TRAINING.checkSchedule(options);
    int labeledPerBatch = labeledPerBatch();
    if (labeledPerBatch > 0) {
      int batch = options.get(TRAINING.batchSize);
      int workers = options.get(TRAINING.workers);
      if (labeledPerBatch >= batch || labeledPerBatch % workers != 0) {
        throw new ConfigException(id() + ": labeled-per-batch " + labeledPerBatch + " must be below batch-size "
            + batch + " and a multiple of workers (" + workers + "), so that every worker's batch has both kinds");
      }
    }
    return StagePlan.builder(id(), options.effective()).input(prep).input(scores)
        .publishes(new Publication.Model(spec.inputSize(), spec.inputChannels(), spec.numClasses())).build();
  }

  /** The score stage's bound for {@code logits: auto}. */
  private static final int LOGITS_AUTO_MAX_CLASSES = ScoreSchema.LOGITS_AUTO_MAX_CLASSES;

  @Override
  protected StageModel produce(SparkSession spark, PrepInfo prep, Phases phases, StagePlan plan) {
    ModelSpec spec = TRAINING.modelSpec(options, prep.result().publication());
    StageManifest scores = run.require(scoresStage(), id().path());
    Split split = Split.parse(scores.result(ScoreResult.class).split());
    Dataset<Row> data = materializeTrainingData(spark, prep, split, spec.numClasses());
    long examples = data.count();
    long labeled = labeledPerBatch() > 0 ? prep.manifest().count("written.labeled") : 0;
    long scored = scores.count("scored");
    if (examples != scored + labeled) {
      throw new IllegalStateException(id() + ": " + scoresStage() + " scored " + scored + " images but only "
          + (examples - labeled) + " of them have an image in prep/" + split.dirName() + ". The scores were made from"
          + " other images; score again on this prep (semiweak run CONFIG --from score).");
    }
    ModelWeights weights = phases.train("distill", data, examples, spec,
        ModelWeights.initial(spec, options.get(TRAINING.seed)), schedule(scored), options.get(TRAINING.epochs));
    return StageModel.of(id().path(), spec, weights);
  }

  /** Whether the student trains on labeled images too, in every batch ({@code labeled-per-batch} above 0). */
  public boolean joint() {
    return labeledPerBatch() > 0;
  }

  private int labeledPerBatch() {
    return options.getOr(LABELED_PER_BATCH, 0);
  }

  /**
   * The training schedule: epochs over the scored images. With joint training, each worker's batch
   * takes {@code r / workers} labeled images and the rest scored ones, so an epoch of the scored
   * images is {@code scored / (batch - r)} steps.
   */
  private org.semiweak.train.TrainOptions schedule(long scored) {
    int r = labeledPerBatch();
    if (r == 0) {
      return TRAINING.schedule(options, scored);
    }
    int batch = options.get(TRAINING.batchSize);
    // The same steps per epoch as batches of (batch - r) scored images: ceil(scored / (batch - r)).
    long stepsPerEpoch = (scored + batch - r - 1) / (batch - r);
    return TRAINING.schedule(options, stepsPerEpoch * batch).toBuilder()
        .optLabeledPerBatch(r / options.get(TRAINING.workers)).build();
  }

  /** The training rows: image id, image, the teacher's top class as label, and the soft targets. */
  static final StructType TRAINING_SCHEMA = new StructType()
      .add(ImageSchema.IMAGE_ID, DataTypes.StringType, false)
      .add(ImageSchema.IMAGE, DataTypes.BinaryType, false)
      .add(ImageSchema.LABEL, DataTypes.IntegerType, false)
      .add(ExampleShard.DISTRIBUTION, DataTypes.createArrayType(DataTypes.FloatType, false), false)
      .add(ExampleShard.LABELED_POOL, DataTypes.BooleanType, false);

  /**
   * The scores joined with their images and softened, and with joint training the labeled images
   * with one-hot targets, written once to the work folder and reused on resume.
   */
  private Dataset<Row> materializeTrainingData(SparkSession spark, PrepInfo prep, Split split, int classes) {
    // Its own folder with joint training: a crashed run's rows must not be reused with the other choice.
    Path dir = new Path(run.layout().work(id()), labeledPerBatch() > 0 ? "train-data-joint" : "train-data");
    double temperature = options.get(TEMPERATURE);
    try {
      if (!run.fs().exists(new Path(dir, "_SUCCESS"))) {
        SparkJobs.describe(spark, "materialize the soft targets (T = " + temperature + ") of " + id());
        Dataset<Row> scores = new ParquetInput(run.dataPath(scoresStage()), ScoreSchema.WITH_LOGITS,
            "ScoreSchema.WITH_LOGITS", scoresStage()).read(spark)
            .select(ScoreSchema.IMAGE_ID, ScoreSchema.CLASSES, ScoreSchema.LOGITS);
        Dataset<Row> images = prep.read(spark, split).select(ImageSchema.IMAGE_ID, ImageSchema.IMAGE);
        Dataset<Row> soft = scores.join(images, ScoreSchema.IMAGE_ID)
            .select(ScoreSchema.IMAGE_ID, ImageSchema.IMAGE, ScoreSchema.CLASSES, ScoreSchema.LOGITS)
            .map((MapFunction<Row, Row>) r -> softTargetRow(r, temperature, classes), Encoders.row(TRAINING_SCHEMA));
        if (labeledPerBatch() > 0) {
          Dataset<Row> labeled = prep.read(spark, Split.LABELED)
              .select(ImageSchema.IMAGE_ID, ImageSchema.IMAGE, ImageSchema.LABEL)
              .map((MapFunction<Row, Row>) r -> oneHotRow(r, classes), Encoders.row(TRAINING_SCHEMA));
          soft = soft.union(labeled);
        }
        soft.write().mode(SaveMode.Overwrite).parquet(dir.toString());
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot materialize " + dir + ": " + e.getMessage(), e);
    }
    return spark.read().parquet(dir.toString());
  }

  /** Labeled images as training rows of the labeled pool: their label as a one-hot distribution. */
  private static Row oneHotRow(Row r, int classes) {
    String id = r.getString(0);
    if (r.isNullAt(2) || r.getInt(2) < 0 || r.getInt(2) >= classes) {
      throw new IllegalArgumentException("labeled image " + id + " has label "
          + (r.isNullAt(2) ? "null" : String.valueOf(r.getInt(2))) + ", expected 0.." + (classes - 1));
    }
    List<Float> targets = new ArrayList<>(classes);
    for (int c = 0; c < classes; c++) {
      targets.add(c == r.getInt(2) ? 1f : 0f);
    }
    return RowFactory.create(id, r.get(1), r.getInt(2), CollectionConverters.asScala(targets).toSeq(), true);
  }

  /** A scored image as a training row: its logits softened at {@code temperature} into its targets. */
  private static Row softTargetRow(Row r, double temperature, int classes) {
    {
      String id = r.getString(0);
      List<Float> z = r.getList(3);
      if (z.size() != classes) {
        throw new IllegalArgumentException("image " + id + " has " + z.size() + " logits in its scores, expected "
            + classes);
      }
      float[] logits = new float[z.size()];
      for (int c = 0; c < logits.length; c++) {
        logits[c] = z.get(c);
      }
      float[] q = SoftTargets.soften(logits, temperature);
      List<Float> targets = new ArrayList<>(q.length);
      for (float v : q) {
        targets.add(v);
      }
      int top = r.<Integer>getList(2).get(0);
      return RowFactory.create(id, r.get(1), top, CollectionConverters.asScala(targets).toSeq(), false);
    }
  }
}
