package org.semiweak.train;

import java.util.List;
import org.semiweak.model.ModelWeights;

/**
 * The outcome of a training run.
 *
 * @param weights the final averaged weights
 * @param optimizerState the final averaged momentum buffers (to continue training)
 * @param learningCurve one point per round from round 1, including rounds restored from a
 *     checkpoint
 * @param roundsRun rounds computed by this call
 * @param roundsResumed rounds restored from a checkpoint instead of computed (0 for a fresh run)
 * @param examplesSeen images processed over all rounds and workers, restored rounds included
 * @param seconds wall time of this call
 * @param executors the Spark executor ids that ran this call's training tasks, sorted ("driver"
 *     in local mode); empty when nothing ran on Spark
 * @param trainingSetSize the images in the workers' shards: what the training really held (the
 *     model stages check it against their input's count); -1 when the caller did not record it
 */
public record TrainingResult(
    ModelWeights weights,
    ModelWeights optimizerState,
    List<CurvePoint> learningCurve,
    int roundsRun,
    int roundsResumed,
    long examplesSeen,
    double seconds,
    List<String> executors,
    long trainingSetSize) {

  public TrainingResult {
    learningCurve = List.copyOf(learningCurve);
    executors = List.copyOf(executors);
  }

  /** This result with the executors that ran it. */
  public TrainingResult withExecutors(java.util.Collection<String> ids) {
    return new TrainingResult(weights, optimizerState, learningCurve, roundsRun, roundsResumed, examplesSeen, seconds,
        new java.util.TreeSet<>(ids).stream().toList(), trainingSetSize);
  }

  /** This result with the number of images its shards held. */
  public TrainingResult withTrainingSetSize(long images) {
    return new TrainingResult(weights, optimizerState, learningCurve, roundsRun, roundsResumed, examplesSeen, seconds,
        executors, images);
  }

  /** Mean training loss of the last round, NaN if there was none. */
  public double finalLoss() {
    return learningCurve.isEmpty() ? Double.NaN : learningCurve.get(learningCurve.size() - 1).meanLoss();
  }
}
