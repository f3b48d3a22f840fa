package org.semiweak.run;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.semiweak.run.result.Publication;
import org.semiweak.util.Fingerprint;
import org.semiweak.util.Json;

/**
 * A stage checked against its upstream and ready to run: what it reads, with which options, what it
 * will publish, and the fingerprint that identifies its output before it exists (from kind, options
 * and the inputs' fingerprints only, so that a rerun can skip a stage that would produce the same).
 *
 * <pre>{@code
 * StagePlan plan = StagePlan.builder(RunLayout.scores("semi-weak"), options.effective())
 *     .input(upstream.require(RunLayout.teacher("semi-weak"), id()))
 *     .publishes(new Publication.Scores(pmax, classes))
 *     .build();
 * }</pre>
 */
public record StagePlan(StageId id, Map<String, Object> options, List<StageManifest.Input> inputs,
    Publication publication, String fingerprint) {

  public StagePlan {
    options = new TreeMap<>(options);
    inputs = List.copyOf(inputs);
  }

  public static Builder builder(StageId id, Map<String, ?> effectiveOptions) {
    return new Builder(id, effectiveOptions);
  }

  /** Collects a plan's inputs and publication. */
  public static final class Builder {
    private final StageId id;
    private final Map<String, Object> options;
    private final List<StageManifest.Input> inputs = new ArrayList<>();
    private Publication publication;

    private Builder(StageId id, Map<String, ?> effectiveOptions) {
      this.id = id;
      this.options = new TreeMap<>(effectiveOptions);
    }

    /** An upstream stage, committed or planned earlier in the same pipeline. */
    public Builder input(Upstream.Known upstream) {
      inputs.add(StageManifest.Input.of(upstream.id().path(), upstream.path(), upstream.fingerprint()));
      return this;
    }

    /** An external input: a file the user gave, with the fingerprint of its content. */
    public Builder input(String name, String path, String fingerprint) {
      inputs.add(StageManifest.Input.of(name, path, fingerprint));
      return this;
    }

    public Builder publishes(Publication p) {
      this.publication = p;
      return this;
    }

    public StagePlan build() {
      if (publication == null) {
        throw new IllegalStateException("the plan of stage " + id + " does not say what it publishes (a bug)");
      }
      List<String> parts = new ArrayList<>();
      parts.add("kind=" + id.kind().command());
      parts.add("options=" + Json.write(options));
      for (StageManifest.Input in : inputs) {
        parts.add("input=" + in.name() + "@" + in.fingerprint());
      }
      return new StagePlan(id, options, inputs, publication, Fingerprint.ofParts(parts.toArray(new String[0])));
    }
  }
}
