package org.semiweak.prep.image;

/**
 * An image in the run's canonical form: square, {@code image-size} pixels wide, 1 or 3 channels,
 * 8 bits, PNG encoded.
 *
 * @param png the PNG bytes
 * @param width pixels
 * @param height pixels
 * @param channels 1 (gray) or 3 (RGB)
 * @param contentHash SHA-256 (hex) of the dimensions and the raw pixel bytes: equal for exact duplicates
 */
public record CanonicalImage(byte[] png, int width, int height, int channels, String contentHash) {}
