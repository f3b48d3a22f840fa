package org.semiweak.teacher;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import org.semiweak.model.StageModel;

/**
 * Models cached per executor JVM: a teacher is deserialized from its broadcast once per JVM and
 * model, and every task in that JVM opens its classifier from the cached copy.
 *
 * <p>Classifiers themselves are opened and closed per task, so no native session outlives its task
 * (why: docs/NOTES.md, "Executor models").
 */
final class ExecutorModels {
  private static final Map<String, StageModel> MODELS = new ConcurrentHashMap<>();

  private ExecutorModels() {}

  /** The cached model, and whether this call loaded it into the JVM. */
  record Cached(StageModel model, boolean loadedNow) {}

  static Cached get(String fingerprint, Supplier<StageModel> model) {
    boolean[] loaded = {false};
    StageModel m = MODELS.computeIfAbsent(fingerprint, f -> {
      loaded[0] = true;
      return model.get();
    });
    return new Cached(m, loaded[0]);
  }
}
