package org.semiweak.prep.image;

import org.semiweak.prep.Reason;

/**
 * Recognizes an image format by its magic bytes and reads the declared dimensions from the header,
 * without decoding, so that oversized images (decompression bombs) are refused before any pixel
 * buffer is allocated.
 */
public enum ImageFormat {
  PNG("png"),
  JPEG("jpeg"),
  GIF("gif"),
  BMP("bmp"),
  WEBP("webp");

  private static final byte[] PNG_SIGNATURE = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

  private final String imageIoName;

  ImageFormat(String imageIoName) {
    this.imageIoName = imageIoName;
  }

  /** The format name ImageIO knows the decoder by. */
  public String imageIoName() {
    return imageIoName;
  }

  /** A format and the dimensions its header declares. */
  public record Header(ImageFormat format, long width, long height) {
    public long pixels() {
      return width * height;
    }
  }

  /**
   * Sniffs the format and reads the declared dimensions.
   *
   * @throws ImageRejectedException {@code empty}, {@code not-an-image}, {@code unsupported-format}
   *     (TIFF, HEIF/AVIF), {@code truncated} (header cut off) or {@code corrupt} (invalid header)
   */
  public static Header readHeader(byte[] b) throws ImageRejectedException {
    if (b.length == 0) {
      throw new ImageRejectedException(Reason.EMPTY, "zero bytes");
    }
    if (startsWith(b, PNG_SIGNATURE)) {
      return pngHeader(b);
    }
    if (b.length >= 3 && (b[0] & 0xff) == 0xff && (b[1] & 0xff) == 0xd8 && (b[2] & 0xff) == 0xff) {
      return jpegHeader(b);
    }
    if (startsWith(b, "GIF87a".getBytes()) || startsWith(b, "GIF89a".getBytes())) {
      if (b.length < 10) {
        throw new ImageRejectedException(Reason.TRUNCATED, "GIF header cut off after " + b.length + " bytes");
      }
      return checked(new Header(GIF, u16le(b, 6), u16le(b, 8)));
    }
    if (b.length >= 2 && b[0] == 'B' && b[1] == 'M') {
      return bmpHeader(b);
    }
    if (isWebP(b)) {
      return webpHeader(b);
    }
    String unsupported = unsupportedFormat(b);
    if (unsupported != null) {
      throw new ImageRejectedException(Reason.UNSUPPORTED_FORMAT,
          unsupported + " images are not supported; convert them to PNG, JPEG or WebP");
    }
    throw new ImageRejectedException(Reason.NOT_AN_IMAGE,
        "no PNG, JPEG, GIF, BMP or WebP signature; starts with " + hexPrefix(b, 8));
  }

  private static Header pngHeader(byte[] b) throws ImageRejectedException {
    if (b.length < 33) {
      throw new ImageRejectedException(Reason.TRUNCATED, "PNG header cut off after " + b.length + " bytes");
    }
    long len = u32be(b, 8);
    if (len != 13 || b[12] != 'I' || b[13] != 'H' || b[14] != 'D' || b[15] != 'R') {
      throw new ImageRejectedException(Reason.CORRUPT, "PNG does not start with a 13-byte IHDR chunk");
    }
    return checked(new Header(PNG, u32be(b, 16), u32be(b, 20)));
  }

  private static Header jpegHeader(byte[] b) throws ImageRejectedException {
    int i = 2;
    while (true) {
      // Markers may be preceded by any number of 0xFF fill bytes.
      while (i < b.length && (b[i] & 0xff) != 0xff) {
        i++;
      }
      while (i < b.length && (b[i] & 0xff) == 0xff) {
        i++;
      }
      if (i >= b.length) {
        throw new ImageRejectedException(Reason.TRUNCATED, "JPEG ends before its frame header (SOF)");
      }
      int marker = b[i] & 0xff;
      i++;
      if (marker == 0xd8 || marker == 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
        continue; // markers without a length
      }
      if (marker == 0xd9 || marker == 0xda) {
        throw new ImageRejectedException(Reason.CORRUPT, "JPEG has no frame header (SOF) before its image data");
      }
      if (i + 2 > b.length) {
        throw new ImageRejectedException(Reason.TRUNCATED, "JPEG ends inside marker segment 0x" + Integer.toHexString(marker));
      }
      int len = u16be(b, i);
      boolean sof = marker >= 0xc0 && marker <= 0xcf && marker != 0xc4 && marker != 0xc8 && marker != 0xcc;
      if (sof) {
        if (i + 7 > b.length) {
          throw new ImageRejectedException(Reason.TRUNCATED, "JPEG ends inside its frame header");
        }
        return checked(new Header(JPEG, u16be(b, i + 5), u16be(b, i + 3)));
      }
      if (len < 2) {
        throw new ImageRejectedException(Reason.CORRUPT, "JPEG marker segment 0x" + Integer.toHexString(marker) + " has length " + len);
      }
      i += len;
    }
  }

