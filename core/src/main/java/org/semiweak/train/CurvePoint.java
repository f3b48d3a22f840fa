package org.semiweak.train;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.io.Serializable;

/**
 * One point of the learning curve, per round: the global step reached, the mean training loss of
 * the round over all workers, the round's throughput in images per second, and its training-batch
 * top-1 accuracy.
 *
 * @param trainAccuracy the fraction in [0, 1] of the round's training images whose top-1 class is
 *     their target class ({@link LocalTrainer#countCorrect}), over all workers. It is measured on
 *     the training batches as they were trained: augmented, with the model in train mode (dropout,
 *     batch statistics) and with the weights of the step before each update, so it is not a
 *     held-out accuracy. Null for rounds restored from checkpoints written before it was recorded;
 *     left out of the JSON when null.
 */
public record CurvePoint(int round, long globalStep, double meanLoss, double imagesPerSecond,
    @JsonInclude(JsonInclude.Include.NON_NULL) Double trainAccuracy) implements Serializable {}
