package org.semiweak.student;

import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.semiweak.config.OptionSpec;
import org.semiweak.config.Options;
import org.semiweak.data.ImageSchema;
import org.semiweak.model.ModelIO;
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
 * Fine-tunes a pretrained student on the labeled set (lower learning rate) and commits it as
 * {@code student/<teacher>/<selection>/finetune}: the model the method delivers.
 */
public final class FinetuneStudent implements Stage {
  public static final OptionSpec<String> TEACHER = PretrainStudent.TEACHER;
  public static final OptionSpec<String> SELECTION = PretrainStudent.SELECTION;
  public static final TrainingOptionSpecs TRAINING = new TrainingOptionSpecs("", StudentDefaults.FINETUNE, false);

  public static final List<OptionSpec<?>> OPTIONS = TRAINING.after(TEACHER, SELECTION);

  private final RunDir run;
  private final Options options;

  public FinetuneStudent(RunDir run, Options options) {
    this.run = run;
    this.options = options;
  }

  @Override
  public String path() {
    return PretrainStudent.studentPrefix(options, TEACHER, SELECTION) + "/finetune";
  }

  @Override
  public String kind() {
    return "finetune";
  }

  private String pretrainStage() {
    return PretrainStudent.studentPrefix(options, TEACHER, SELECTION) + "/pretrain";
  }

  @Override
  public ManifestBuilder plan() {
    PrepInfo prep = PrepInfo.require(run, "finetune");
    StageManifest pretrained = run.require(pretrainStage(), "finetune");
    return new ManifestBuilder(path(), kind(), options.effective()).input(run, prep.manifest()).input(run, pretrained);
  }

  @Override
  public StageManifest execute(SparkSession spark, ManifestBuilder m) {
    PrepInfo prep = PrepInfo.require(run, "finetune");
    ModelIO.Loaded pretrained = ModelIO.read(run.fs(), run.stagePath(pretrainStage()));
    Dataset<Row> labeled = prep.read(spark, PrepInfo.LABELED)
        .select(ImageSchema.IMAGE_ID, ImageSchema.IMAGE, ImageSchema.LABEL);
    long examples = labeled.count();
    if (examples == 0) {
      throw new IllegalStateException("the labeled split of " + run.stagePath("prep") + " is empty: nothing to fine-tune on");
    }
    TrainOptions train = ModelTraining.trainOptions(TRAINING, options, examples);
    TrainingResult r = ModelTraining.train(spark, run, path(), "labeled", labeled, pretrained.spec(),
        pretrained.weights(), train);
    ModelTraining.record(m, "labeled", train, examples, r);
    ModelTraining.evaluateOnTest(spark, prep, pretrained.spec(), r.weights(), m);
    return ModelTraining.commitModel(run, path(), pretrained.spec(), r.weights(), m);
  }
}
