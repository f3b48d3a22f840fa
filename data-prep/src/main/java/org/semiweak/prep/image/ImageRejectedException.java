package org.semiweak.prep.image;

import org.semiweak.prep.Reason;

/** An image that cannot become a row: the quarantine reason and a human-readable detail. */
public final class ImageRejectedException extends Exception {
  private static final long serialVersionUID = 1L;

  private final Reason reason;

  public ImageRejectedException(Reason reason, String detail) {
    super(detail, null, false, false);
    this.reason = reason;
  }

  public Reason reason() {
    return reason;
  }

  public String detail() {
    return getMessage();
  }
}
