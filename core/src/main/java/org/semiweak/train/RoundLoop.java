package org.semiweak.train;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import org.semiweak.model.Inference;
import org.semiweak.model.ModelSpec;
import org.semiweak.model.ModelWeights;
import org.semiweak.util.Fingerprint;
import org.semiweak.util.Progress;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The synchronous model-averaging loop shared by every trainer: per round, all workers train
 * from the same weights ({@link RoundExecutor}), then weights and momentum buffers are averaged,
 * the learning curve grows, a checkpoint is written and the listener is told.
 */
final class RoundLoop {
  private static final Logger LOG = LoggerFactory.getLogger(RoundLoop.class);

  /**
   * Runs one round on all workers and averages their outcomes ({@link RoundOutcome#average} in
   * memory, {@link SlicedAverage} on a cluster).
   */
  interface RoundExecutor {
    RoundOutcome run(Round round, ModelWeights weights, ModelWeights optimizerState);
  }

  /** Round {@code number} of {@code total} covers global steps {@code [fromStep, fromStep + steps)}. */
  record Round(int number, int total, long fromStep, int steps) {
    String describe(String label) {
      return String.format(Locale.ROOT, "%s round %d/%d (steps %d-%d)", label, number, total, fromStep,
          fromStep + steps - 1);
    }
  }

  private RoundLoop() {}

  /** Identity of a run for resuming: options, model spec and initial weights. */
  static String runFingerprint(ModelSpec spec, ModelWeights initial, TrainOptions options) {
    return Fingerprint.ofParts("semiweak-train-v1", options.fingerprint(), spec.fingerprint(), initial.fingerprint());
  }

  static TrainingResult run(
      String label,
      ModelSpec spec,
      ModelWeights initial,
      TrainOptions options,
      TrainingCheckpoints checkpoints,
      RoundListener listener,
      RoundExecutor executor) {
    long start = System.nanoTime();
    ModelWeights weights = initial;
    ModelWeights optimizerState = ModelWeights.empty();
    List<CurvePoint> curve = new ArrayList<>();
    long examplesSeen = 0;
    int firstRound = 1;
    Optional<TrainingCheckpoints.State> restored = checkpoints == null ? Optional.empty() : checkpoints.latest();
    if (restored.isPresent()) {
      TrainingCheckpoints.State s = restored.get();
      weights = s.weights();
      optimizerState = s.optimizerState();
      curve.addAll(s.curve());
      examplesSeen = s.examplesSeen();
      firstRound = s.round() + 1;
      LOG.info("{}: resuming after round {}/{} (global step {}) from checkpoint", label, s.round(),
          options.rounds(), s.globalStep());
    }
    int rounds = options.rounds();
    int resumed = firstRound - 1;
    LOG.info("{}: {} rounds of {} local steps on {} worker(s), batch {} per worker, {} total steps; {}",
        label, rounds, options.localStepsPerRound(), options.workers(), options.batchSize(), options.totalSteps(), spec);
    long batchBytes = spec.activationBytesPerImage() * options.batchSize();
    if (batchBytes > Inference.FAST_TENSOR_BYTES) {
      LOG.warn("{}: batch {} makes {} MiB activation tensors; above 32 MiB CPU training is much slower (glibc maps"
          + " them afresh each batch); on CPU prefer batchSize <= {} per worker", label, options.batchSize(),
          batchBytes >> 20, Math.max(2, Inference.FAST_TENSOR_BYTES / spec.activationBytesPerImage()));
    }
    try (Progress progress = Progress.start(label + " steps", options.totalSteps())) {
      progress.add(Math.min(options.totalSteps(), options.firstStepOfRound(firstRound)));
      for (int r = firstRound; r <= rounds; r++) {
        Round round = new Round(r, rounds, options.firstStepOfRound(r), options.stepsInRound(r));
        long roundStart = System.nanoTime();
        RoundOutcome outcome = executor.run(round, weights, optimizerState);
        weights = outcome.weights();
        optimizerState = outcome.optimizerState();
        double lossSum = outcome.lossSum();
        long examples = outcome.examples();
        double trainAccuracy = (double) outcome.correct() / examples;
        double seconds = (System.nanoTime() - roundStart) / 1e9;
        examplesSeen += examples;
        CurvePoint point = new CurvePoint(r, round.fromStep() + round.steps(), lossSum / examples,
            seconds > 0 ? examples / seconds : 0, trainAccuracy);
        curve.add(point);
        progress.setSuffix(String.format(Locale.ROOT, "round %d/%d, loss %.4f, train acc %.1f%%, %.0f images/s",
            r, rounds, point.meanLoss(), 100 * trainAccuracy, point.imagesPerSecond()));
        progress.add(round.steps());
        LOG.debug("{}: {}", label, point);
        if (checkpoints != null) {
          checkpoints.write(new TrainingCheckpoints.State(r, point.globalStep(), weights, optimizerState,
              List.copyOf(curve), examplesSeen));
        }
        if (listener != null) {
          listener.afterRound(new RoundListener.RoundReport(point, rounds, weights, checkpoints != null));
        }
      }
    }
    return new TrainingResult(weights, optimizerState, curve, rounds - resumed, resumed, examplesSeen,
        (System.nanoTime() - start) / 1e9, List.of(), -1);
  }
}
