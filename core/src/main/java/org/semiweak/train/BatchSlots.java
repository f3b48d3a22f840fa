package org.semiweak.train;

/**
 * Which shard image fills each slot of each batch: one walk over the whole shard, or, for joint
 * training ({@link TrainOptions#labeledPerBatch()} {@code r > 0}), the first {@code r} slots from
 * a walk over the labeled pool and the others from a walk over the rest, each walk in its own
 * seeded epochs (the labeled images repeat more often, as in Noisy Student's fixed ratio).
 */
record BatchSlots(SampleSchedule whole, int labeledPerBatch, int[] labeled, SampleSchedule labeledWalk,
    int[] rest, SampleSchedule restWalk, int batchSize) {
  static BatchSlots of(ExampleShard shard, TrainOptions options, int workerIndex) {
    int r = options.labeledPerBatch();
    if (r == 0) {
      return new BatchSlots(new SampleSchedule(shard.size(), options.seed(), workerIndex), 0, null, null, null,
          null, options.batchSize());
    }
    int[] labeled = shard.poolIndices(true);
    int[] rest = shard.poolIndices(false);
    if (labeled.length == 0 || rest.length == 0) {
      throw new IllegalArgumentException("joint training takes " + r + " of each batch's " + options.batchSize()
          + " images from the labeled pool and the rest from the others, but worker " + workerIndex + "'s shard of "
          + shard.size() + " images has " + labeled.length + " labeled and " + rest.length + " other images"
          + " (column " + ExampleShard.LABELED_POOL + "); with few labeled images, use fewer workers");
    }
    return new BatchSlots(null, r, labeled, new SampleSchedule(labeled.length, options.seed() + LABELED_WALK,
        workerIndex), rest, new SampleSchedule(rest.length, options.seed(), workerIndex), options.batchSize());
  }

  /** Offsets the seed of the labeled pool's walk from the other pool's. */
  static final long LABELED_WALK = 0x4a4f494e54L;

  /** The shard index of slot {@code slot} of global step {@code step}. */
  int indexAt(long step, int slot) {
    if (whole != null) {
      return whole.indexAt(step * batchSize + slot);
    }
    return slot < labeledPerBatch ? labeled[labeledWalk.indexAt(step * labeledPerBatch + slot)]
        : rest[restWalk.indexAt(step * (batchSize - labeledPerBatch) + slot - labeledPerBatch)];
  }
}
