package org.semiweak.train;

import java.io.Serializable;

/**
 * One point of the learning curve, per round: the global step reached, the mean training loss of
 * the round over all workers, and the round's throughput in images per second.
 */
public record CurvePoint(int round, long globalStep, double meanLoss, double imagesPerSecond)
    implements Serializable {}
