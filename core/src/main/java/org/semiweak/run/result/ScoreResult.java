package org.semiweak.run.result;

import java.util.List;

/**
 * What score published.
 *
 * @param split the prepared split scored
 * @param pmax classes kept per image: any selection with {@code p <= pmax} can use these scores
 * @param classes classes of the teacher
 * @param model the teacher
 * @param imagesPerSecond images scored per second, end to end
 * @param partitions Spark tasks that scored
 * @param modelLoads times an executor JVM deserialized the teacher
 * @param executors executors that scored
 * @param rejectedExamples up to 100 rejected images with the reason
 */
public record ScoreResult(String split, int pmax, int classes, ModelDescription model, double imagesPerSecond,
    int partitions, long modelLoads, List<String> executors, List<String> rejectedExamples) implements StageResult {

  @Override
  public Publication.Scores publication() {
    return new Publication.Scores(pmax, classes);
  }
}
