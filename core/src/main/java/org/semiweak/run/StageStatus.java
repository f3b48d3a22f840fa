package org.semiweak.run;

import java.util.List;

/**
 * What a stage folder of a run directory holds now, as {@code status} reports it: never an
 * exception, so that one damaged stage does not hide the others.
 *
 * @param stage the stage path, e.g. {@code scores/semi-weak}
 * @param state committed, stale, damaged or leftover
 * @param manifest the committed manifest; null when damaged beyond reading, or a leftover
 * @param problems why it is stale or damaged, one line each; empty when committed
 * @param repair the command that makes it committed again; null when nothing is to be done
 */
public record StageStatus(String stage, State state, StageManifest manifest, List<String> problems, String repair) {
  public StageStatus {
    problems = List.copyOf(problems);
  }

  /** The states of a stage folder. */
  public enum State {
    /** Committed, its folder holds what its manifest lists, its inputs are the ones it read. */
    COMMITTED,
    /** Intact, but an input stage was replaced or removed since it was built: {@code run} rebuilds it. */
    STALE,
    /** Its manifest is unreadable, or its folder does not hold what the manifest lists: never read. */
    DAMAGED,
    /** A folder without a manifest: a crash before the commit; never read, replaced by the next commit. */
    LEFTOVER;

    public String label() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  public boolean usable() {
    return state == State.COMMITTED || state == State.STALE;
  }
}
