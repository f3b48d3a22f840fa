package org.semiweak.run;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.semiweak.util.Fingerprint;
import org.semiweak.util.Json;

/**
 * Collects what a stage did while it runs and turns it into its {@link StageManifest}.
 *
 * <p>The stage fingerprint is computed from the kind, the effective options and the inputs'
 * fingerprints only, so it is known before the stage runs and a rerun can compare it with the
 * committed manifest to decide whether the stage can be skipped.
 */
public final class ManifestBuilder {
  private final String stage;
  private final String kind;
  private final Instant startedAt = Instant.now();
  private final Map<String, Object> options;
  private final List<StageManifest.Input> inputs = new ArrayList<>();
  private final Map<String, Long> counts = new LinkedHashMap<>();
  private final Map<String, Object> metrics = new LinkedHashMap<>();

  public ManifestBuilder(String stage, String kind, Map<String, ?> effectiveOptions) {
    this.stage = stage;
    this.kind = kind;
    this.options = new TreeMap<>(effectiveOptions);
  }

  public ManifestBuilder input(String name, String path, String fingerprint) {
    inputs.add(new StageManifest.Input(name, path, fingerprint));
    return this;
  }

  /** Adds a committed stage as an input. */
  public ManifestBuilder input(RunDir run, StageManifest upstream) {
    return input(upstream.stage(), run.stagePath(upstream.stage()).toString(), upstream.fingerprint());
  }

  public ManifestBuilder count(String name, long value) {
    counts.put(name, value);
    return this;
  }

  public ManifestBuilder metric(String name, Object value) {
    metrics.put(name, value);
    return this;
  }

  /** Hash of kind, options and inputs: what determines the output. */
  public String fingerprint() {
    List<String> parts = new ArrayList<>();
    parts.add("kind=" + kind);
    parts.add("options=" + Json.write(options));
    for (StageManifest.Input in : inputs) {
      parts.add("input=" + in.name() + "@" + in.fingerprint());
    }
    return Fingerprint.ofParts(parts.toArray(new String[0]));
  }

  public StageManifest build() {
    Instant end = Instant.now();
    return new StageManifest(
        RunDir.FORMAT_VERSION,
        stage,
        kind,
        Versions.semiweak(),
        fingerprint(),
        options,
        inputs,
        counts,
        metrics,
        startedAt.toString(),
        end.toString(),
        Duration.between(startedAt, end).toMillis() / 1000.0);
  }
}
