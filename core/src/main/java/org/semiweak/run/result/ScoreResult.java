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
 * @param logits whether every image's full logit vector is kept (column {@code logits}); null, read
 *     as false, in manifests written before logits could be kept
 */
public record ScoreResult(String split, int pmax, int classes, ModelDescription model, double imagesPerSecond,
    int partitions, long modelLoads, List<String> executors, List<String> rejectedExamples, Boolean logits)
    implements StageResult {

  /** A result without logits. */
  public ScoreResult(String split, int pmax, int classes, ModelDescription model, double imagesPerSecond,
      int partitions, long modelLoads, List<String> executors, List<String> rejectedExamples) {
    this(split, pmax, classes, model, imagesPerSecond, partitions, modelLoads, executors, rejectedExamples, false);
  }

  /** Whether the scores hold every image's logit vector. */
  public boolean hasLogits() {
    return Boolean.TRUE.equals(logits);
  }

  @Override
  public Publication.Scores publication() {
    return new Publication.Scores(pmax, classes, hasLogits());
  }
}
