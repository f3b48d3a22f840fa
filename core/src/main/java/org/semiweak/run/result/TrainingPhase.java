package org.semiweak.run.result;

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
 * @param roundsResumed rounds restored from checkpoints of an earlier, interrupted invocation
 * @param seconds wall time
 * @param finalLoss mean training loss of the last round
 * @param executors the Spark executors that trained
 * @param learningCurve per round: global step, mean loss, throughput
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

  /** The mean training loss and throughput of one round. */
  public record CurvePoint(int round, long step, double loss, double imagesPerSecond) {}
}
