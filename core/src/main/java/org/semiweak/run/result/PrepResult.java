package org.semiweak.run.result;

import java.util.List;
import java.util.Map;

/**
 * What prep published: the image format and classes every later stage relies on, and what it found.
 *
 * @param imageSize side of the square images written
 * @param channels 1 (gray) or 3 (RGB)
 * @param classes class names of the vocabulary, in class-index order
 * @param perClass images written per split and class name ({@code (no label)} for unlabeled images)
 * @param shardFiles Parquet files written per split
 * @param imagesPerSecond input records per second of the whole stage
 * @param seconds wall time of its phases (read, dedup_and_count, write)
 * @param unlabeledTagCoverage share of unlabeled images with at least one tag in the vocabulary
 * @param simulatedTagAccuracy idx source with simulated tags: share of tagged unlabeled images whose
 *     tag names the true class; null otherwise
 * @param ignoredFiles folder source: files in the folder that are not images; null otherwise
 */
public record PrepResult(
    int imageSize,
    int channels,
    List<String> classes,
    Map<String, Map<String, Long>> perClass,
    Map<String, Long> shardFiles,
    double imagesPerSecond,
    Map<String, Double> seconds,
    Double unlabeledTagCoverage,
    Double simulatedTagAccuracy,
    Long ignoredFiles) implements StageResult {

  @Override
  public Publication.Images publication() {
    return new Publication.Images(imageSize, channels, classes);
  }
}
