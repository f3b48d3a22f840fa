package org.semiweak.train;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.ParameterStore;
import ai.djl.training.loss.SoftmaxCrossEntropyLoss;
import ai.djl.util.Pair;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.semiweak.model.ContrastiveViews;
import org.semiweak.model.Devices;
import org.semiweak.model.ImageTensors;
import org.semiweak.model.Inference;
import org.semiweak.model.ModelSpec;
import org.semiweak.model.ModelWeights;
import org.semiweak.model.NoGrad;
import org.semiweak.model.ProjectionNet;
import org.semiweak.model.TrainingNoise;

/**
 * Runs SGD steps on one worker's shard: the unit of work of every trainer.
 *
 * <p>The result is a pure function of its arguments (on the CPU, with a fixed thread count): the
 * images of each batch come from {@link SampleSchedule}, augmentation from seeds of (seed, worker,
 * global step, slot), the learning rate from {@link TrainOptions#learningRate}. Gradients are
 * recorded on the calling thread only, so several workers can train concurrently in one JVM.
 */
public final class LocalTrainer {
  private LocalTrainer() {}

  /**
   * Trains {@code steps} steps starting at global step {@code fromGlobalStep} on {@link
   * Devices#forCurrentTask()}.
   *
   * @param optimizerState momentum buffers from earlier steps, or {@link ModelWeights#empty()} to
   *     start at zero
   * @return new weights and state; an empty shard returns the inputs unchanged with 0 examples
   * @throws IllegalStateException if the loss becomes NaN or infinite (learning rate too high)
   */
  public static LocalTrainingOutcome trainSteps(
      ModelSpec spec,
      ModelWeights weights,
      ModelWeights optimizerState,
      ExampleShard shard,
      long fromGlobalStep,
      int steps,
      TrainOptions options,
      int workerIndex) {
    long start = System.nanoTime();
    if (shard.imageValues() != spec.imageValues()) {
      throw new IllegalArgumentException("shard images have " + shard.imageValues() + " values, the model "
          + spec + " expects " + spec.imageValues());
    }
    if (shard.size() == 0 || steps == 0) {
      return new LocalTrainingOutcome(weights, optimizerState, 0, 0, 0, (System.nanoTime() - start) / 1e9);
    }
    // A non-finite loss is retried from the same (immutable) inputs before it is reported. The known
    // cause of transient NaNs (oneDNN's convolution backward pass, see trainAttempt) is now caught
    // and recomputed per step, so this is a backstop: the computation is deterministic, so a clean
    // attempt gives exactly the result a retried Spark task would; a run that really diverges fails
    // every attempt and is reported.
    NonFiniteLossException last = null;
    for (int attempt = 1; attempt <= NON_FINITE_ATTEMPTS; attempt++) {
      try {
        return trainAttempt(spec, weights, optimizerState, shard, fromGlobalStep, steps, options, workerIndex, start);
      } catch (NonFiniteLossException e) {
        last = e;
        LOG.warn("{} (attempt {}/{}); training these steps again from the same inputs", e.getMessage(), attempt,
            NON_FINITE_ATTEMPTS);
      }
    }
    String widthsHint = java.util.Arrays.stream(spec.stageWidths()).anyMatch(w -> w % 16 != 0)
        ? "; or the widths " + java.util.Arrays.toString(spec.stageWidths()) + ": libtorch 2.7.1's CPU convolutions"
            + " are known to compute NaN or wrong gradients for channel counts that are not a multiple of 16"
            + " (docs/ACCURACY.md), so use multiples of 16"
        : "";
    throw new IllegalStateException(last.getMessage() + "; every one of " + NON_FINITE_ATTEMPTS
        + " attempts diverged: the run diverged; lower baseLearningRate or add warmupSteps" + widthsHint, last);
  }

  private static final int NON_FINITE_ATTEMPTS = 3;
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(LocalTrainer.class);

