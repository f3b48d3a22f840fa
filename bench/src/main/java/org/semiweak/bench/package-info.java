/** Benchmarks of semiweak stages on synthetic data, run by hand (see docs/BENCHMARKS.md), not by CI. */
package org.semiweak.bench;
