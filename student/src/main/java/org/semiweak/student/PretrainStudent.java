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
import org.semiweak.run.ManifestBuilder;
import org.semiweak.run.RunDir;
import org.semiweak.run.Stage;
import org.semiweak.run.StageManifest;
import org.semiweak.stage.ModelTraining;
import org.semiweak.stage.ParquetInput;
import org.semiweak.stage.PrepInfo;
import org.semiweak.stage.TrainingOptionSpecs;
import org.semiweak.train.TrainOptions;
import org.semiweak.train.TrainingResult;

/**
 * Pretrains the student on a selection's hard pseudo-labels and commits it as
 * {@code student/<teacher>/<selection>/pretrain}.
 *
 * <p>The selection is joined with the image shards once and materialized as the training dataset
 * under the stage's work folder (reused after a crash), so the rounds of the distributed trainer
 * read Parquet, not a join. An image selected for several classes is a training example per class.
 */
public final class PretrainStudent implements Stage {
  public static final OptionSpec<String> TEACHER = OptionSpec.stringOption("teacher", null,
      "the teacher of the selection (selection/<teacher>/<selection>)");
  public static final OptionSpec<String> SELECTION = OptionSpec.stringOption("selection", null,
      "the selection to pretrain on (selection/<teacher>/<selection>)");
  public static final TrainingOptionSpecs TRAINING = new TrainingOptionSpecs("", StudentDefaults.PRETRAIN, true);

  public static final List<OptionSpec<?>> OPTIONS = TRAINING.after(TEACHER, SELECTION);

  private final RunDir run;
  private final Options options;

  public PretrainStudent(RunDir run, Options options) {
    this.run = run;
    this.options = options;
  }

  static String studentPrefix(Options o, OptionSpec<String> teacher, OptionSpec<String> selection) {
    return "student/" + o.get(teacher) + "/" + o.get(selection);
  }

  @Override
  public String path() {
    return studentPrefix(options, TEACHER, SELECTION) + "/pretrain";
  }

  @Override
  public String kind() {
    return "pretrain";
  }

  private String selectionStage() {
    return "selection/" + options.get(TEACHER) + "/" + options.get(SELECTION);
  }

  @Override
  public ManifestBuilder plan() {
    PrepInfo prep = PrepInfo.require(run, "pretrain");
    ModelTraining.modelSpec(TRAINING, options, prep);
    StageManifest selection = run.require(selectionStage(), "pretrain");
    return new ManifestBuilder(path(), kind(), options.effective()).input(run, prep.manifest()).input(run, selection);
  }

  @Override
  public StageManifest execute(SparkSession spark, ManifestBuilder m) {
    PrepInfo prep = PrepInfo.require(run, "pretrain");
    ModelSpec spec = ModelTraining.modelSpec(TRAINING, options, prep);
    Dataset<Row> data = materializeTrainingData(spark, prep);
    long examples = data.count();
    if (examples == 0) {
      throw new IllegalStateException(selectionStage() + " selected no image: nothing to pretrain on");
    }
    TrainOptions train = ModelTraining.trainOptions(TRAINING, options, examples);
    TrainingResult r = ModelTraining.train(spark, run, path(), "pseudo-labels", data, spec,
        ModelWeights.initial(spec, options.get(TRAINING.seed)), train);
    ModelTraining.record(m, "pseudo-labels", train, examples, r);
    ModelTraining.evaluateOnTest(spark, prep, spec, r.weights(), m);
    return ModelTraining.commitModel(run, path(), spec, r.weights(), m);
  }

  /** The selection joined with its images, written once to the work folder and reused on resume. */
  private Dataset<Row> materializeTrainingData(SparkSession spark, PrepInfo prep) {
    Path dir = new Path(ModelTraining.workDir(run, path()), "train-data");
    try {
      if (!run.fs().exists(new Path(dir, "_SUCCESS"))) {
        spark.sparkContext().setJobDescription("materialize the pseudo-labeled training set of " + path());
        Dataset<Row> selection = new ParquetInput(run.stagePath(selectionStage()), SelectionSchema.SCHEMA,
            "SelectionSchema", "select").read(spark);
        Dataset<Row> images = prep.read(spark, PrepInfo.UNLABELED).select(ImageSchema.IMAGE_ID, ImageSchema.IMAGE);
        selection.join(images, SelectionSchema.IMAGE_ID)
            .select(concat(col(ImageSchema.IMAGE_ID), lit("#"), col(SelectionSchema.CLASS).cast("string"))
                    .as(ImageSchema.IMAGE_ID),
                col(ImageSchema.IMAGE), col(SelectionSchema.CLASS).as(ImageSchema.LABEL))
            .write().mode(SaveMode.Overwrite).parquet(dir.toString());
        spark.sparkContext().setJobDescription(null);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot materialize " + dir + ": " + e.getMessage(), e);
    }
    return spark.read().parquet(dir.toString());
  }
}
