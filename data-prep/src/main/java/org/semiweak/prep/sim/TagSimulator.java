package org.semiweak.prep.sim;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.semiweak.data.Vocabulary;
import org.semiweak.util.SeededRandom;

/**
 * Simulated weak tags for images whose true class is known: a pure function of (seed, image id,
 * class), so it does not depend on partitioning.
 *
 * <p>Each image gets one hashtag of its true class with probability {@code accuracy}, else of a
 * uniformly drawn other class; the hashtag is drawn uniformly among the vocabulary's tags of that
 * class (its synonyms). With probability {@code noiseRate} it also gets one off-vocabulary hashtag
 * (such as {@code #ootd}) that maps to no class, as real posts carry tags that say nothing about
 * the content.
 */
public final class TagSimulator implements Serializable {
  private static final long serialVersionUID = 1L;

  /** Popular hashtags that name no class; those the vocabulary happens to know are left out. */
  static final List<String> NOISE = List.of("#ootd", "#fashion", "#style", "#instafashion", "#shopping", "#sale",
      "#vintage", "#newin", "#lookbook", "#streetstyle");

  private static final long SALT_CORRECT = 0x7a6f1c3d5e2b4a91L;
  private static final long SALT_OTHER = 0x1d2c3b4a59687766L;
  private static final long SALT_SYNONYM = 0x5c4b3a2918f7e6d5L;
  private static final long SALT_NOISE = 0x3e2d1c0bfaf9e8d7L;

  private final long seed;
  private final double accuracy;
  private final double noiseRate;
  private final String[][] synonyms;
  private final String[] noise;

  /**
   * @throws IllegalArgumentException if some class has no tag in the vocabulary (no hashtag to draw)
   */
  public TagSimulator(Vocabulary vocabulary, long seed, double accuracy, double noiseRate) {
    this.seed = seed;
    this.accuracy = accuracy;
    this.noiseRate = noiseRate;
    Map<Integer, List<String>> byClass = new TreeMap<>();
    vocabulary.tagToClass().forEach((tag, c) -> byClass.computeIfAbsent(c, k -> new ArrayList<>()).add(tag));
    synonyms = new String[vocabulary.numClasses()][];
    for (int c = 0; c < synonyms.length; c++) {
      List<String> tags = byClass.getOrDefault(c, List.of());
      if (tags.isEmpty()) {
        throw new IllegalArgumentException("simulated tags need at least one tag per class, but the vocabulary maps no tag to class "
            + c + " '" + vocabulary.classes().get(c) + "'; add one or set simulate-tags: false");
      }
      synonyms[c] = tags.stream().sorted().toArray(String[]::new);
    }
    noise = NOISE.stream().filter(t -> vocabulary.classOf(t) < 0).toArray(String[]::new);
  }

  /** The simulated tags of an image of true class {@code label}. */
  public List<String> tags(String imageId, int label) {
    int k = synonyms.length;
    int cls = label;
    if (k > 1 && SeededRandom.unit(SeededRandom.hash(seed ^ SALT_CORRECT, imageId)) >= accuracy) {
      int offset = 1 + (int) (SeededRandom.unit(SeededRandom.hash(seed ^ SALT_OTHER, imageId)) * (k - 1));
      cls = (label + offset) % k;
    }
    String[] syn = synonyms[cls];
    List<String> out = new ArrayList<>(2);
    out.add(syn[(int) (SeededRandom.unit(SeededRandom.hash(seed ^ SALT_SYNONYM, imageId)) * syn.length)]);
    if (noise.length > 0 && noiseRate > 0) {
      double u = SeededRandom.unit(SeededRandom.hash(seed ^ SALT_NOISE, imageId));
      if (u < noiseRate) {
        out.add(noise[(int) (u / noiseRate * noise.length)]);
      }
    }
    return out;
  }
}
