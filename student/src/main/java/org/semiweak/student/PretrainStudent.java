package org.semiweak.student;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.concat;
import static org.apache.spark.sql.functions.lit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.semiweak.config.OptionSpec;
import org.semiweak.config.Options;
import org.semiweak.data.ImageSchema;
import org.semiweak.data.SelectionSchema;
import org.semiweak.model.ModelSpec;
import org.semiweak.model.ModelWeights;
import org.semiweak.model.StageModel;
import org.semiweak.run.RunDir;
import org.semiweak.run.RunLayout;
import org.semiweak.run.Split;
import org.semiweak.run.StageId;
import org.semiweak.run.StagePlan;
import org.semiweak.run.Upstream;
import org.semiweak.run.result.Publication;
import org.semiweak.stage.PrepInfo;
import org.semiweak.stage.SelectionInput;
import org.semiweak.run.SparkJobs;
import org.semiweak.stage.TrainingOptionSpecs;
import org.semiweak.stage.TrainingStage;

/**
 * Pretrains the student on a selection's hard pseudo-labels and commits it as
 * {@code student/<teacher>/<selection>/pretrain}.
 *
 * <p>The selection is joined with the image shards once and materialized as the training dataset
 * under the stage's work folder (reused after a crash), so the rounds of the distributed trainer
 * read Parquet, not a join. An image selected for several classes is a training example per class.
 */
public final class PretrainStudent extends TrainingStage {
  public static final OptionSpec<String> TEACHER = OptionSpec.stringOption("teacher", null,
      "the teacher of the selection (selection/<teacher>/<selection>)");
  public static final OptionSpec<String> SELECTION = OptionSpec.stringOption("selection", null,
      "the selection to pretrain on (selection/<teacher>/<selection>)");
  public static final TrainingOptionSpecs TRAINING = new TrainingOptionSpecs("", StudentDefaults.PRETRAIN, true);

  public static final List<OptionSpec<?>> OPTIONS = TRAINING.after(TEACHER, SELECTION);

  public PretrainStudent(RunDir run, Options options) {
    super(run, options);
  }

  @Override
  public StageId id() {
    return RunLayout.pretrain(options.get(TEACHER), options.get(SELECTION));
  }

  private StageId selectionStage() {
    return RunLayout.selection(options.get(TEACHER), options.get(SELECTION));
  }

  @Override
  public StagePlan plan(Upstream upstream) {
    Upstream.Known selection = upstream.require(selectionStage(), id());
    upstream.require(selectionStage(), Publication.Selection.class, id());
    Upstream.Known prep = upstream.require(RunLayout.prep(), id());
    ModelSpec spec = TRAINING.modelSpec(options, upstream.require(RunLayout.prep(), Publication.Images.class, id()));
    TRAINING.checkSchedule(options);
    return StagePlan.builder(id(), options.effective()).input(prep).input(selection)
        .publishes(new Publication.Model(spec.inputSize(), spec.inputChannels(), spec.numClasses())).build();
  }

  @Override
  protected StageModel produce(SparkSession spark, PrepInfo prep, Phases phases, StagePlan plan) {
    ModelSpec spec = TRAINING.modelSpec(options, prep.result().publication());
    Dataset<Row> data = materializeTrainingData(spark, prep);
    long examples = data.count();
    long selected = run.require(selectionStage(), id().path()).count("selected");
    if (examples != selected) {
      // The join with the images drops a selected id that the unlabeled split does not hold, e.g.
      // a selection made from scores of another prep: training on the rest would hide it.
      throw new IllegalStateException(id() + ": " + selectionStage() + " selected " + selected + " (image, class) pairs"
          + " but only " + examples + " of them have an image in prep/unlabeled. The selection was made from scores"
          + " of other images; score and select again on this prep (semiweak run CONFIG --from score).");
    }
    ModelWeights weights = phases.train("pseudo-labels", data, examples, spec,
        ModelWeights.initial(spec, options.get(TRAINING.seed)), TRAINING.schedule(options, examples),
        options.get(TRAINING.epochs));
    return StageModel.of(id().path(), spec, weights);
  }

  /** The selection joined with its images, written once to the work folder and reused on resume. */
  private Dataset<Row> materializeTrainingData(SparkSession spark, PrepInfo prep) {
    Path dir = new Path(run.layout().work(id()), "train-data");
    try {
      if (!run.fs().exists(new Path(dir, "_SUCCESS"))) {
        SparkJobs.describe(spark, "materialize the pseudo-labeled training set of " + id());
        Dataset<Row> selection = SelectionInput.require(run, selectionStage(), id()).read(spark);
        Dataset<Row> images = prep.read(spark, Split.UNLABELED).select(ImageSchema.IMAGE_ID, ImageSchema.IMAGE);
        selection.join(images, SelectionSchema.IMAGE_ID)
            .select(concat(col(ImageSchema.IMAGE_ID), lit("#"), col(SelectionSchema.CLASS_INDEX).cast("string"))
                    .as(ImageSchema.IMAGE_ID),
                col(ImageSchema.IMAGE), col(SelectionSchema.CLASS_INDEX).as(ImageSchema.LABEL))
            .write().mode(SaveMode.Overwrite).parquet(dir.toString());
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot materialize " + dir + ": " + e.getMessage(), e);
    }
    return spark.read().parquet(dir.toString());
  }
}
