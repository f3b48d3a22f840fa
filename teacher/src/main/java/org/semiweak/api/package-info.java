/**
 * semiweak as a library for notebooks and other Spark jobs: scoring as a Spark ML Transformer
 * ({@link org.semiweak.api.ImageScorer}) and selection as a function over a DataFrame of scores
 * ({@link org.semiweak.api.Selections}), both running the code of the score and select stages.
 */
package org.semiweak.api;
