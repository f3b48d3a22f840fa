package org.semiweak.run.result;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;

/**
 * One training of a model stage (a stage may train in several phases, e.g. weak tags then labels).
 *
 * @param name what it trained on: {@code labeled}, {@code weak} (weak tags), {@code pseudo-labels}
 * @param examples examples in the training set, counted before training
 * @param examplesSeen examples the workers trained on, over all epochs
 * @param totalSteps optimizer steps of the schedule
 * @param epochs passes over the training set
 * @param workers data-parallel workers
 * @param roundsRun rounds run by this invocation
 * @param roundsResumed rounds restored from checkpoints of an earlier invocation: one that was
 *     interrupted, or, for a phase kept for reuse, one that completed it (then {@code roundsRun} is 0)
 * @param seconds wall time
 * @param finalLoss mean training loss of the last round
 * @param executors the Spark executors that trained
 * @param learningCurve per round: global step, mean loss, throughput, training-batch accuracy
 */
public record TrainingPhase(
    String name,
    long examples,
    long examplesSeen,
    long totalSteps,
    int epochs,
    int workers,
    int roundsRun,
    int roundsResumed,
    double seconds,
    double finalLoss,
    List<String> executors,
    List<CurvePoint> learningCurve) {

  /**
   * The mean training loss, throughput and training-batch accuracy of one round.
   *
   * @param trainAccuracy top-1 accuracy in [0, 1] on the round's training batches, measured as they
   *     were trained (augmented, the model in train mode; {@link org.semiweak.train.CurvePoint}), so
   *     not comparable with the test accuracy; null in manifests written before it was recorded and
   *     for rounds restored from such a run's checkpoints. Left out of the JSON when null.
   */
  public record CurvePoint(int round, long step, double loss, double imagesPerSecond,
      @JsonInclude(JsonInclude.Include.NON_NULL) Double trainAccuracy) {

    /** A round without a training-batch accuracy (as manifests written before it recorded one). */
    public CurvePoint(int round, long step, double loss, double imagesPerSecond) {
      this(round, step, loss, imagesPerSecond, null);
    }
  }
}
