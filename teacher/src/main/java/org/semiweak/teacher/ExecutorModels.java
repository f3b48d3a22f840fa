package org.semiweak.teacher;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.semiweak.model.Devices;
import org.semiweak.model.Inference;
import org.semiweak.model.ModelSpec;
import org.semiweak.model.ModelWeights;

/**
 * Models cached per executor JVM: the weights are deserialized once per JVM and model, and the
 * inference sessions built from them are pooled and reused by every task that runs in the JVM
 * (one session per task running at the same time, since a session is not shared between threads).
 */
final class ExecutorModels {
  private static final Map<String, ModelWeights> WEIGHTS = new ConcurrentHashMap<>();
  private static final Map<String, ConcurrentLinkedQueue<Inference>> POOLS = new ConcurrentHashMap<>();

  private ExecutorModels() {}

  /** Result of a lease: the session, and whether this call loaded the weights into the JVM. */
  record Lease(Inference inference, boolean loadedWeights) {}

  static Lease borrow(String fingerprint, ModelSpec spec, byte[] weightBytes, int batchSize) {
    boolean[] loaded = {false};
    ModelWeights w = WEIGHTS.computeIfAbsent(fingerprint, f -> {
      loaded[0] = true;
      return ModelWeights.fromBytes(weightBytes);
    });
    ai.djl.Device device = Devices.forCurrentTask();
    Inference session = POOLS.computeIfAbsent(key(fingerprint, batchSize, device), k -> new ConcurrentLinkedQueue<>()).poll();
    if (session == null) {
      session = Inference.open(spec, w, device, batchSize);
    }
    return new Lease(session, loaded[0]);
  }

  static void giveBack(String fingerprint, int batchSize, Inference session) {
    POOLS.computeIfAbsent(key(fingerprint, batchSize, session.device()), k -> new ConcurrentLinkedQueue<>()).add(session);
  }

  private static String key(String fingerprint, int batchSize, ai.djl.Device device) {
    return fingerprint + "/" + batchSize + "/" + device;
  }
}
