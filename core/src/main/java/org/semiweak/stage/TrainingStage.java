package org.semiweak.stage;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.semiweak.config.Options;
import org.semiweak.data.ImageSchema;
import org.semiweak.model.Inference;
import org.semiweak.run.SparkJobs;
import org.semiweak.model.ModelSpec;
import org.semiweak.model.ModelWeights;
import org.semiweak.model.StageModel;
import org.semiweak.run.RunDir;
import org.semiweak.run.Split;
import org.semiweak.run.Stage;
import org.semiweak.run.StageOutput;
import org.semiweak.run.StagePlan;
import org.semiweak.run.StageWriter;
import org.semiweak.run.result.ModelResult;
import org.semiweak.run.result.TrainingPhase;
import org.semiweak.train.CurvePoint;
import org.semiweak.train.DistributedTrainer;
import org.semiweak.train.Evaluator;
import org.semiweak.train.TrainOptions;
import org.semiweak.train.TrainingResult;

/**
 * The shape every model stage shares (train-teacher, pretrain, finetune, baseline): the subclass
 * produces a model, in one or more training {@link Phases} (each checkpointed, resumable and recorded
 * with its example count); this class writes it, evaluates it on the test split, and returns the
 * {@link ModelResult}.
 */
public abstract class TrainingStage implements Stage {
  protected final RunDir run;
  protected final Options options;

  protected TrainingStage(RunDir run, Options options) {
    this.run = run;
    this.options = options;
  }

  /** Produces the stage's model, training it through {@code phases}. */
  protected abstract StageModel produce(SparkSession spark, PrepInfo prep, Phases phases, StagePlan plan);

  @Override
  public final StageOutput execute(SparkSession spark, StagePlan plan, StageWriter out) {
    PrepInfo prep = PrepInfo.require(run, id());
    Phases phases = new Phases(spark);
    StageModel model = produce(spark, prep, phases, plan);
    model.write(run.fs(), out.tempDir());
    SparkJobs.describe(spark, "evaluate " + id() + " on the test split");
    Evaluator.Evaluation e = Evaluator.evaluate(prep.read(spark, Split.TEST), model,
        Inference.defaultBatchSize(model.spec()));
    Map<String, Long> counts = new LinkedHashMap<>();
    phases.done.forEach(p -> counts.put("training-examples." + p.name(), p.examples()));
    counts.putAll(phases.counts);
    counts.put("test-images", e.count());
    return new StageOutput(counts, new ModelResult(model.description(), phases.done, e.top1(), e.top5(), e.count(),
        phases.linearEvaluation));
  }

  /** The labeled split as training examples: image id, image, label. */
  protected static Dataset<Row> labeledExamples(SparkSession spark, PrepInfo prep) {
    return prep.read(spark, Split.LABELED).select(ImageSchema.IMAGE_ID, ImageSchema.IMAGE, ImageSchema.LABEL);
  }

  /**
   * The rows of {@code labeled}, checked against what prep committed: a training stage never trains
   * on fewer labeled images than the run holds without saying so.
   */
  protected long labeledCount(Dataset<Row> labeled, PrepInfo prep) {
    long rows = labeled.count();
    Long committed = prep.manifest().counts().get("written." + Split.LABELED.dirName());
    if (committed != null && committed != rows) {
      throw new IllegalStateException(String.format(java.util.Locale.ROOT,
          "%s: prep/%s holds %,d images, but prep committed %,d: the prep stage is damaged; repair it with %s",
          id(), Split.LABELED.dirName(), rows, committed, run.repairCommand(org.semiweak.run.RunLayout.prep())));
    }
    return rows;
  }

  /** The trainings of one stage, each checkpointed under the stage's work folder and recorded by name. */
  public final class Phases {
    private final SparkSession spark;
    private final List<TrainingPhase> done = new ArrayList<>();
    private final Map<String, Long> counts = new LinkedHashMap<>();
    private ModelResult.LinearEvaluation linearEvaluation;

    private Phases(SparkSession spark) {
      this.spark = spark;
    }

    /**
     * Evaluates {@code encoder} (a classifier of {@code spec} whose head is ignored) linearly: a
     * linear classifier on its frozen features, fitted on {@code labeled}, evaluated on the test
     * split; recorded in the stage's result. The features are computed and kept on the executors
     * ({@link org.semiweak.train.LinearProbe}); the driver holds vectors of the head's size only.
     */
    public ModelResult.LinearEvaluation evaluateLinearly(PrepInfo prep, Dataset<Row> labeled, ModelSpec spec,
        ModelWeights encoder) {
      SparkJobs.describe(spark, "semiweak " + id() + " (linear evaluation)");
      long start = System.nanoTime();
      org.semiweak.train.LinearProbe.Probe probe = org.semiweak.train.LinearProbe.fit(labeled, spec, encoder);
      long fitted = System.nanoTime();
      Evaluator.Evaluation e = Evaluator.evaluate(prep.read(spark, Split.TEST), spec, probe.weights());
      linearEvaluation = new ModelResult.LinearEvaluation(probe.images(), e.top1(), e.count());
      org.slf4j.LoggerFactory.getLogger(TrainingStage.class).info("{}: linear evaluation: {} top-1 on {} test images,"
          + " a linear classifier on the frozen encoder trained on {} labeled images (fit {} s, test {} s)", id(),
          String.format(java.util.Locale.ROOT, "%.2f%%", 100 * e.top1()), e.count(), linearEvaluation.labeledImages(),
          String.format(java.util.Locale.ROOT, "%.1f", (fitted - start) / 1e9),
          String.format(java.util.Locale.ROOT, "%.1f", (System.nanoTime() - fitted) / 1e9));
      return linearEvaluation;
    }

