package org.semiweak.student;

import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.semiweak.config.OptionSpec;
import org.semiweak.config.Options;
import org.semiweak.model.ModelSpec;
import org.semiweak.model.ModelWeights;
import org.semiweak.model.StageModel;
import org.semiweak.run.RunDir;
import org.semiweak.run.RunLayout;
import org.semiweak.run.StageId;
import org.semiweak.run.StagePlan;
import org.semiweak.run.Upstream;
import org.semiweak.run.result.Publication;
import org.semiweak.stage.PrepInfo;
import org.semiweak.stage.TrainingOptionSpecs;
import org.semiweak.stage.TrainingStage;

/**
 * The supervised baseline: the student architecture trained from scratch on the labeled set only,
 * committed as {@code baseline}. Every run shows what the pipeline bought against it.
 */
public final class TrainBaseline extends TrainingStage {
  public static final TrainingOptionSpecs TRAINING = new TrainingOptionSpecs("", StudentDefaults.BASELINE, true);
  public static final List<OptionSpec<?>> OPTIONS = TRAINING.all();

  public TrainBaseline(RunDir run, Options options) {
    super(run, options);
  }

  @Override
  public StageId id() {
    return RunLayout.baseline();
  }

  @Override
  public StagePlan plan(Upstream upstream) {
    Upstream.Known prep = upstream.require(RunLayout.prep(), id());
    ModelSpec spec = TRAINING.modelSpec(options, upstream.require(RunLayout.prep(), Publication.Images.class, id()));
    TRAINING.checkSchedule(options);
    return StagePlan.builder(id(), options.effective()).input(prep)
        .publishes(new Publication.Model(spec.inputSize(), spec.inputChannels(), spec.numClasses())).build();
  }

  @Override
  protected StageModel produce(SparkSession spark, PrepInfo prep, Phases phases, StagePlan plan) {
    ModelSpec spec = TRAINING.modelSpec(options, prep.result().publication());
    Dataset<Row> labeled = labeledExamples(spark, prep);
    long examples = labeledCount(labeled, prep);
    ModelWeights weights = phases.train("labeled", labeled, examples, spec,
        ModelWeights.initial(spec, options.get(TRAINING.seed)), TRAINING.schedule(options, examples),
        options.get(TRAINING.epochs));
    return StageModel.of(id().path(), spec, weights);
  }
}
