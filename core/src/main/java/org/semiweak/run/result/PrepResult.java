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
 * @param ignoredFiles files of the inputs that no source reads and that look like no data (listed
 *     per input in {@code inputs}); null in results written before inputs were accounted for
 * @param inputs the accounting of each input, in the order of the config; null in results written
 *     before inputs were accounted for
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
    Long ignoredFiles,
    List<InputAccount> inputs) implements StageResult {

  /** A result without per-input accounting (one source, as before several inputs existed). */
  public PrepResult(int imageSize, int channels, List<String> classes, Map<String, Map<String, Long>> perClass,
      Map<String, Long> shardFiles, double imagesPerSecond, Map<String, Double> seconds, Double unlabeledTagCoverage,
      Double simulatedTagAccuracy, Long ignoredFiles) {
    this(imageSize, channels, classes, perClass, shardFiles, imagesPerSecond, seconds, unlabeledTagCoverage,
        simulatedTagAccuracy, ignoredFiles, null);
  }

  /**
   * What prep did with one input: {@code in = sum(written) + sum(quarantined) + duplicates}.
   *
   * @param name the input's name (its image ids start with it when there are several inputs)
   * @param source its source kind: idx, folder or webdataset
   * @param path the folder it was read from
   * @param in records read: one per image file, metadata row, WebDataset sample, unsafe tar entry,
   *     unreadable tar tail or data file the source does not read
   * @param written images written per split
   * @param quarantined records quarantined per reason (reasons with none are left out)
   * @param duplicates exact duplicates dropped (listed in {@code prep/duplicates} with the id they duplicate)
   * @param bytes bytes of input read
   * @param skippedFiles files of the input that are not records (no data: text, the metadata file itself)
   * @param skipped the first of those files, relative to the input folder
   */
  public record InputAccount(String name, String source, String path, long in, Map<String, Long> written,
      Map<String, Long> quarantined, long duplicates, long bytes, long skippedFiles, List<String> skipped) {}

  @Override
  public Publication.Images publication() {
    return new Publication.Images(imageSize, channels, classes);
  }
}
