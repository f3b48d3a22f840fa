package org.semiweak.train;

import org.semiweak.model.ModelWeights;

/**
 * Called on the driver after each round, once the averaged weights are known and the checkpoint
 * (if any) is written. Throwing stops training with that exception (tests use it to simulate a
 * crash after a checkpoint).
 */
@FunctionalInterface
public interface RoundListener {
  void afterRound(RoundReport report);

  /** The state after a round. */
  record RoundReport(CurvePoint point, int totalRounds, ModelWeights weights, boolean checkpointed) {}
}
