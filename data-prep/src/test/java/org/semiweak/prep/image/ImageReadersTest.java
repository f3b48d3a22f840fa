package org.semiweak.prep.image;

import static org.assertj.core.api.Assertions.assertThat;

import com.twelvemonkeys.imageio.plugins.jpeg.JPEGImageReaderSpi;
import com.twelvemonkeys.imageio.plugins.webp.WebPImageReaderSpi;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.spi.IIORegistry;
import javax.imageio.spi.ImageReaderSpi;
import org.junit.jupiter.api.Test;
import org.semiweak.prep.TestImages;

class ImageReadersTest {
  @Test
  void eachFormatIsReadByTheReaderChosenForIt() {
    assertThat(readerClass(ImageFormat.JPEG)).as("JPEG: TwelveMonkeys (CMYK, YCCK)")
        .isEqualTo("com.twelvemonkeys.imageio.plugins.jpeg.JPEGImageReader");
    assertThat(readerClass(ImageFormat.WEBP)).as("WebP: TwelveMonkeys")
        .isEqualTo("com.twelvemonkeys.imageio.plugins.webp.WebPImageReader");
    assertThat(readerClass(ImageFormat.PNG)).as("PNG: the JDK's").startsWith("com.sun.imageio.plugins.png.");
    assertThat(readerClass(ImageFormat.GIF)).as("GIF: the JDK's").startsWith("com.sun.imageio.plugins.gif.");
    assertThat(readerClass(ImageFormat.BMP)).as("BMP: the JDK's").startsWith("com.sun.imageio.plugins.bmp.");
  }

  private static String readerClass(ImageFormat format) {
    ImageReader reader = ImageReaders.create(format);
    try {
      return reader.getClass().getName();
    } finally {
      reader.dispose();
    }
  }

  /**
   * What a Spark executor can meet: ImageIO's registry was built before the application jar was on
   * the context class loader, so it lacks the plugins' providers. They are registered again from
   * ImageReaders' own class loader, and WebP and CMYK JPEG decode.
   */
  @Test
  void aRegistryBuiltWithoutThePluginsGetsThemFromOurClassLoader() throws Exception {
    IIORegistry registry = IIORegistry.getDefaultInstance();
    for (Class<? extends ImageReaderSpi> plugin : java.util.List.of(WebPImageReaderSpi.class, JPEGImageReaderSpi.class)) {
      ImageReaderSpi registered = registry.getServiceProviderByClass(plugin);
      if (registered != null) {
        registry.deregisterServiceProvider(registered, ImageReaderSpi.class);
      }
    }
    assertThat(ImageIO.getImageReadersByFormatName("webp").hasNext()).as("ImageIO alone finds no WebP reader").isFalse();

    assertThat(ImageReaders.resolve(ImageFormat.WEBP)).as("WebP provider").isInstanceOf(WebPImageReaderSpi.class);
    assertThat(ImageReaders.resolve(ImageFormat.JPEG)).as("JPEG provider").isInstanceOf(JPEGImageReaderSpi.class);
    assertThat(ImageIO.getImageReadersByFormatName("webp").next().getClass().getName()).as("registered for everyone again")
        .isEqualTo("com.twelvemonkeys.imageio.plugins.webp.WebPImageReader");
    assertThat(ImageIO.getImageReadersByFormatName("jpeg").next().getClass().getName()).as("ahead of the JDK's JPEG reader again")
        .isEqualTo("com.twelvemonkeys.imageio.plugins.jpeg.JPEGImageReader");

    ImageCodec codec = new ImageCodec(32, 3, 1_000_000);
    assertThat(codec.canonicalize(TestImages.fixture("web/lossless.webp")).width()).as("a WebP decodes").isEqualTo(32);
    assertThat(codec.canonicalize(TestImages.fixture("web/ycck.jpg")).width()).as("a YCCK JPEG decodes").isEqualTo(32);
  }
}
