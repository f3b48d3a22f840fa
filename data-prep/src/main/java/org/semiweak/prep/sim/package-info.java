/** The demo simulation of weak supervision on Fashion-MNIST: the built-in vocabulary and seeded hashtags. */
package org.semiweak.prep.sim;
