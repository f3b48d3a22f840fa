package org.semiweak.train;

import java.util.SplittableRandom;
import org.semiweak.util.SeededRandom;

/**
 * Which image of a shard fills each slot of each batch: the worker walks its shard in epochs, each
 * a permutation seeded by (seed, worker, epoch), and position {@code step * batchSize + i} of that
 * endless walk fills slot {@code i} of global step {@code step}. Depends on nothing else, so rounds
 * chained one after another replay one long run and a retried task replays itself.
 */
final class SampleSchedule {
  static final long PERMUTATION_DOMAIN = 1;
  static final long AUGMENTATION_DOMAIN = 2;

  private final int size;
  private final long seed;
  private final int worker;
  private long cachedEpoch = -1;
  private int[] cachedPermutation;

  SampleSchedule(int size, long seed, int worker) {
    this.size = size;
    this.seed = seed;
    this.worker = worker;
  }

  /** The shard index at position {@code position} of the walk. */
  int indexAt(long position) {
    long epoch = position / size;
    if (epoch != cachedEpoch) {
      cachedPermutation = permutation(epoch);
      cachedEpoch = epoch;
    }
    return cachedPermutation[(int) (position % size)];
  }

  private int[] permutation(long epoch) {
    int[] p = new int[size];
    for (int i = 0; i < size; i++) {
      p[i] = i;
    }
    SplittableRandom rng = new SplittableRandom(SeededRandom.hash(seed, PERMUTATION_DOMAIN, worker, epoch));
    for (int i = size - 1; i > 0; i--) {
      int j = rng.nextInt(i + 1);
      int t = p[i];
      p[i] = p[j];
      p[j] = t;
    }
    return p;
  }

  /** Seed of the augmentation of slot {@code slot} of global step {@code step}. */
  static long augmentationSeed(long seed, int worker, long step, int slot) {
    return SeededRandom.hash(seed, AUGMENTATION_DOMAIN, worker, step, slot);
  }
}
