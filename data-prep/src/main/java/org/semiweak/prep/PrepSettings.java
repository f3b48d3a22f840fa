package org.semiweak.prep;

import java.io.Serializable;
import java.util.List;
import org.semiweak.data.Vocabulary;
import org.semiweak.prep.image.ImageCodec;
import org.semiweak.prep.sim.TagSimulator;

/**
 * The resolved settings that Spark tasks need, validated on the driver: image format, limits,
 * vocabulary, seed and the idx choices. What differs between inputs (split, metadata) is in each
 * source ({@link PrepInput}).
 *
 * @param imageSize side of the square canonical image
 * @param channels 1 or 3
 * @param maxPixels the most pixels an image header may declare
 * @param maxFileBytes the largest file or tar entry read into memory
 * @param seed seed of every simulated choice
 * @param vocabulary the effective tag vocabulary
 * @param idPrefix idx source: prefix of image ids
 * @param tagSimulator idx source: simulated tags of train images, or null
 * @param conf the Hadoop configuration for opening input files
 */
public record PrepSettings(
    int imageSize,
    int channels,
    long maxPixels,
    long maxFileBytes,
    long seed,
    Vocabulary vocabulary,
    String idPrefix,
    TagSimulator tagSimulator,
    HadoopConf conf) implements Serializable {

  public ImageCodec newCodec() {
    return new ImageCodec(imageSize, channels, maxPixels);
  }

  /** Tags mapped through the vocabulary: distinct ascending classes, and how many tags were unknown. */
  public record MappedTags(int[] classes, int unknown) {}

  public MappedTags mapTags(List<String> tags) {
    int unknown = 0;
    for (String t : tags) {
      if (vocabulary.classOf(t) < 0) {
        unknown++;
      }
    }
    return new MappedTags(vocabulary.classesOf(tags), unknown);
  }
}
