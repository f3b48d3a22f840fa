package org.semiweak.prep;

/**
 * Why a record went to quarantine instead of an image shard; {@link #code()} is the value of the
 * quarantine {@code reason} column and of the manifest count {@code quarantined.<code>}.
 */
public enum Reason {
  /** The file or entry has zero bytes. */
  EMPTY("empty"),
  /** The bytes do not start with the magic number of any image format. */
  NOT_AN_IMAGE("not-an-image"),
  /**
   * A recognized image format that this build cannot decode: TIFF, HEIF/AVIF, or a JPEG coding the
   * decoder lacks (arithmetic coding). PNG, JPEG (including CMYK and YCCK), GIF, BMP and WebP
   * (lossy, lossless, with alpha; the first frame of an animation) decode.
   */
  UNSUPPORTED_FORMAT("unsupported-format"),
  /** The image header or data is invalid. */
  CORRUPT("corrupt"),
  /** The data ends early (no PNG IEND, no JPEG EOI, end of stream while decoding). */
  TRUNCATED("truncated"),
  /** The declared pixel count exceeds {@code max-image-pixels}, or the file exceeds {@code max-file-bytes}. */
  TOO_LARGE("too-large"),
  /** The file exists but could not be read (I/O error). */
  UNREADABLE("unreadable"),
  /** A metadata row names a file that is not in the input folder. */
  MISSING_FILE("missing-file"),
  /** A metadata row's path is absolute or leaves the input folder. */
  UNSAFE_PATH("unsafe-path"),
  /** An image file in the input folder has no metadata row (with {@code unlisted-files: quarantine}). */
  NO_METADATA("no-metadata"),
  /** A metadata row or sidecar could not be parsed. */
  BAD_METADATA("bad-metadata"),
  /** The label is neither a class name nor a class index of the vocabulary. */
  BAD_LABEL("bad-label"),
  /** A labeled or test image has no label. */
  MISSING_LABEL("missing-label"),
  /** A tar entry name is absolute, contains {@code ..}, or is a link. */
  UNSAFE_NAME("unsafe-name"),
  /** A WebDataset sample (key) has no image entry. */
  MISSING_IMAGE("missing-image"),
  /** A tar file could not be read past some point; its remaining entries are lost. */
  CORRUPT_ARCHIVE("corrupt-archive"),
  /**
   * A file in an input folder that looks like data (an archive, IDX or Parquet file; an image beside
   * WebDataset shards) but that the input's source does not read: counted, never silently passed over.
   */
  NOT_READ("not-read"),
  /** Another record with the same image id but different pixels was kept. */
  DUPLICATE_ID("duplicate-id");

  private final String code;

  Reason(String code) {
    this.code = code;
  }

  public String code() {
    return code;
  }
}
