package org.semiweak.student;

import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.semiweak.config.OptionSpec;
import org.semiweak.config.Options;
import org.semiweak.data.ImageSchema;
import org.semiweak.model.ModelSpec;
import org.semiweak.model.ModelWeights;
import org.semiweak.run.ManifestBuilder;
import org.semiweak.run.RunDir;
import org.semiweak.run.Stage;
import org.semiweak.run.StageManifest;
import org.semiweak.stage.ModelTraining;
import org.semiweak.stage.PrepInfo;
import org.semiweak.stage.TrainingOptionSpecs;
import org.semiweak.train.TrainOptions;
import org.semiweak.train.TrainingResult;

/**
 * The supervised baseline: the student architecture trained from scratch on the labeled set only,
 * committed as {@code baseline}. Every run shows what the pipeline bought against it.
 */
public final class TrainBaseline implements Stage {
  public static final TrainingOptionSpecs TRAINING = new TrainingOptionSpecs("", StudentDefaults.BASELINE, true);
  public static final List<OptionSpec<?>> OPTIONS = TRAINING.all();

  private final RunDir run;
  private final Options options;

  public TrainBaseline(RunDir run, Options options) {
    this.run = run;
    this.options = options;
  }

  @Override
  public String path() {
    return "baseline";
  }

  @Override
  public String kind() {
    return "baseline";
  }

  @Override
  public ManifestBuilder plan() {
    PrepInfo prep = PrepInfo.require(run, "baseline");
    ModelTraining.modelSpec(TRAINING, options, prep);
    return new ManifestBuilder(path(), kind(), options.effective()).input(run, prep.manifest());
  }

  @Override
  public StageManifest execute(SparkSession spark, ManifestBuilder m) {
    PrepInfo prep = PrepInfo.require(run, "baseline");
    ModelSpec spec = ModelTraining.modelSpec(TRAINING, options, prep);
    Dataset<Row> labeled = prep.read(spark, PrepInfo.LABELED)
        .select(ImageSchema.IMAGE_ID, ImageSchema.IMAGE, ImageSchema.LABEL);
    long examples = labeled.count();
    if (examples == 0) {
      throw new IllegalStateException("the labeled split of " + run.stagePath("prep") + " is empty: nothing to train on");
    }
    TrainOptions train = ModelTraining.trainOptions(TRAINING, options, examples);
    TrainingResult r = ModelTraining.train(spark, run, path(), "labeled", labeled, spec,
        ModelWeights.initial(spec, options.get(TRAINING.seed)), train);
    ModelTraining.record(m, "labeled", train, examples, r);
    ModelTraining.evaluateOnTest(spark, prep, spec, r.weights(), m);
    return ModelTraining.commitModel(run, path(), spec, r.weights(), m);
  }
}
