package org.semiweak.run;

/** The software version written into manifests. */
public final class Versions {
  private Versions() {}

  public static String semiweak() {
    String v = Versions.class.getPackage().getImplementationVersion();
    return v != null ? v : "0.1.0-SNAPSHOT";
  }
}
