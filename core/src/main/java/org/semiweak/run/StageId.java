package org.semiweak.run;

import java.util.Objects;

/**
 * Which stage output: its kind and the names that tell it apart from others of its kind (the teacher
 * recipe, the selection). Its folder in a run directory is {@link RunLayout#path(StageId)}; build
 * ids with {@link RunLayout}'s factories ({@code RunLayout.scores("semi-weak")}), never by hand.
 *
 * @param kind the stage kind
 * @param teacher the teacher recipe (train-teacher), or the teacher whose scores, selection or
 *     student this is; null for prep, baseline and evaluate
 * @param selection the selection name (select, pretrain, finetune), or the distillation name
 *     ({@code distill-...}: distill and its finetune); null otherwise
 */
public record StageId(StageKind kind, String teacher, String selection) implements Comparable<StageId> {
  public StageId {
    Objects.requireNonNull(kind, "kind");
  }

  /** The folder of this stage relative to the run directory, e.g. {@code selection/semi-weak/k4000-p2}. */
  public String path() {
    return RunLayout.path(this);
  }

  @Override
  public int compareTo(StageId o) {
    return path().compareTo(o.path());
  }

  @Override
  public String toString() {
    return path();
  }
}
