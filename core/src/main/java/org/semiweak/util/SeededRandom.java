package org.semiweak.util;

/**
 * Stateless, splittable randomness: a value is a pure function of a seed and keys, so results do
 * not depend on partitioning, task retries or iteration order (SplitMix64 finalizer).
 */
public final class SeededRandom {
  private SeededRandom() {}

  public static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
    z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
    return z ^ (z >>> 31);
  }

  public static long hash(long seed, long... keys) {
    long h = mix(seed + 0x9e3779b97f4a7c15L);
    for (long k : keys) {
      h = mix(h ^ (k + 0x9e3779b97f4a7c15L));
    }
    return h;
  }

  public static long hash(long seed, String key) {
    long h = mix(seed + 0x9e3779b97f4a7c15L);
    for (int i = 0; i < key.length(); i++) {
      h = mix(h ^ key.charAt(i)) + i;
    }
    return mix(h);
  }

  /** A uniform double in [0, 1) from a hash. */
  public static double unit(long hash) {
    return (hash >>> 11) * 0x1.0p-53;
  }
}
