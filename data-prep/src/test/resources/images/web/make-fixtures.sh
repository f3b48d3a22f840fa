#!/bin/sh
# Makes the web-image fixtures of ImageCodecTest and PrepareImagesFolderTest: real WebP files written
# by libwebp (through Pillow) and CMYK/YCCK JPEGs written by libjpeg (through Pillow, and through a
# 30-line C program for YCCK, which Pillow cannot write). The files are committed; the tests need
# none of these tools. Run it from anywhere: ./make-fixtures.sh
#
# Needs: python3 with Pillow built with WebP (Debian: python3-pil, libwebp 1.2.4 here), gcc and
# libjpeg headers (Debian: libjpeg62-turbo-dev). Encoders differ between versions, so a rerun may
# give other bytes; the tests check pixels against the pictures below, not bytes.
#
# The pictures (x, y from 0 at the top left; every file is 32x32):
#   gradient   R = 8x + 4, G = 8y + 4, B = 255 - 4(x + y)   (smooth, so lossy coding stays close)
#   alpha      the gradient with alpha 0 where x < 16, 255 where x >= 16 and y < 16, 128 elsewhere
#   patches    CMYK, four 16x16 squares: top left (0,0,0,0) white, top right (0,0,0,255) black,
#              bottom left (0,0,0,128) gray, bottom right (255,0,0,0) cyan
#
# The files:
#   lossless.webp        gradient, VP8L (lossless): decodes to exactly the gradient
#   lossy.webp           gradient, VP8 (lossy), quality 90
#   alpha-lossless.webp  alpha, VP8L, exact=True (keeps the color under transparent pixels)
#   alpha-lossy.webp     alpha, VP8X + ALPH (lossless alpha) + VP8 (lossy color), quality 90
#   animated.webp        two lossless frames, the gradient then solid blue (ANIM/ANMF chunks)
#   cmyk.jpg             patches, Adobe APP14 transform 0 (plain CMYK), inverted as Adobe writes it
#                        (quality 95; libjpeg does not subsample CMYK)
#   ycck.jpg             patches, Adobe APP14 transform 2 (YCCK), inverted as Adobe writes it, no
#                        chroma subsampling (quality 95)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cat > "$tmp/ycck.c" <<'C'
/* Writes a YCCK JPEG from inverted CMYK rows on stdin (width height as arguments) to stdout. */
#include <stdio.h>
#include <stdlib.h>
#include <jpeglib.h>
int main(int argc, char **argv) {
  struct jpeg_compress_struct c;
  struct jpeg_error_mgr err;
  int w = atoi(argv[1]), h = atoi(argv[2]);
  unsigned char *row = malloc((size_t) w * 4);
  c.err = jpeg_std_error(&err);
  jpeg_create_compress(&c);
  jpeg_stdio_dest(&c, stdout);
  c.image_width = w;
  c.image_height = h;
  c.input_components = 4;
  c.in_color_space = JCS_CMYK;
  jpeg_set_defaults(&c);
  jpeg_set_colorspace(&c, JCS_YCCK); /* also makes libjpeg write the Adobe marker, transform 2 */
  /* No chroma subsampling: its upsampling would blur the color edges the tests check. */
  for (int i = 0; i < 4; i++) c.comp_info[i].h_samp_factor = c.comp_info[i].v_samp_factor = 1;
  jpeg_set_quality(&c, 95, TRUE);
  jpeg_start_compress(&c, TRUE);
  while (c.next_scanline < c.image_height) {
    if (fread(row, 4, w, stdin) != (size_t) w) return 1;
    jpeg_write_scanlines(&c, &row, 1);
  }
  jpeg_finish_compress(&c);
  jpeg_destroy_compress(&c);
  return 0;
}
C
gcc -O -o "$tmp/ycck" "$tmp/ycck.c" -ljpeg

/usr/bin/python3 - "$here" "$tmp" <<'PY'
import subprocess
import sys
from PIL import Image

out, tmp = sys.argv[1], sys.argv[2]
N = 32

def gradient(x, y):
    return (8 * x + 4, 8 * y + 4, 255 - 4 * (x + y))

def alpha(x, y):
    return 0 if x < 16 else 255 if y < 16 else 128

PATCHES = [(0, 0, 0, 0), (0, 0, 0, 255), (0, 0, 0, 128), (255, 0, 0, 0)]

rgb = Image.new("RGB", (N, N))
rgb.putdata([gradient(x, y) for y in range(N) for x in range(N)])
rgba = Image.new("RGBA", (N, N))
rgba.putdata([gradient(x, y) + (alpha(x, y),) for y in range(N) for x in range(N)])
cmyk = Image.new("CMYK", (N, N))
cmyk.putdata([PATCHES[2 * (y // 16) + x // 16] for y in range(N) for x in range(N)])

rgb.save(f"{out}/lossless.webp", lossless=True)
rgb.save(f"{out}/lossy.webp", quality=90)
rgba.save(f"{out}/alpha-lossless.webp", lossless=True, exact=True)
rgba.save(f"{out}/alpha-lossy.webp", quality=90)
blue = Image.new("RGB", (N, N), (0, 0, 255))
rgb.save(f"{out}/animated.webp", save_all=True, append_images=[blue], duration=100, loop=0, lossless=True)

# Pillow writes CMYK JPEGs inverted, with an Adobe marker, as Photoshop does.
cmyk.save(f"{out}/cmyk.jpg", quality=95)
inverted = bytes(255 - v for px in cmyk.getdata() for v in px)
with open(f"{out}/ycck.jpg", "wb") as f:
    subprocess.run([f"{tmp}/ycck", str(N), str(N)], input=inverted, stdout=f, check=True)

# Read back with libwebp/libjpeg (through Pillow) to check each file is what it says.
assert list(Image.open(f"{out}/lossless.webp").convert("RGB").getdata()) == list(rgb.getdata())
assert Image.open(f"{out}/animated.webp").n_frames == 2
for name in ("cmyk.jpg", "ycck.jpg"):
    im = Image.open(f"{out}/{name}")
    assert im.mode == "CMYK", (name, im.mode)
    assert im.info.get("adobe") is not None, name
    worst = max(abs(a - b) for p, q in zip(im.getdata(), cmyk.getdata()) for a, b in zip(p, q))
    assert worst <= 4, (name, worst)
    print(name, "adobe transform", im.info.get("adobe_transform"), "worst CMYK error", worst)
PY
ls -l "$here"/*.webp "$here"/*.jpg
