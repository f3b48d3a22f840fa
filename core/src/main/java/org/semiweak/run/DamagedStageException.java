package org.semiweak.run;

/** A committed stage whose manifest cannot be read, or whose folder does not hold what it lists. */
public final class DamagedStageException extends IllegalStateException {
  private static final long serialVersionUID = 1L;

  private final transient StageStatus status;

  public DamagedStageException(String message, StageStatus status) {
    super(message);
    this.status = status;
  }

  public StageStatus status() {
    return status;
  }
}
