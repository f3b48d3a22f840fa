package org.semiweak.testing;

import java.util.Map;
import org.semiweak.model.ModelSpec;
import org.semiweak.model.ModelWeights;
import org.semiweak.model.StageModel;
import org.semiweak.run.RunDir;
import org.semiweak.run.StageId;
import org.semiweak.run.StageManifest;
import org.semiweak.run.StageOutput;
import org.semiweak.run.StagePlan;
import org.semiweak.run.StageWriter;
import org.semiweak.run.result.ModelResult;

/** Commits a model that no stage trained (e.g. an untrained teacher) so that tests and benchmarks can score with it. */
public final class CommittedModels {
  private CommittedModels() {}

  /** Commits {@code weights} as the model stage {@code id}, with no training phases and no test accuracy. */
  public static StageManifest commit(RunDir run, StageId id, ModelSpec spec, ModelWeights weights) {
    StageModel model = StageModel.of(id.path(), spec, weights);
    try (StageWriter w = run.begin(id)) {
      model.write(run.fs(), w.tempDir());
      StagePlan plan = StagePlan.builder(id, Map.of("weights", weights.fingerprint()))
          .publishes(model.description().publication()).build();
      return w.commit(plan, new StageOutput(Map.of(), new ModelResult(model.description(), java.util.List.of(), 0, 0, 0)));
    }
  }
}