  private static Header bmpHeader(byte[] b) throws ImageRejectedException {
    if (b.length < 26) {
      throw new ImageRejectedException(Reason.TRUNCATED, "BMP header cut off after " + b.length + " bytes");
    }
    long dibSize = u32le(b, 14);
    if (dibSize == 12) {
      return checked(new Header(BMP, u16le(b, 18), u16le(b, 20)));
    }
    int w = (int) u32le(b, 18);
    int h = (int) u32le(b, 22);
    return checked(new Header(BMP, Math.abs((long) w), Math.abs((long) h)));
  }

  private static boolean isWebP(byte[] b) {
    return b.length >= 12 && b[0] == 'R' && b[1] == 'I' && b[2] == 'F' && b[3] == 'F'
        && b[8] == 'W' && b[9] == 'E' && b[10] == 'B' && b[11] == 'P';
  }

  /**
   * The first chunk of a WebP file says how it is coded and holds the dimensions: {@code VP8 } (lossy:
   * 14-bit sizes after the frame start code), {@code VP8L} (lossless: 14-bit sizes minus one after the
   * 0x2f signature) or {@code VP8X} (extended, for alpha with lossy data, animation or metadata:
   * 24-bit canvas sizes minus one).
   */
  private static Header webpHeader(byte[] b) throws ImageRejectedException {
    if (b.length < 16) {
      throw new ImageRejectedException(Reason.TRUNCATED, "WebP header cut off after " + b.length + " bytes");
    }
    String chunk = new String(b, 12, 4, java.nio.charset.StandardCharsets.ISO_8859_1);
    int needed = chunk.equals("VP8L") ? 25 : 30;
    if (b.length < needed) {
      throw new ImageRejectedException(Reason.TRUNCATED, "WebP " + chunk.strip() + " header cut off after " + b.length + " bytes");
    }
    switch (chunk) {
      case "VP8 " -> {
        if ((b[23] & 0xff) != 0x9d || (b[24] & 0xff) != 0x01 || (b[25] & 0xff) != 0x2a) {
          throw new ImageRejectedException(Reason.CORRUPT, "WebP VP8 frame has no start code (9d 01 2a) at byte 23");
        }
        return checked(new Header(WEBP, u16le(b, 26) & 0x3fff, u16le(b, 28) & 0x3fff));
      }
      case "VP8L" -> {
        if ((b[20] & 0xff) != 0x2f) {
          throw new ImageRejectedException(Reason.CORRUPT, "WebP VP8L data does not start with its signature byte 0x2f");
        }
        long bits = u32le(b, 21);
        return checked(new Header(WEBP, (bits & 0x3fff) + 1, ((bits >> 14) & 0x3fff) + 1));
      }
      case "VP8X" -> {
        return checked(new Header(WEBP, u24le(b, 24) + 1, u24le(b, 27) + 1));
      }
      default -> throw new ImageRejectedException(Reason.CORRUPT,
          "WebP starts with chunk " + hexPrefix(java.util.Arrays.copyOfRange(b, 12, 16), 4) + ", not VP8, VP8L or VP8X");
    }
  }

  private static Header checked(Header h) throws ImageRejectedException {
    if (h.width() <= 0 || h.height() <= 0) {
      throw new ImageRejectedException(Reason.CORRUPT,
          h.format() + " header declares " + h.width() + "x" + h.height() + " pixels");
    }
    return h;
  }

  private static String unsupportedFormat(byte[] b) {
    if (b.length >= 4 && ((b[0] == 'I' && b[1] == 'I' && b[2] == 42 && b[3] == 0)
        || (b[0] == 'M' && b[1] == 'M' && b[2] == 0 && b[3] == 42))) {
      return "TIFF";
    }
    if (b.length >= 12 && b[4] == 'f' && b[5] == 't' && b[6] == 'y' && b[7] == 'p') {
      return "HEIF/AVIF";
    }
    return null;
  }

  static boolean startsWith(byte[] b, byte[] prefix) {
    if (b.length < prefix.length) {
      return false;
    }
    for (int i = 0; i < prefix.length; i++) {
      if (b[i] != prefix[i]) {
        return false;
      }
    }
    return true;
  }

  static String hexPrefix(byte[] b, int n) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < Math.min(n, b.length); i++) {
      sb.append(String.format("%02x ", b[i] & 0xff));
    }
    return sb.toString().strip();
  }

  static long u32be(byte[] b, int i) {
    return ((long) (b[i] & 0xff) << 24) | ((b[i + 1] & 0xff) << 16) | ((b[i + 2] & 0xff) << 8) | (b[i + 3] & 0xff);
  }

  static long u32le(byte[] b, int i) {
    return ((long) (b[i + 3] & 0xff) << 24) | ((b[i + 2] & 0xff) << 16) | ((b[i + 1] & 0xff) << 8) | (b[i] & 0xff);
  }

  static long u24le(byte[] b, int i) {
    return ((b[i + 2] & 0xff) << 16) | ((b[i + 1] & 0xff) << 8) | (b[i] & 0xff);
  }

  static int u16be(byte[] b, int i) {
    return ((b[i] & 0xff) << 8) | (b[i + 1] & 0xff);
  }

  static int u16le(byte[] b, int i) {
    return ((b[i + 1] & 0xff) << 8) | (b[i] & 0xff);
  }
}
