package org.semiweak.train;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.semiweak.model.ModelSpec;
import org.semiweak.model.ModelWeights;

/**
 * The training loop of {@link DistributedTrainer} without Spark: the same rounds over shards held
 * in memory, workers run one after another in this thread. For small jobs on the driver and as the
 * reference that the distributed trainer reproduces.
 *
 * <pre>{@code
 * List<ExampleShard> shards = ExampleShard.partition(rows, spec, options.workers());
 * TrainingResult r = new InProcessTrainer().train(shards, spec, ModelWeights.initial(spec, 1), options);
 * }</pre>
 */
public final class InProcessTrainer {
  private String label = "train";

  /** Name used in log lines, e.g. {@code "pretrain"}. */
  public InProcessTrainer optLabel(String label) {
    this.label = label;
    return this;
  }

  /** Trains from {@code initial} weights without checkpoints. */
  public TrainingResult train(List<ExampleShard> shards, ModelSpec spec, ModelWeights initial, TrainOptions options) {
    return train(shards, spec, initial, options, null, null);
  }

  /**
   * Trains from {@code initial} weights; {@code shards.get(w)} is worker {@code w}'s data.
   *
   * @param checkpointDir folder for round checkpoints (Hadoop path, default configuration), as in
   *     {@link DistributedTrainer}; null for none
   * @param listener told after each round; null for none
   * @throws IllegalArgumentException if the number of shards is not {@code options.workers()}
   */
  public TrainingResult train(List<ExampleShard> shards, ModelSpec spec, ModelWeights initial, TrainOptions options,
      Path checkpointDir, RoundListener listener) {
    if (shards.size() != options.workers()) {
      throw new IllegalArgumentException(
          "got " + shards.size() + " shards for " + options.workers() + " workers; give one shard per worker"
              + " (ExampleShard.partition(rows, spec, workers))");
    }
    TrainingCheckpoints checkpoints = null;
    if (checkpointDir != null) {
      try {
        checkpoints = new TrainingCheckpoints(checkpointDir.getFileSystem(new Configuration()), checkpointDir,
            RoundLoop.runFingerprint(spec, initial, options));
      } catch (IOException e) {
        throw new UncheckedIOException("cannot open checkpoint folder " + checkpointDir + ": " + e.getMessage(), e);
      }
    }
    return RoundLoop.run(label, spec, initial, options, checkpoints, listener, (round, weights, state) -> {
      List<LocalTrainingOutcome> outcomes = new ArrayList<>();
      for (int w = 0; w < shards.size(); w++) {
        outcomes.add(LocalTrainer.trainSteps(spec, weights, state, shards.get(w), round.fromStep(), round.steps(),
            options, w));
      }
      return RoundOutcome.average(outcomes, round.describe(label));
    }).withTrainingSetSize(shards.stream().mapToLong(ExampleShard::size).sum());
  }
}
