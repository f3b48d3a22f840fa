package org.semiweak.teacher.select;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * The selection computed the obvious way in plain Java, straight from the definition: the reference
 * the Spark implementations are checked against.
 */
final class BruteForceSelection {
  /** A selected row in the same text form as {@link #key}: "class|rank|image_id|score bits". */
  final List<String> rows = new ArrayList<>();

  final long[] candidates;
  final long[] selected;
  final long[] nanRejected;
  final long[] belowMinScore;
  final long[] notInTags;
  final float[] minSelected;
  final float[] maxSelected;
  final double[] meanSelected;
  final long[][] histogram;
  /** Every class's candidates, best first. */
  private final List<List<Candidate>> byClass = new ArrayList<>();

  private record Candidate(String imageId, byte[] idBytes, float score) {}

  BruteForceSelection(List<ScoreRecord> scores, TopKOptions o, int numClasses) {
    candidates = new long[numClasses];
    selected = new long[numClasses];
    nanRejected = new long[numClasses];
    belowMinScore = new long[numClasses];
    notInTags = new long[numClasses];
    minSelected = new float[numClasses];
    maxSelected = new float[numClasses];
    meanSelected = new double[numClasses];
    histogram = new long[numClasses][ClassStats.HISTOGRAM_BINS];
    for (int c = 0; c < numClasses; c++) {
      byClass.add(new ArrayList<>());
    }
    int perImage = Math.min(o.p(), o.maxClassesPerImage());
    for (ScoreRecord s : scores) {
      for (int i = 0; i < perImage; i++) {
        int c = s.classes()[i];
        float p = s.probs()[i];
        if (Float.isNaN(p)) {
          nanRejected[c]++;
        } else if ((double) p < o.minScore()) {
          belowMinScore[c]++;
        } else if (o.tagConsistent() && Arrays.stream(s.tagClasses()).noneMatch(t -> t == c)) {
          notInTags[c]++;
        } else {
          float score = p == 0f ? 0f : p; // -0.0 and 0.0 are the same score
          byClass.get(c).add(new Candidate(s.imageId(), s.imageId().getBytes(StandardCharsets.UTF_8), score));
        }
      }
    }
    Comparator<Candidate> order = (a, b) -> {
      int byScore = Float.compare(b.score(), a.score());
      return byScore != 0 ? byScore : Arrays.compareUnsigned(a.idBytes(), b.idBytes());
    };
    for (int c = 0; c < numClasses; c++) {
      List<Candidate> list = byClass.get(c);
      list.sort(order);
      candidates[c] = list.size();
      int n = Math.min(o.k(), list.size());
      selected[c] = n;
      double sum = 0;
      minSelected[c] = Float.NaN;
      maxSelected[c] = Float.NaN;
      for (int r = 0; r < n; r++) {
        Candidate x = list.get(r);
        rows.add(key(c, r + 1, x.imageId(), x.score()));
        sum += x.score();
        int bin = (int) Math.min(ClassStats.HISTOGRAM_BINS - 1, Math.floor((double) x.score() * ClassStats.HISTOGRAM_BINS));
        histogram[c][bin]++;
      }
      if (n > 0) {
        maxSelected[c] = list.get(0).score();
        minSelected[c] = list.get(n - 1).score();
        meanSelected[c] = sum / n;
      } else {
        meanSelected[c] = Double.NaN;
      }
    }
    rows.sort(null);
  }

  /** Candidates of class {@code c} scoring at least {@code threshold}. */
  long candidatesAtOrAbove(int c, float threshold) {
    return byClass.get(c).stream().filter(x -> x.score() >= threshold).count();
  }

  static String key(int classIndex, int rank, String imageId, float score) {
    return String.format("%06d|%09d|%s|%08x", classIndex, rank, imageId, Float.floatToRawIntBits(score));
  }
}
