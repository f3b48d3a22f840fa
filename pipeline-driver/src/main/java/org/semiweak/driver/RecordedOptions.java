package org.semiweak.driver;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;
import org.semiweak.config.ConfigException;
import org.semiweak.run.DamagedStageException;
import org.semiweak.run.RunDir;
import org.semiweak.run.StageId;
import org.semiweak.util.Json;

/**
 * The options a stage was run with, for {@code semiweak rerun}: from its manifest, or, when the
 * manifest is damaged or missing, from the plan that every commit writes beside it.
 */
final class RecordedOptions {
  private RecordedOptions() {}

  static Map<String, Object> of(RunDir run, StageId id) throws IOException {
    try {
      var manifest = run.committed(id);
      if (manifest.isPresent()) {
        return new LinkedHashMap<>(manifest.get().options());
      }
    } catch (DamagedStageException e) {
      // fall through to the plan beside the manifest
    }
    try {
      Map<?, ?> plan = Json.read(run.readString(run.planPath(id)), Map.class);
      if (plan.get("options") instanceof Map<?, ?> options) {
        Map<String, Object> out = new LinkedHashMap<>();
        options.forEach((k, v) -> out.put(String.valueOf(k), v));
        return out;
      }
      throw new ConfigException(run.planPath(id) + " holds no options");
    } catch (FileNotFoundException e) {
      throw new ConfigException("stage " + id + " in " + run.root() + " has neither a readable manifest nor a recorded"
          + " plan, so its options are unknown: run it with its stage command and options (semiweak help "
          + id.kind().command() + ") and --force, or with semiweak run CONFIG --from " + id.kind().command());
    } catch (IllegalArgumentException e) {
      throw new ConfigException("the plan of stage " + id + " (" + run.planPath(id) + ") is unreadable: "
          + e.getMessage() + "; run it with semiweak run CONFIG --from " + id.kind().command());
    }
  }
}
