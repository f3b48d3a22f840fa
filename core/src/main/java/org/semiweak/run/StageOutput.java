package org.semiweak.run;

import java.util.LinkedHashMap;
import java.util.Map;
import org.semiweak.run.result.StageResult;

/**
 * What a stage's execution produced besides the files under its temporary folder: its record counts
 * ({@code in = out + rejected}) and its typed result. The pipeline runner turns it into the manifest
 * and commits.
 */
public record StageOutput(Map<String, Long> counts, StageResult result) {
  public StageOutput {
    counts = new LinkedHashMap<>(counts);
  }
}
