/**
 * The one training loop: SGD on a worker's shard ({@link org.semiweak.train.LocalTrainer}),
 * synchronous rounds of model averaging over Spark ({@link org.semiweak.train.DistributedTrainer})
 * or in process ({@link org.semiweak.train.InProcessTrainer}), checkpoints, and evaluation
 * ({@link org.semiweak.train.Evaluator}).
 */
package org.semiweak.train;
