package org.semiweak.driver;

import org.semiweak.run.StageId;
import org.semiweak.run.StageManifest;

/** What happened to one stage in a driver invocation. */
public record StageOutcome(StageId id, Action action, StageManifest manifest, double seconds) {
  /** Whether the stage ran, its committed output was reused, or (in SUMMARY.md) an earlier command committed it. */
  public enum Action {
    RAN("ran"),
    SKIPPED_UP_TO_DATE("reused"),
    COMMITTED_EARLIER("earlier");

    private final String label;

    Action(String label) {
      this.label = label;
    }

    public String label() {
      return label;
    }
  }
}