    /** The phase trained last. */
    public TrainingPhase last() {
      if (done.isEmpty()) {
        throw new IllegalStateException(id() + ": no phase has trained yet (a bug)");
      }
      return done.get(done.size() - 1);
    }

    /** Records a count of the stage's manifest beside the training examples (e.g. images left out, and why). */
    public void count(String name, long value) {
      counts.put(name, value);
    }

    /**
     * Trains {@code data} (image id, image, label) from {@code initial} with {@code schedule}, resuming
     * from the phase's last checkpoint after a crash, and records the phase.
     *
     * @param examples the number of rows of {@code data}, counted by the caller
     */
    public ModelWeights train(String phase, Dataset<Row> data, long examples, ModelSpec spec, ModelWeights initial,
        TrainOptions schedule, int epochs) {
      return train(phase, new Path(run.layout().work(id()), "checkpoints-" + phase), data, examples, spec, initial,
          schedule, epochs);
    }

    /**
     * As {@link #train}, but the phase's checkpoints outlive the stage's commit, under the run's
     * {@link org.semiweak.run.RunLayout#REUSE} folder: a later run of this stage that trains the same
     * phase (same options, architecture and initial weights: the checkpoints' own fingerprint) on the
     * same input resumes it after its last round instead of training it again. Changing only a later
     * phase (a fine-tune's epochs, say) then costs only that phase.
     *
     * @param input what the phase reads besides its options (the prep commit, and any option that
     *     chooses its examples): another input trains in another folder, and once the phase is done
     *     the folders of its other inputs are deleted, so one is kept per phase
     */
    public ModelWeights trainReusable(String phase, String input, Dataset<Row> data, long examples, ModelSpec spec,
        ModelWeights initial, TrainOptions schedule, int epochs) {
      Path stageFolder = run.layout().reuse(id());
      String prefix = phase + "-";
      Path folder = new Path(stageFolder, prefix + org.semiweak.util.Fingerprint.shortForm(
          org.semiweak.util.Fingerprint.of(input)));
      ModelWeights weights = train(phase, folder, data, examples, spec, initial, schedule, epochs);
      TrainingPhase done = last();
      if (done.roundsRun() == 0) {
        org.slf4j.LoggerFactory.getLogger(TrainingStage.class).info("{}: the {} phase was not trained again: its"
            + " {} rounds were kept from an earlier run in {}", id(), phase, done.roundsResumed(), folder);
      }
      try {
        for (org.apache.hadoop.fs.FileStatus st : run.fs().listStatus(stageFolder)) {
          String name = st.getPath().getName();
          if (name.startsWith(prefix) && !name.equals(folder.getName())) {
            run.fs().delete(st.getPath(), true);
          }
        }
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException("cannot list " + stageFolder + ": " + e.getMessage(), e);
      }
      return weights;
    }

    private ModelWeights train(String phase, Path checkpoints, Dataset<Row> data, long examples, ModelSpec spec,
        ModelWeights initial, TrainOptions schedule, int epochs) {
      if (examples == 0) {
        throw new IllegalStateException(id() + ": the " + phase + " training set is empty: nothing to train on");
      }
      if (done.stream().anyMatch(p -> p.name().equals(phase))) {
        throw new IllegalStateException(id() + ": a second training phase named " + phase + " (a bug)");
      }
      if (java.util.Arrays.stream(spec.stageWidths()).anyMatch(w -> w % 16 != 0)) {
        org.slf4j.LoggerFactory.getLogger(TrainingStage.class).warn("{}: widths {} include one that is not a multiple"
            + " of 16: libtorch 2.7.1's CPU convolutions are known to compute wrong or NaN gradients for such channel"
            + " counts (docs/ACCURACY.md); prefer multiples of 16", id(), java.util.Arrays.toString(spec.stageWidths()));
      }
      SparkJobs.describe(spark, "semiweak " + id() + " (" + phase + ")");
      TrainingResult r = new DistributedTrainer(spark).optLabel(id().path())
          .train(data, spec, initial, schedule, checkpoints, null);
      if (r.trainingSetSize() != examples) {
        // The shards are built by a second read of the input: a file that changed or vanished in
        // between would otherwise train a model on part of the data under a manifest that says all.
        throw new IllegalStateException(String.format(java.util.Locale.ROOT,
            "%s: the %s training held %,d images in its workers' shards, but its input has %,d: the input changed"
                + " while the stage ran; run the stage again", id(), phase, r.trainingSetSize(), examples));
      }
      done.add(new TrainingPhase(phase, examples, r.examplesSeen(), schedule.totalSteps(), epochs,
          schedule.workers(), r.roundsRun(), r.roundsResumed(), r.seconds(), r.finalLoss(),
          r.executors().stream().map(String::valueOf).sorted().toList(),
          r.learningCurve().stream().map(Phases::point).toList()));
      return r.weights();
    }

    private static TrainingPhase.CurvePoint point(CurvePoint p) {
      return new TrainingPhase.CurvePoint(p.round(), p.globalStep(), p.meanLoss(), p.imagesPerSecond(),
          p.trainAccuracy());
    }
  }
}
