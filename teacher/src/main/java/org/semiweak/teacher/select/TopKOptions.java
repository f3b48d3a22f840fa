package org.semiweak.teacher.select;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import org.semiweak.config.ConfigException;
import org.semiweak.config.OptionSpec;
import org.semiweak.config.Options;

/**
 * TopKOptions of the selection: named keys (the same in YAML run configs and as {@code --key} CLI
 * flags) with documented defaults. Immutable; every factory and {@code withX} validates.
 */
public final class TopKOptions implements Serializable {
  private static final long serialVersionUID = 1L;

  /** Scope of the keys in messages and configs. */
  public static final String SCOPE = "select";

  /** Default of {@link #K}: the paper's choice for a 1,000-class target (16k images per class). */
  public static final int K_DEFAULT = 16_000;

  /** Images kept per class: the top K by score. */
  public static final OptionSpec<Integer> K = OptionSpec.intOption("k", K_DEFAULT, 1, Integer.MAX_VALUE,
      "images kept per class (the top K candidates by score)");

  /** Default of {@link #P}, the paper's choice. */
  public static final int P_DEFAULT = 10;

  /**
   * An image is a candidate for the first P classes of its scores (its top-P predictions). Must not
   * exceed the number of classes the scores keep per image.
   */
  public static final OptionSpec<Integer> P = OptionSpec.intOption("p", P_DEFAULT, 1, Integer.MAX_VALUE,
      "an image is a candidate for each of its top-P predicted classes");

  /** Default of {@link #MIN_SCORE}: no minimum. */
  public static final double MIN_SCORE_DEFAULT = 0.0;

  /** Candidates whose probability is below this are dropped (counted in belowMinScore). */
  public static final OptionSpec<Double> MIN_SCORE = OptionSpec.doubleOption("min-score", MIN_SCORE_DEFAULT, 0.0,
      1.0, "candidates with a probability below this are not selected");

  /** Default of {@link #TAG_CONSISTENT}: tags are not required. */
  public static final boolean TAG_CONSISTENT_DEFAULT = false;

  /** Keep a candidate of class c only if c is among the image's tag_classes (semi-weak + tags). */
  public static final OptionSpec<Boolean> TAG_CONSISTENT = OptionSpec.boolOption("tag-consistent",
      TAG_CONSISTENT_DEFAULT, "select an image for class c only if its tags map to c");

  /** Default of {@link #MAX_CLASSES_PER_IMAGE}: no limit beyond p. */
  public static final int MAX_CLASSES_PER_IMAGE_DEFAULT = Integer.MAX_VALUE;

  /**
   * Each image contributes candidates for its first {@code min(p, maxClassesPerImage)} classes only
   * (positions in its scores, before the NaN, min-score and tag filters), so it is selected for
   * at most that many classes. It limits what an image offers, not what it ends up with: an image
   * can still be selected for fewer classes when it loses the top-K race elsewhere.
   */
  public static final OptionSpec<Integer> MAX_CLASSES_PER_IMAGE = OptionSpec.intOption("max-classes-per-image",
      MAX_CLASSES_PER_IMAGE_DEFAULT, 1, Integer.MAX_VALUE,
      "an image is a candidate only for its first min(p, this) classes");

  /** Every option of the stage, in documentation order. */
  public static final List<OptionSpec<?>> SPECS = List.of(K, P, MIN_SCORE, TAG_CONSISTENT, MAX_CLASSES_PER_IMAGE);

  private final int k;
  private final int p;
  private final double minScore;
  private final boolean tagConsistent;
  private final int maxClassesPerImage;

  private TopKOptions(int k, int p, double minScore, boolean tagConsistent, int maxClassesPerImage) {
    List<String> errors = new ArrayList<>();
    if (k < 1) {
      errors.add(SCOPE + ".k: expected an integer >= 1 (images kept per class), found " + k);
    }
    if (p < 1) {
      errors.add(SCOPE + ".p: expected an integer >= 1 (top-P classes per image), found " + p);
    }
    if (!(minScore >= 0.0 && minScore <= 1.0)) {
      errors.add(SCOPE + ".min-score: expected a number in [0, 1] (a probability), found " + minScore);
    }
    if (maxClassesPerImage < 1) {
      errors.add(SCOPE + ".max-classes-per-image: expected an integer >= 1, found " + maxClassesPerImage);
    }
    if (!errors.isEmpty()) {
      throw new ConfigException(String.join("\n", errors));
    }
    this.k = k;
    this.p = p;
    this.minScore = minScore;
    this.tagConsistent = tagConsistent;
    this.maxClassesPerImage = maxClassesPerImage;
  }

