package org.semiweak.run.result;

import java.util.List;

/**
 * What a stage promises to the stages after it, known before it runs (from its options and its own
 * upstream) and equal to what its committed result will say. The pipeline checks every stage
 * against the publications of its upstream before the first Spark job, as Spark ML's
 * {@code transformSchema} does, so that a cross-stage mistake fails in seconds.
 */
public sealed interface Publication {
  /** Prepared image shards: their format and the classes of the vocabulary. */
  record Images(int imageSize, int channels, List<String> classes) implements Publication {
    public Images {
      classes = List.copyOf(classes);
    }

    public int numClasses() {
      return classes.size();
    }
  }

  /** A model that takes {@code channels x inputSize x inputSize} images and predicts {@code classes} classes. */
  record Model(int inputSize, int channels, int classes) implements Publication {}

  /**
   * Scores that keep the top {@code pmax} of {@code classes} classes per image and, when {@code logits},
   * every image's full logit vector (what distillation needs).
   */
  record Scores(int pmax, int classes, boolean logits) implements Publication {
    /** Scores without logits, as every score stage wrote before they could be kept. */
    public Scores(int pmax, int classes) {
      this(pmax, classes, false);
    }
  }

  /** A selection of at most {@code k} images per class among each image's top {@code p} classes. */
  record Selection(int k, int p) implements Publication {}

  /** An evaluation: nothing later stages consume. */
  record Evaluation() implements Publication {}

  /** The run's report: a page for people, nothing stages consume. */
  record Report() implements Publication {}
}
