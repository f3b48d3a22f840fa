/**
 * Data preparation: turns weakly labeled raw images (IDX files, folders with metadata, WebDataset
 * tar shards; one input or several, {@link org.semiweak.prep.PrepInput}) into the canonical Parquet
 * image shards that every later stage reads.
 *
 * <p>{@link org.semiweak.prep.PrepareImages} is the stage; its options are listed in
 * {@link org.semiweak.prep.PrepareImages#OPTIONS}.
 */
package org.semiweak.prep;