  /** A NaN or infinite training loss. */
  static final class NonFiniteLossException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    NonFiniteLossException(String message) {
      super(message);
    }
  }

  private static void requireFinite(ModelWeights w, String what, long step, int workerIndex) {
    for (String name : w.names()) {
      for (float v : w.values(name)) {
        if (!Float.isFinite(v)) {
          throw new NonFiniteLossException(String.format(Locale.ROOT,
              "%s tensor %s holds %s after global step %d on worker %d", what, name, v, step, workerIndex));
        }
      }
    }
  }

  /**
   * Cross-entropy against soft targets, averaged over the batch: {@code -sum_c q_c log softmax(z)_c}
   * per image. With one-hot targets it equals the usual (sparse) cross-entropy.
   */
  static NDArray softTargetLoss(NDArray logits, NDArray targets) {
    return logits.logSoftmax(1).mul(targets).sum(new int[] {1}).neg().mean();
  }

  /**
   * SimCLR's NT-Xent loss, averaged over the {@code 2B} views: {@code z} holds the projections of
   * {@code B} images' first views (rows {@code 0..B-1}) then of their second views (rows {@code
   * B..2B-1}); each view's logits are the cosine similarities to the other {@code 2B - 1} views
   * divided by {@code temperature}, and its target is its partner (row {@code i + B} or {@code i - B}).
   */
  static NDArray ntXentLoss(NDArray z, double temperature) {
    long views = z.getShape().get(0);
    if (views % 2 != 0 || views < 4) {
      throw new IllegalArgumentException("NT-Xent needs two views of at least 2 images, found " + views + " rows");
    }
    long b = views / 2;
    NDManager m = z.getManager();
    NDArray unit = ProjectionNet.unitRows(z);
    NDArray eye = m.eye((int) views);
    // The similarity of a view with itself is excluded by pushing it far below every other logit.
    NDArray logits = unit.matMul(unit.transpose()).div((float) temperature).sub(eye.mul(1e9f));
    NDArray partners = m.eye((int) views).concat(m.eye((int) views), 1)
        .get(new ai.djl.ndarray.index.NDIndex(":, " + b + ":" + (b + views)));
    return logits.logSoftmax(1).mul(partners).sum(new int[] {1}).neg().mean();
  }

  /**
   * Sinkhorn-Knopp's codes for {@code scores} {@code (B, K)}, the similarities of {@code B} views to
   * {@code K} prototypes: {@code Q = exp(scores / epsilon)}, then {@code iterations} times scaled so
   * that every prototype gets {@code 1/K} of the total and then every view {@code 1/B}; returned
   * scaled so each view's row sums to 1 (its soft assignment). Computed without gradient.
   */
  static NDArray sinkhorn(NDArray scores, double epsilon, int iterations) {
    try (NoGrad off = NoGrad.enter()) {
      long b = scores.getShape().get(0);
      long k = scores.getShape().get(1);
      // Shifted by the largest score first: the same codes, without overflow at small epsilon.
      NDArray q = scores.sub(scores.max()).div((float) epsilon).exp();
      q = q.div(q.sum());
      for (int i = 0; i < iterations; i++) {
        q = q.div(q.sum(new int[] {0}, true)).div((float) k);
        q = q.div(q.sum(new int[] {1}, true)).div((float) b);
      }
      return q.mul((float) b);
    }
  }

  /**
   * SwAV's swapped prediction over the {@code 2B} views: {@code scores} are the similarities of the
   * first views (rows {@code 0..B-1}) then of the second views to the prototypes. Each half gets its
   * Sinkhorn codes; each view's softmax of its scores at {@code temperature} predicts its partner's
   * code (cross-entropy); the mean over the views of both halves.
   */
  static NDArray swavLoss(NDArray scores, double temperature, double epsilon) {
    return swavLoss(scores, null, temperature, epsilon);
  }

  /**
   * {@link #swavLoss(NDArray, double, double)} with multi-crop: {@code smallScores} (or null) holds the
   * scores of {@code n} small views of the same {@code B} images, {@code B} rows per small view. Codes
   * come from the two large views only; the code of each large view is predicted by every other view,
   * large or small, and the loss is the mean of those cross-entropies (SwAV's multi-crop loss).
   */
  static NDArray swavLoss(NDArray scores, NDArray smallScores, double temperature, double epsilon) {
    long large = scores.getShape().get(0);
    if (large % 2 != 0 || large < 4) {
      throw new IllegalArgumentException("SwAV needs two views of at least 2 images, found " + large + " rows");
    }
    long b = large / 2;
    if (smallScores != null && smallScores.getShape().get(0) % b != 0) {
      throw new IllegalArgumentException("small views must come B = " + b + " rows each, found "
          + smallScores.getShape().get(0) + " rows");
    }
    NDArray all = smallScores == null ? scores : scores.concat(smallScores, 0);
    long views = all.getShape().get(0) / b;
    NDArray logProbabilities = all.div((float) temperature).logSoftmax(1);
    NDArray loss = null;
    for (long u = 0; u < 2; u++) {
      NDArray code = sinkhorn(scores.get(u * b + ":" + (u + 1) * b), epsilon, SelfSupervised.SINKHORN_ITERATIONS);
      for (long v = 0; v < views; v++) {
        if (v == u) {
          continue;
        }
        NDArray term = logProbabilities.get(v * b + ":" + (v + 1) * b).mul(code).sum(new int[] {1}).neg().mean();
        loss = loss == null ? term : loss.add(term);
      }
    }
    return loss.div(2f * (views - 1));
  }

  /** How many of the {@code B} images' two views have their largest score at the same prototype. */
  static int countSamePrototype(NDArray scores) {
    try (NoGrad off = NoGrad.enter()) {
      long[] best = scores.argMax(1).toLongArray();
      int b = best.length / 2;
      int same = 0;
      for (int i = 0; i < b; i++) {
        same += best[i] == best[i + b] ? 1 : 0;
      }
      return same;
    }
  }

  /**
   * BYOL's loss over the {@code 2B} views: {@code predictions} are the online network's of the first
   * views (rows {@code 0..B-1}) then of the second views, {@code targets} the target network's
   * projections in the same order. Each view's prediction is compared with the target projection of
   * its partner view: {@code 2 - 2 cos}, averaged over the {@code B} images for each direction and
   * summed over the two directions, as BYOL's symmetrized loss.
   */
  static NDArray byolLoss(NDArray predictions, NDArray targets) {
    long views = predictions.getShape().get(0);
    if (views % 2 != 0 || views < 2 || !predictions.getShape().equals(targets.getShape())) {
      throw new IllegalArgumentException("BYOL needs two views per image and a target for each prediction, found "
          + predictions.getShape() + " and " + targets.getShape());
    }
    long b = views / 2;
    NDArray p = ProjectionNet.unitRows(predictions);
    NDArray z = ProjectionNet.unitRows(targets);
    NDArray partners = z.get(b + ":").concat(z.get(":" + b), 0);
    return p.mul(partners).sum(new int[] {1}).mul(-2).add(2).mean().mul(2);
  }

  /**
   * How many of the {@code B} images' first views (rows {@code 0..B-1} of {@code z}) are most similar
   * to their own second view among the other {@code 2B - 1}: the contrastive task's top-1 accuracy,
   * what self-supervised training reports as its training accuracy.
   */
  static int countPartnersFound(NDArray z) {
    return countPartnersFound(z, z);
  }

  /**
   * {@link #countPartnersFound(NDArray)} between two sets of rows: how many of rows {@code 0..B-1} of
   * {@code queries} are most similar to row {@code i + B} of {@code keys} among its rows other than
   * {@code i} (BYOL: a view's prediction against the target projections of the other views).
   */
  static int countPartnersFound(NDArray queries, NDArray keys) {
    try (NoGrad off = NoGrad.enter(); NDManager scratch = queries.getManager().newSubManager()) {
      long views = queries.getShape().get(0);
      long b = views / 2;
      NDArray unit = ProjectionNet.unitRows(queries);
      unit.attach(scratch);
      // Contrastive methods compare the views with themselves: one normalization serves both sides.
      NDArray keyUnit = keys == queries ? unit : ProjectionNet.unitRows(keys);
      keyUnit.attach(scratch);
      NDArray similar = unit.matMul(keyUnit.transpose()).sub(scratch.eye((int) views).mul(1e9f));
      long[] best = similar.argMax(1).toLongArray();
      int found = 0;
      for (int i = 0; i < b; i++) {
        found += best[i] == i + b ? 1 : 0;
      }
      return found;
    }
  }

  /**
   * How many images of a batch the model's top-1 class gets right: with hard labels, the images
   * whose largest logit is at their label; with soft targets, those whose largest logit is at a
   * class of largest target weight (the argmax of a teacher's distribution; any of an image's k
   * target classes, each 1/k). Ties between logits go to the lowest class, as in {@code argMax}.
   *
   * <p>Training calls it on the logits of the training step itself, so the accuracy it gives is
   * the training-batch accuracy: augmented images, the model in train mode.
   *
   * @param logits {@code (batch, classes)}
   * @param labels the batch's labels, used when {@code softTargets} is null
   * @param softTargets the batch's target distributions, {@code classes} values per image, or null
   *     for hard labels
   */
  static int countCorrect(NDArray logits, long[] labels, float[] softTargets, int classes) {
    long[] predicted;
    try (NoGrad off = NoGrad.enter()) {
      predicted = logits.argMax(1).toLongArray();
    }
    int correct = 0;
    for (int i = 0; i < predicted.length; i++) {
      if (softTargets == null) {
        correct += predicted[i] == labels[i] ? 1 : 0;
      } else {
        float best = Float.NEGATIVE_INFINITY;
        for (int c = 0; c < classes; c++) {
          best = Math.max(best, softTargets[i * classes + c]);
        }
        correct += softTargets[i * classes + (int) predicted[i]] == best ? 1 : 0;
      }
    }
    return correct;
  }

  private static LocalTrainingOutcome trainAttempt(
      ModelSpec spec,
      ModelWeights weights,
      ModelWeights optimizerState,
      ExampleShard shard,
      long fromGlobalStep,
      int steps,
      TrainOptions options,
      int workerIndex,
      long start) {
    Device device = Devices.forCurrentTask();
    int batchSize = options.batchSize();
    int values = spec.imageValues();
    boolean augment = options.cropPadding() > 0 || options.horizontalFlip() || options.cutout() > 0
        || options.randAugmentOps() > 0;
    boolean modelNoise = options.dropout() > 0 || options.stochasticDepth() > 0;
    SelfSupervised selfSupervised = options.selfSupervised();
    // Self-supervised: two views of each image, rows 0..B-1 and B..2B-1 of the batch tensor.
    int views = selfSupervised == null ? 1 : 2;
    BatchSlots slots = BatchSlots.of(shard, options, workerIndex);
    SoftmaxCrossEntropyLoss lossFunction = new SoftmaxCrossEntropyLoss();
    Sgd sgd = new Sgd(options);
    float[] images = new float[views * batchSize * values];
    // SwAV's multi-crop: small views of smallSize pixels, a second batch tensor of their own.
    int smallCrops = selfSupervised == null ? 0 : selfSupervised.smallCrops();
    int smallSize = smallCrops == 0 ? 0 : selfSupervised.smallCropSize();
    int smallValues = spec.inputChannels() * smallSize * smallSize;
    float[] smallImages = smallCrops == 0 ? null : new float[smallCrops * batchSize * smallValues];
    long[] labels = new long[batchSize];
    boolean soft = shard.hasSoftTargets();
    int classes = spec.numClasses();
    float[] softTargets = soft ? new float[batchSize * classes] : null;
    double lossSum = 0;
    long correct = 0;

    try (NDManager manager = NDManager.newBaseManager(device)) {
      Block block = selfSupervised == null ? Inference.newInitializedBlock(spec, manager)
          : ProjectionNet.newInitializedBlock(spec, selfSupervised.projectionHidden(), selfSupervised.projectionDim(),
              selfSupervised.hasTarget(), selfSupervised.prototypeCount(), manager);
      weights.copyInto(block);
      List<String> names = new ArrayList<>();
      List<Parameter> trainable = new ArrayList<>();
      List<Parameter> runningStats = new ArrayList<>();
      for (Pair<String, Parameter> p : block.getParameters()) {
        if (p.getValue().requiresGradient()) {
          names.add(p.getKey());
          trainable.add(p.getValue());
        } else {
          runningStats.add(p.getValue());
        }
      }
      List<NDArray> buffers = momentumBuffers(withoutTarget(optimizerState), names, trainable, manager);
      // SwAV: the prototypes (the last layer's weight) are kept at unit length, before and after every step.
      Parameter prototypes = selfSupervised != null && selfSupervised.prototypeCount() > 0
          ? trainable.get(trainable.size() - 1) : null;
      if (prototypes != null) {
        normalizeRows(prototypes, manager);
      }
      // BYOL: the moving-average target network, kept in the optimizer state (see SelfSupervised).
      MovingAverageTarget target = selfSupervised != null && selfSupervised.hasTarget()
          ? MovingAverageTarget.start(spec, selfSupervised, block, optimizerState, manager) : null;
      ParameterStore parameterStore = new ParameterStore(manager, false);
      Objective objective = Objective.of(selfSupervised, soft);

      for (long step = fromGlobalStep; step < fromGlobalStep + steps; step++) {
        for (int slot = 0; slot < batchSize; slot++) {
          int index = slots.indexAt(step, slot);
          labels[slot] = shard.label(index);
          if (soft) {
            shard.softTarget(index, softTargets, slot * classes, classes);
          }
          if (selfSupervised != null) {
            for (int view = 0; view < 2; view++) {
              ContrastiveViews.view(shard.pixelsView(index), spec, selfSupervised.minCropScale(),
                  SampleSchedule.augmentationSeed(options.seed(), workerIndex, step, view * batchSize + slot), images,
                  (view * batchSize + slot) * values);
            }
            for (int view = 0; view < smallCrops; view++) {
              ContrastiveViews.view(shard.pixelsView(index), spec, SelfSupervised.SMALL_CROP_MIN_SCALE,
                  selfSupervised.minCropScale(), smallSize,
                  SampleSchedule.augmentationSeed(options.seed(), workerIndex, step, (2 + view) * batchSize + slot),
                  smallImages, (view * batchSize + slot) * smallValues);
            }
          } else if (augment) {
            long seed = SampleSchedule.augmentationSeed(options.seed(), workerIndex, step, slot);
            ImageTensors.augment(shard.pixelsView(index), spec, options.cropPadding(), options.horizontalFlip(),
                options.cutout(), options.randAugmentOps(), options.randAugmentMagnitude(), seed, images,
                slot * values);
          } else {
            ImageTensors.normalize(shard.pixelsView(index), spec, images, slot * values);
          }
        }
        try (NDManager batch = manager.newSubManager()) {
          NDArray x = batch.create(images, spec.inputShape((long) views * batchSize));
          NDArray y = soft ? batch.create(softTargets, new ai.djl.ndarray.types.Shape(batchSize, classes))
              : batch.create(labels);
          float loss;
          int batchCorrect;
          // oneDNN's convolution backward pass sporadically returns NaN gradients for channel counts
          // that are not a multiple of the SIMD block: a step whose gradients are not finite while
          // its loss is gets recomputed (docs/NOTES.md, "LocalTrainer: recomputing a NaN step").
          int pass = 1;
          while (true) {
            List<NDArray> statsBefore = snapshot(runningStats, batch);
            // The same masks on every pass of the step: they are a function of the step's seed.
            try (NoGrad recording = NoGrad.recording();
                TrainingNoise noise = modelNoise ? TrainingNoise.enter(options.dropout(), options.stochasticDepth(),
                    spec.residualBlocks(), SampleSchedule.augmentationSeed(options.seed(), workerIndex, step, -1))
                    : null) {
              NDArray logits = block.forward(parameterStore, new NDList(x), true).singletonOrThrow();
              NDArray targetProjections = target == null ? null : target.project(parameterStore, x);
              // Small views go through the network in a pass of their own (their own BatchNorm statistics).
              NDArray smallScores = smallCrops == 0 ? null : block.forward(parameterStore, new NDList(batch.create(
                  smallImages, new ai.djl.ndarray.types.Shape((long) smallCrops * batchSize, spec.inputChannels(),
                      smallSize, smallSize))), true).singletonOrThrow();
              NDArray lossArray = switch (objective) {
                case BYOL -> byolLoss(logits, targetProjections);
                case SWAV -> swavLoss(logits, smallScores, selfSupervised.temperature(), selfSupervised.sinkhornEpsilon());
                case NT_XENT -> ntXentLoss(logits, selfSupervised.temperature());
                case SOFT_TARGETS -> softTargetLoss(logits, y);
                case LABELS -> lossFunction.evaluate(new NDList(y), new NDList(logits));
              };
              // Backward directly: DJL's GradientCollector allows one collector per JVM, which would
              // serialize Spark tasks sharing an executor.
              JniUtils.backward((PtNDArray) lossArray, (PtNDArray) lossArray.onesLike(), false, false);
              loss = lossArray.getFloat();
              // From the logits this step trained on: no second forward pass.
              batchCorrect = switch (objective) {
                case BYOL -> countPartnersFound(logits, targetProjections);
                case SWAV -> countSamePrototype(logits);
                case NT_XENT -> countPartnersFound(logits);
                case SOFT_TARGETS, LABELS -> countCorrect(logits, labels, softTargets, classes);
              };
            }
            if (!Float.isFinite(loss)) {
              throw new NonFiniteLossException(String.format(Locale.ROOT,
                  "training loss is %s at global step %d on worker %d (learning rate %.4g)", loss, step, workerIndex,
                  options.learningRate(step)));
            }
            if (gradientsFinite(trainable, batch)) {
              break;
            }
            if (pass == GRADIENT_PASSES) {
              throw new NonFiniteLossException(String.format(Locale.ROOT,
                  "gradients are not finite (loss %s) at global step %d on worker %d in %d passes", loss, step,
                  workerIndex, pass));
            }
            LOG.warn("non-finite gradients with a finite loss at global step {} on worker {} (pass {}/{}; a known "
                + "oneDNN convolution fault); recomputing the step", step, workerIndex, pass, GRADIENT_PASSES);
            for (int i = 0; i < trainable.size(); i++) {
              JniUtils.zeroGrad((PtNDArray) trainable.get(i).getArray());
            }
            // The forward pass updated BatchNorm's running statistics: put the previous ones back.
            for (int i = 0; i < runningStats.size(); i++) {
              runningStats.get(i).getArray().intern(statsBefore.get(i));
            }
            pass++;
          }
          lossSum += (double) loss * batchSize;
          correct += batchCorrect;
          try (NoGrad off = NoGrad.enter()) {
            sgd.step(trainable, buffers, (float) options.learningRate(step), batch);
            if (prototypes != null) {
              normalizeRows(prototypes, batch);
            }
            if (target != null) {
              target.follow(selfSupervised.targetMomentumAt(step, options.totalSteps()), batch);
            }
          }
        }
      }
      ModelWeights newWeights = ModelWeights.fromBlock(block);
      List<String> stateNames = new ArrayList<>(names);
      List<NDArray> stateArrays = new ArrayList<>(buffers);
      if (target != null) {
        target.addTo(stateNames, stateArrays);
      }
      ModelWeights newState = ModelWeights.fromArrays(stateNames, stateArrays);
      // Weights read back from libtorch must be finite; with finite losses and gradients they are,
      // so this is a backstop that the attempt retry of trainSteps handles like a NaN loss.
      requireFinite(newWeights, "weights", fromGlobalStep + steps, workerIndex);
      requireFinite(newState, "optimizer state", fromGlobalStep + steps, workerIndex);
      return new LocalTrainingOutcome(
          newWeights, newState, lossSum, correct, (long) steps * batchSize, (System.nanoTime() - start) / 1e9);
    }
  }

  private static final int GRADIENT_PASSES = 3;

  /** What BYOL's target tensors are named by in the optimizer state, before the target's parameter names. */
  static final String TARGET_PREFIX = "target/";

  /**
   * BYOL's target network: the online network without its predictor, whose parameters (the same
   * names as the online network's first ones) follow the online network's as a moving average. It
   * lives in the optimizer state under {@link #TARGET_PREFIX}, so rounds average it and checkpoints
   * keep it; a fresh run starts it at the online network's values.
   */
  private static final class MovingAverageTarget {
    private final Block block;
    private final List<String> names = new ArrayList<>();
    private final List<Parameter> params = new ArrayList<>();
    private final List<Parameter> online = new ArrayList<>();

    private MovingAverageTarget(Block block) {
      this.block = block;
    }

    static MovingAverageTarget start(ModelSpec spec, SelfSupervised objective, Block onlineBlock, ModelWeights state,
        NDManager manager) {
      MovingAverageTarget t = new MovingAverageTarget(ProjectionNet.newInitializedBlock(spec,
          objective.projectionHidden(), objective.projectionDim(), false, manager));
      java.util.Map<String, Parameter> onlineByName = new java.util.HashMap<>();
      onlineBlock.getParameters().forEach(p -> onlineByName.put(p.getKey(), p.getValue()));
      ModelWeights onlineValues = ModelWeights.fromBlock(onlineBlock);
      ModelWeights.Builder values = ModelWeights.builder();
      for (Pair<String, Parameter> p : t.block.getParameters()) {
        String name = p.getKey();
        t.names.add(name);
        t.params.add(p.getValue());
        t.online.add(onlineByName.get(name));
        ModelWeights from = state.contains(TARGET_PREFIX + name) ? state : onlineValues;
        String key = from == state ? TARGET_PREFIX + name : name;
        values.addOwned(name, from.shape(key), from.values(key));
      }
      values.build().copyInto(t.block);
      return t;
    }

    /**
     * The target's projections of {@code x}, without gradient, in training mode (batch statistics, as
     * BYOL's target). A recomputed step (see trainAttempt) updates its BatchNorm statistics twice; they
     * are averaged with the online network's right after, which the retry does not undo.
     */
    NDArray project(ParameterStore parameterStore, NDArray x) {
      try (NoGrad off = NoGrad.enter()) {
        return block.forward(parameterStore, new NDList(x), true).singletonOrThrow();
      }
    }

    /** {@code target = rate * target + (1 - rate) * online}, for every parameter; gradient recording off. */
    void follow(double rate, NDManager scratch) {
      for (int i = 0; i < params.size(); i++) {
        NDArray moved = online.get(i).getArray().mul((float) (1 - rate));
        moved.attach(scratch);
        params.get(i).getArray().muli((float) rate).addi(moved);
      }
    }

    /** Appends the target's tensors, named for the optimizer state. */
    void addTo(List<String> stateNames, List<NDArray> stateArrays) {
      for (int i = 0; i < params.size(); i++) {
        stateNames.add(TARGET_PREFIX + names.get(i));
        stateArrays.add(params.get(i).getArray());
      }
    }
  }

  /** What a training step minimizes, and what it counts as a correct training example. */
  private enum Objective {
    /** BYOL: predictions against the target's projections; correct = the partner view found. */
    BYOL,
    /** SwAV: swapped prediction of Sinkhorn codes; correct = both views at the same prototype. */
    SWAV,
    /** SimCLR: NT-Xent; correct = the partner view found among the batch's views. */
    NT_XENT,
    /** Cross-entropy against soft targets (distillation); correct = top-1 is the target's top-1. */
    SOFT_TARGETS,
    /** Cross-entropy against labels; correct = top-1 is the label. */
    LABELS;

    static Objective of(SelfSupervised selfSupervised, boolean softTargets) {
      if (selfSupervised == null) {
        return softTargets ? SOFT_TARGETS : LABELS;
      }
      return selfSupervised.hasTarget() ? BYOL : selfSupervised.prototypeCount() > 0 ? SWAV : NT_XENT;
    }
  }

  /** Scales each row of a parameter (SwAV's prototypes) to unit L2 length, in place. */
  private static void normalizeRows(Parameter p, NDManager scratch) {
    try (NoGrad off = NoGrad.enter(); NDManager temporaries = scratch.newSubManager()) {
      NDArray w = p.getArray();
      NDArray norms = w.norm(new int[] {1}, true).maximum(1e-12f);
      norms.attach(temporaries);
      w.divi(norms);
    }
  }

  /** The optimizer state without BYOL's target tensors: the momentum buffers. */
  private static ModelWeights withoutTarget(ModelWeights state) {
    if (state.names().stream().noneMatch(n -> n.startsWith(TARGET_PREFIX))) {
      return state;
    }
    ModelWeights.Builder b = ModelWeights.builder();
    for (String n : state.names()) {
      if (!n.startsWith(TARGET_PREFIX)) {
        b.addOwned(n, state.shape(n), state.values(n));
      }
    }
    return b.build();
  }


  /** Copies of the parameters' arrays (libtorch-owned clones) attached to {@code manager}. */
  private static List<NDArray> snapshot(List<Parameter> params, NDManager manager) {
    List<NDArray> copies = new ArrayList<>(params.size());
    try (NoGrad off = NoGrad.enter()) {
      for (Parameter p : params) {
        NDArray copy = p.getArray().duplicate();
        copy.attach(manager);
        copies.add(copy);
      }
    }
    return copies;
  }

  /**
   * Whether every gradient is finite, with one value read back: the sum of all gradient sums is
   * NaN or infinite if any element is (or if finite gradients overflow it, which is divergence).
   */
  private static boolean gradientsFinite(List<Parameter> params, NDManager manager) {
    try (NDManager scratch = manager.newSubManager();
        NoGrad off = NoGrad.enter()) {
      NDArray total = null;
      for (Parameter p : params) {
        NDArray gradient = p.getArray().getGradient();
        gradient.attach(scratch);
        NDArray sum = gradient.sum();
        total = total == null ? sum : total.addi(sum);
      }
      return total == null || Float.isFinite(total.getFloat());
    }
  }

  private static List<NDArray> momentumBuffers(
      ModelWeights state, List<String> names, List<Parameter> params, NDManager manager) {
    List<NDArray> buffers = new ArrayList<>();
    if (!state.isEmpty() && !state.names().equals(names)) {
      throw new IllegalArgumentException("optimizer state does not fit the model: it has " + state.size()
          + " buffers " + abbreviate(state.names()) + ", the model has " + names.size() + " trainable parameters "
          + abbreviate(names) + "; was it saved for another model spec?");
    }
    for (int i = 0; i < names.size(); i++) {
      if (state.isEmpty()) {
        buffers.add(manager.zeros(params.get(i).getArray().getShape()));
      } else {
        Shape shape = new Shape(state.shape(names.get(i)));
        if (!shape.equals(params.get(i).getArray().getShape())) {
          throw new IllegalArgumentException("optimizer buffer '" + names.get(i) + "' has shape " + shape
              + " but the parameter has " + params.get(i).getArray().getShape());
        }
        // Native storage, filled by an in-place op (see ModelWeights.copyNative for why).
        NDArray b = manager.zeros(shape);
        ModelWeights.copyNative(b, state.values(names.get(i)));
        buffers.add(b);
      }
    }
    return buffers;
  }

  private static String abbreviate(List<String> names) {
    return names.size() <= 3 ? names.toString() : "[" + names.get(0) + ", ..., " + names.get(names.size() - 1) + "]";
  }
}
