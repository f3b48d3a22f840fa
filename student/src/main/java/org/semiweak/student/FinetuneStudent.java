package org.semiweak.student;

import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.semiweak.config.OptionSpec;
import org.semiweak.config.Options;
import org.semiweak.model.ModelIO;
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
 * Fine-tunes a pretrained student on the labeled set (lower learning rate) and commits it as
 * {@code student/<teacher>/<selection>/finetune}: the model the method delivers. With a selection
 * name starting with {@code distill-} (e.g. {@code distill-t2}) it continues the distilled student
 * {@code student/<teacher>/distill-t2/distill} instead ({@link RunLayout#pretrained}).
 */
public final class FinetuneStudent extends TrainingStage {
  public static final OptionSpec<String> TEACHER = PretrainStudent.TEACHER;
  public static final OptionSpec<String> SELECTION = OptionSpec.stringOption("selection", null,
      "the selection whose pretrained student to fine-tune (student/<teacher>/<selection>/pretrain), or a"
          + " distillation name such as distill-t2 for the distilled student (student/<teacher>/distill-t2/distill)");
  public static final TrainingOptionSpecs TRAINING = new TrainingOptionSpecs("", StudentDefaults.FINETUNE, false);

  public static final List<OptionSpec<?>> OPTIONS = TRAINING.after(TEACHER, SELECTION);

  public FinetuneStudent(RunDir run, Options options) {
    super(run, options);
  }

  @Override
  public StageId id() {
    return RunLayout.finetune(options.get(TEACHER), options.get(SELECTION));
  }

  private StageId pretrainStage() {
    return RunLayout.pretrained(options.get(TEACHER), options.get(SELECTION));
  }

  @Override
  public StagePlan plan(Upstream upstream) {
    Upstream.Known prep = upstream.require(RunLayout.prep(), id());
    Upstream.Known pretrained = upstream.require(pretrainStage(), id());
    Publication.Model model = upstream.require(pretrainStage(), Publication.Model.class, id());
    TRAINING.checkSchedule(options);
    return StagePlan.builder(id(), options.effective()).input(prep).input(pretrained).publishes(model).build();
  }

  @Override
  protected StageModel produce(SparkSession spark, PrepInfo prep, Phases phases, StagePlan plan) {
    ModelIO.Loaded pretrained = ModelIO.read(run.fs(), run.dataPath(pretrainStage()));
    Dataset<Row> labeled = labeledExamples(spark, prep);
    long examples = labeledCount(labeled, prep);
    ModelWeights weights = phases.train("labeled", labeled, examples, pretrained.spec(), pretrained.weights(),
        TRAINING.schedule(options, examples), options.get(TRAINING.epochs));
    return StageModel.of(id().path(), pretrained.spec(), weights);
  }
}
