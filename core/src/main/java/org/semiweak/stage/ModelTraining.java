package org.semiweak.stage;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.semiweak.config.ConfigException;
import org.semiweak.config.Options;
import org.semiweak.model.ModelIO;
import org.semiweak.model.ModelSpec;
import org.semiweak.model.ModelWeights;
import org.semiweak.run.ManifestBuilder;
import org.semiweak.run.RunDir;
import org.semiweak.run.StageManifest;
import org.semiweak.run.StageWriter;
import org.semiweak.train.CurvePoint;
import org.semiweak.train.DistributedTrainer;
import org.semiweak.train.Evaluator;
import org.semiweak.train.TrainOptions;
import org.semiweak.train.TrainingResult;

/**
 * What the training stages (train-teacher, pretrain, finetune, baseline) share: turning options
 * into a model spec and a schedule, training through the one distributed trainer with checkpoints
 * under {@code _work/}, and evaluating on the test split.
 */
public final class ModelTraining {
  /** Resumable work of a stage lives here until the stage commits. */
  public static final String WORK = "_work";

  private ModelTraining() {}

  /** The architecture from the options, for the prepared images and classes. */
  public static ModelSpec modelSpec(TrainingOptionSpecs specs, Options o, PrepInfo prep) {
    int[] widths = o.get(specs.widths);
    int[] blocks = o.get(specs.blocks);
    if (blocks.length == 1 && widths.length > 1) {
      int b = blocks[0];
      blocks = new int[widths.length];
      java.util.Arrays.fill(blocks, b);
    }
    if (blocks.length != widths.length) {
      throw new ConfigException(o.scope() + ": 'blocks' has " + blocks.length + " entries but 'widths' has "
          + widths.length + "; give one number of blocks per stage, or a single number for all");
    }
    float[] mean = new float[prep.channels()];
    float[] std = new float[prep.channels()];
    java.util.Arrays.fill(mean, 0.5f);
    java.util.Arrays.fill(std, 0.5f);
    try {
      return new ModelSpec(o.get(specs.stem), blocks, widths, prep.channels(), prep.imageSize(), prep.numClasses(),
          mean, std);
    } catch (IllegalArgumentException e) {
      throw new ConfigException(o.scope() + ": " + e.getMessage());
    }
  }

  /** The schedule: {@code epochs} passes over {@code examples} images with the global batch. */
  public static TrainOptions trainOptions(TrainingOptionSpecs specs, Options o, long examples) {
    return trainOptions(specs, o, examples, o.get(specs.epochs), o.get(specs.learningRate));
  }

  /** The schedule with another number of epochs and peak learning rate (e.g. a fine-tuning phase). */
  public static TrainOptions trainOptions(TrainingOptionSpecs specs, Options o, long examples, int epochs,
      double learningRate) {
    int batch = o.get(specs.batchSize);
    int workers = o.get(specs.workers);
    long perEpoch = Math.max(1, (examples + (long) batch * workers - 1) / ((long) batch * workers));
    long total = perEpoch * epochs;
    // Warm-up never takes more than half of a (short) schedule.
    long warmup = Math.min(perEpoch * o.get(specs.warmupEpochs), total / 2);
    return TrainOptions.builder()
        .setTotalSteps(total)
        .optBatchSize(batch)
        .optBaseLearningRate(learningRate)
        .optMomentum(o.get(specs.momentum))
        .optNesterov(o.get(specs.nesterov))
        .optWeightDecay(o.get(specs.weightDecay))
        .optWarmupSteps(warmup)
        .optLocalStepsPerRound(o.get(specs.localSteps))
        .optWorkers(workers)
        .optSeed(o.get(specs.seed))
        .optCropPadding(o.get(specs.cropPadding))
        .optHorizontalFlip(o.get(specs.flip))
        .build();
  }

  /** The folder of a stage's resumable work (checkpoints, materialized training data). */
  public static Path workDir(RunDir run, String stage) {
    return new Path(new Path(run.root(), WORK), stage.replace('/', '+'));
  }

  /** Deletes a stage's resumable work once the stage is committed. */
  public static void deleteWork(RunDir run, String stage) {
    try {
      run.fs().delete(workDir(run, stage), true);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot delete " + workDir(run, stage) + ": " + e.getMessage(), e);
    }
  }

  /**
   * Trains with checkpoints in the stage's work folder ({@code phase} names one of several
   * trainings of a stage), resuming from the last checkpoint after a crash.
   */
  public static TrainingResult train(SparkSession spark, RunDir run, String stage, String phase,
      Dataset<Row> data, ModelSpec spec, ModelWeights initial, TrainOptions options) {
    spark.sparkContext().setJobGroup("semiweak " + stage, "semiweak " + stage + " (" + phase + ")", false);
    Path checkpoints = new Path(workDir(run, stage), "checkpoints-" + phase);
    return new DistributedTrainer(spark).optLabel(stage).train(data, spec, initial, options, checkpoints, null);
  }

  /**
   * Commits a trained model as the stage's output (model.json + weights.bin, then the manifest) and
   * deletes the stage's resumable work, which is no longer needed.
   */
  public static StageManifest commitModel(RunDir run, String stage, ModelSpec spec, ModelWeights weights,
      ManifestBuilder m) {
    try (StageWriter w = run.begin(stage)) {
      ModelIO.write(run.fs(), w.tempDir(), spec, weights);
      StageManifest done = m.build();
      w.commit(done);
      deleteWork(run, stage);
      return done;
    }
  }

  /** Writes the training facts of one phase into the manifest. */
  public static void record(ManifestBuilder m, String phase, TrainOptions options, long examples, TrainingResult r) {
    Map<String, Object> t = new LinkedHashMap<>();
    t.put("examples", examples);
    t.put("total-steps", options.totalSteps());
    t.put("rounds-run", r.roundsRun());
    t.put("rounds-resumed", r.roundsResumed());
    t.put("examples-seen", r.examplesSeen());
    t.put("seconds", r.seconds());
    t.put("final-loss", r.finalLoss());
    t.put("executors", r.executors());
    List<Map<String, Object>> curve = new ArrayList<>();
    for (CurvePoint p : r.learningCurve()) {
      Map<String, Object> row = new LinkedHashMap<>();
      row.put("round", p.round());
      row.put("step", p.globalStep());
      row.put("loss", p.meanLoss());
      row.put("images-per-second", p.imagesPerSecond());
      curve.add(row);
    }
    t.put("learning-curve", curve);
    m.metric("training." + phase, t);
    m.count("training-examples." + phase, examples);
  }

  /** Evaluates on the test split and records top-1/top-5 in the manifest; returns top-1. */
  public static Evaluator.Evaluation evaluateOnTest(SparkSession spark, PrepInfo prep, ModelSpec spec,
      ModelWeights weights, ManifestBuilder m) {
    Evaluator.Evaluation e = Evaluator.evaluate(prep.read(spark, PrepInfo.TEST), spec, weights);
    m.metric("test.top1", e.top1());
    m.metric("test.top5", e.top5());
    m.count("test-images", e.count());
    return e;
  }
}
