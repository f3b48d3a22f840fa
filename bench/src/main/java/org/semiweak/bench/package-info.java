/** Benchmarks of semiweak stages (synthetic scores, Fashion-MNIST images), run by hand (see docs/BENCHMARKS.md), not by CI. */
package org.semiweak.bench;