  /** The defaults: k=16000, p=10, min-score=0, tag-consistent=false, no limit of classes per image. */
  public static TopKOptions defaults() {
    return new TopKOptions(K_DEFAULT, P_DEFAULT, MIN_SCORE_DEFAULT, TAG_CONSISTENT_DEFAULT,
        MAX_CLASSES_PER_IMAGE_DEFAULT);
  }

  /** From validated config options (a YAML section or CLI flags parsed against {@link #SPECS}). */
  public static TopKOptions of(Options parsed) {
    return new TopKOptions(parsed.get(K), parsed.get(P), parsed.get(MIN_SCORE), parsed.get(TAG_CONSISTENT),
        parsed.get(MAX_CLASSES_PER_IMAGE));
  }

  /** Parses raw key/values; unknown keys and bad values fail with the key and what was expected. */
  public static TopKOptions parse(Map<String, ?> raw) {
    return of(Options.parse(SCOPE, SPECS, raw));
  }

  public TopKOptions withK(int k) {
    return new TopKOptions(k, p, minScore, tagConsistent, maxClassesPerImage);
  }

  public TopKOptions withP(int p) {
    return new TopKOptions(k, p, minScore, tagConsistent, maxClassesPerImage);
  }

  public TopKOptions withMinScore(double minScore) {
    return new TopKOptions(k, p, minScore, tagConsistent, maxClassesPerImage);
  }

  public TopKOptions withTagConsistent(boolean tagConsistent) {
    return new TopKOptions(k, p, minScore, tagConsistent, maxClassesPerImage);
  }

  public TopKOptions withMaxClassesPerImage(int maxClassesPerImage) {
    return new TopKOptions(k, p, minScore, tagConsistent, maxClassesPerImage);
  }

  public int k() {
    return k;
  }

  public int p() {
    return p;
  }

  public double minScore() {
    return minScore;
  }

  public boolean tagConsistent() {
    return tagConsistent;
  }

  public int maxClassesPerImage() {
    return maxClassesPerImage;
  }

  /** How many of its classes each image offers as candidates: {@code min(p, maxClassesPerImage)}. */
  public int classesPerImage() {
    return Math.min(p, maxClassesPerImage);
  }

  /** Checks the options against the run's class count (p cannot exceed it). */
  void checkFor(int numClasses) {
    if (numClasses < 1) {
      throw new IllegalArgumentException("select: numClasses must be >= 1, found " + numClasses);
    }
    if (p > numClasses) {
      throw new ConfigException(SCOPE + ".p: " + p + " exceeds the number of classes (" + numClasses
          + "): an image has at most " + numClasses + " classes; use p <= " + numClasses);
    }
  }

  /** The effective options by key, sorted: what a manifest stores. */
  public Map<String, Object> effective() {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put(K.key(), k);
    out.put(MAX_CLASSES_PER_IMAGE.key(), maxClassesPerImage);
    out.put(MIN_SCORE.key(), minScore);
    out.put(P.key(), p);
    out.put(TAG_CONSISTENT.key(), tagConsistent);
    return out;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof TopKOptions x && x.k == k && x.p == p && Double.compare(x.minScore, minScore) == 0
        && x.tagConsistent == tagConsistent && x.maxClassesPerImage == maxClassesPerImage;
  }

  @Override
  public int hashCode() {
    return Objects.hash(k, p, minScore, tagConsistent, maxClassesPerImage);
  }

  @Override
  public String toString() {
    return String.format(Locale.ROOT, "k=%d p=%d min-score=%s tag-consistent=%s max-classes-per-image=%s", k, p,
        minScore, tagConsistent, maxClassesPerImage == Integer.MAX_VALUE ? "unlimited" : maxClassesPerImage);
  }
}
