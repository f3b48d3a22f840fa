package org.semiweak.teacher.select;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.TreeSet;

/** Random scores with many ties (probabilities rounded to 2 decimals), awkward ids, NaN and -0.0. */
final class SyntheticScores {
  private SyntheticScores() {}

  /**
   * @param length entries of classes/probs per image (the scorer's top-Pmax)
   * @param nanRate chance that one entry of an image's probs is NaN
   */
  static List<ScoreRecord> generate(long seed, int images, int numClasses, int length, double nanRate) {
    Random random = new Random(seed);
    // Ids whose UTF-8 byte order differs from Java's UTF-16 String order, and prefixes of each other.
    String[] prefixes = {"img-", "img", "IMG-", "\uFFFD", "\uD83D\uDE00", "é", "a"};
    List<ScoreRecord> out = new ArrayList<>();
    TreeSet<String> used = new TreeSet<>();
    for (int i = 0; i < images; i++) {
      String id;
      do {
        id = prefixes[random.nextInt(prefixes.length)] + random.nextInt(images * 4);
      } while (!used.add(id));
      List<Integer> all = new ArrayList<>();
      for (int c = 0; c < numClasses; c++) {
        all.add(c);
      }
      java.util.Collections.shuffle(all, random);
      int[] classes = new int[length];
      float[] probs = new float[length];
      Integer[] order = new Integer[length];
      for (int j = 0; j < length; j++) {
        classes[j] = all.get(j);
        probs[j] = Math.round(random.nextDouble() * random.nextDouble() * 100) / 100f;
        order[j] = j;
      }
      // Ordered by probability descending, ties by class ascending, as ScoreSchema promises.
      Arrays.sort(order, (a, b) -> probs[a] != probs[b] ? Float.compare(probs[b], probs[a])
          : Integer.compare(classes[a], classes[b]));
      int[] sortedClasses = new int[length];
      float[] sortedProbs = new float[length];
      for (int j = 0; j < length; j++) {
        sortedClasses[j] = classes[order[j]];
        sortedProbs[j] = probs[order[j]];
        if (sortedProbs[j] == 0f && random.nextBoolean()) {
          sortedProbs[j] = -0.0f;
        }
      }
      if (random.nextDouble() < nanRate) {
        sortedProbs[random.nextInt(length)] = Float.NaN;
      }
      int tagCount = random.nextInt(4);
      TreeSet<Integer> tags = new TreeSet<>();
      if (random.nextBoolean()) {
        tags.add(sortedClasses[0]);
      }
      for (int t = 0; t < tagCount; t++) {
        tags.add(random.nextInt(numClasses));
      }
      out.add(new ScoreRecord(id, sortedClasses, sortedProbs, tags.stream().mapToInt(Integer::intValue).toArray()));
    }
    return out;
  }
}
