package org.semiweak.driver;

import org.semiweak.run.StageId;
import org.semiweak.run.StageManifest;

/** What happened to one stage in a driver invocation. */
public record StageOutcome(StageId id, Action action, StageManifest manifest, double seconds) {
  /** Whether the stage ran or its committed output was reused. */
  public enum Action {
    RAN,
    SKIPPED_UP_TO_DATE
  }
}
