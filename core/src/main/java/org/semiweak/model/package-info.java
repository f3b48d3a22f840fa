/**
 * Image classifiers as data: a {@link org.semiweak.model.ModelSpec} (architecture), a {@link
 * org.semiweak.model.ModelWeights} snapshot, their storage ({@link org.semiweak.model.ModelIO}),
 * image decoding ({@link org.semiweak.model.ImageTensors}) and batched inference ({@link
 * org.semiweak.model.Inference}) on the device Spark gave the task.
 */
package org.semiweak.model;
