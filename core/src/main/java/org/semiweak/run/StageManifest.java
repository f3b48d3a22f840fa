package org.semiweak.run;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.semiweak.run.result.StageResult;
import org.semiweak.util.Json;

/**
 * What a committed stage wrote, from what, with which options: the {@code _MANIFEST.json} that
 * makes a stage folder trustworthy. Readers trust only stage folders that hold a manifest.
 *
 * @param formatVersion run-directory format version that wrote it (see {@link RunDir#FORMAT_VERSION})
 * @param stage stage path inside the run directory, e.g. {@code prep} or {@code selection/semi-weak/k4000-p2}
 * @param kind the stage kind's command ({@code prep}, {@code train-teacher}, {@code score}, ...)
 * @param semiweakVersion software version that wrote it
 * @param fingerprint hash of kind, effective options and input fingerprints: equal fingerprints mean
 *     the stage would produce the same output, so a rerun may skip it
 * @param options the effective options (defaults filled in)
 * @param inputs the stages or files it read, with their fingerprints
 * @param counts record accounting, e.g. {@code in}, {@code written}, {@code quarantined}
 * @param result the stage's typed result ({@link StageKind#resultType()}), as JSON
 * @param startedAt ISO-8601 instant
 * @param finishedAt ISO-8601 instant
 * @param seconds wall time
 * @param commit a unique id of this commit: a stage built on it records it with its input, so a
 *     stage whose input was replaced since is known to be stale
 * @param files every file the stage folder holds, with sizes, Parquet row counts and checksums:
 *     readers check the folder against it before their first job; null in manifests written before
 *     semiweak listed files (those folders are not checked)
 * @param data the folder inside the stage folder that holds the files, on stores where a commit
 *     publishes by manifest instead of renaming ({@code _data-<id>}, {@link RunDir#dataPath}); null
 *     when the files are in the stage folder itself
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record StageManifest(
    int formatVersion,
    String stage,
    String kind,
    String semiweakVersion,
    String fingerprint,
    Map<String, Object> options,
    List<Input> inputs,
    Map<String, Long> counts,
    JsonNode result,
    String startedAt,
    String finishedAt,
    double seconds,
    String commit,
    List<StageFile> files,
    String data) {

  /** A manifest whose files are in the stage folder itself (a commit by rename). */
  public StageManifest(int formatVersion, String stage, String kind, String semiweakVersion, String fingerprint,
      Map<String, Object> options, List<Input> inputs, Map<String, Long> counts, JsonNode result, String startedAt,
      String finishedAt, double seconds, String commit, List<StageFile> files) {
    this(formatVersion, stage, kind, semiweakVersion, fingerprint, options, inputs, counts, result, startedAt,
        finishedAt, seconds, commit, files, null);
  }

  /**
   * One input of a stage: a committed stage or an external file, and its fingerprint.
   *
   * @param commit for a stage of the same run, the {@link StageManifest#commit()} it read (filled in
   *     at commit time); null for external files and in plans
   */
  public record Input(String name, String path, String fingerprint, String commit) {
    /** An input as a plan records it, before the commit it read is known. */
    public static Input of(String name, String path, String fingerprint) {
      return new Input(name, path, fingerprint, null);
    }

    public Input withCommit(String commitId) {
      return new Input(name, path, fingerprint, commitId);
    }
  }

  public StageManifest {
    options = options == null ? Map.of() : new LinkedHashMap<>(options);
    inputs = inputs == null ? List.of() : List.copyOf(inputs);
    counts = counts == null ? Map.of() : new LinkedHashMap<>(counts);
    files = files == null ? null : List.copyOf(files);
  }

  /** The stage this manifest commits. */
  @JsonIgnore
  public StageId id() {
    return RunLayout.parse(stage);
  }

  @JsonIgnore
  public StageKind stageKind() {
    return StageKind.parse(kind);
  }

  public long count(String name) {
    Long v = counts.get(name);
    if (v == null) {
      throw new IllegalStateException("manifest of stage " + stage + " has no count '" + name + "' (has " + counts.keySet() + ")");
    }
    return v;
  }

  /** The typed result, of the type of this stage's kind. */
  public StageResult typedResult() {
    return result(stageKind().resultType());
  }

  /** The typed result as {@code type}; a clear error if this stage's kind records another type. */
  public <R extends StageResult> R result(Class<R> type) {
    Class<? extends StageResult> expected = stageKind().resultType();
    if (!type.isAssignableFrom(expected)) {
      throw new IllegalArgumentException("stage " + stage + " is a " + kind + " stage: its result is a "
          + expected.getSimpleName() + ", not a " + type.getSimpleName());
    }
    if (result == null || result.isNull()) {
      throw new IllegalStateException("the manifest of stage " + stage + " has no result: it was written by an older"
          + " semiweak; run the stage again (semiweak run CONFIG --from " + kind + ")");
    }
    try {
      return Json.MAPPER.treeToValue(result, type);
    } catch (Exception e) {
      throw new IllegalStateException("the result in the manifest of stage " + stage + " is not a "
          + type.getSimpleName() + ": " + e.getMessage() + "; run the stage again (semiweak run CONFIG --from "
          + kind + ")", e);
    }
  }

  public String toJson() {
    return Json.write(this);
  }

  public static StageManifest fromJson(String json) {
    try {
      return Json.MAPPER.readerFor(StageManifest.class)
          .without(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
          .readValue(json);
    } catch (Exception e) {
      throw new IllegalArgumentException("not a semiweak stage manifest: " + e.getMessage(), e);
    }
  }
}
