package org.semiweak.run;

/**
 * One file a committed stage holds, as its manifest lists it: what a reader checks the folder
 * against before the first job.
 *
 * @param path relative to the stage folder, e.g. {@code labeled/part-00003-….parquet}
 * @param bytes its length
 * @param rows its row count, read from the footer, for Parquet files; null for other files
 * @param checksum {@code crc32:HEX} of the Parquet footer (cheap: the footer holds every page's
 *     offsets and statistics, so a rewritten file changes it) or of the whole content of a small
 *     other file; null for a large non-Parquet file
 */
public record StageFile(String path, long bytes, Long rows, String checksum) {}
