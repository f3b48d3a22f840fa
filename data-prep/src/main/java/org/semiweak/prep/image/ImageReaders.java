package org.semiweak.prep.image;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Arrays;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import javax.imageio.ImageReader;
import javax.imageio.spi.IIORegistry;
import javax.imageio.spi.ImageReaderSpi;

/**
 * The ImageIO reader of each {@link ImageFormat}, picked by its provider class rather than left to
 * whichever plugin the JVM's registry happens to hold.
 *
 * <p>JPEG and WebP are read by the TwelveMonkeys plugins ({@code com.twelvemonkeys.imageio:imageio-jpeg},
 * {@code imageio-webp}): the JDK has no WebP reader, and its JPEG reader refuses CMYK and YCCK
 * JPEGs, which TwelveMonkeys converts to RGB. PNG, GIF and BMP are read by the JDK's readers.
 *
 * <p>Why the plugins are not simply looked up: ImageIO builds its registry once per JVM, from the
 * service files visible to the context class loader of the first thread that uses ImageIO. In a
 * Spark executor that thread may not see the application jar (another library decoded an image
 * first, or a thread of Spark's own), and the registry then never learns of the plugins: WebP
 * would have no reader and CMYK JPEGs would go to the JDK's reader. {@code ImageIO.scanForPlugins()}
 * would depend on the calling thread's context class loader again. Instead, a provider missing from
 * the registry is instantiated from the class loader that loaded this class (which, being in the
 * same jar or class path as the plugins, sees them) and registered, once per JVM; registering also
 * lets the TwelveMonkeys JPEG provider find the JDK reader it delegates to. A plugin that is not on
 * the class path at all is a packaging error: it fails the task with {@link IllegalStateException}
 * naming the artifact, rather than quarantining every image of the format.
 */
final class ImageReaders {
  /** Provider class and Maven artifact of the formats that need a plugin. */
  private static final Map<ImageFormat, String[]> PLUGINS = Map.of(
      ImageFormat.JPEG, new String[] {"com.twelvemonkeys.imageio.plugins.jpeg.JPEGImageReaderSpi", "com.twelvemonkeys.imageio:imageio-jpeg"},
      ImageFormat.WEBP, new String[] {"com.twelvemonkeys.imageio.plugins.webp.WebPImageReaderSpi", "com.twelvemonkeys.imageio:imageio-webp"});

  private static final Map<ImageFormat, ImageReaderSpi> RESOLVED = new ConcurrentHashMap<>();

  private ImageReaders() {}

  /** A new reader of the format (readers are not thread safe; dispose it after use). */
  static ImageReader create(ImageFormat format) {
    ImageReaderSpi provider = RESOLVED.computeIfAbsent(format, ImageReaders::resolve);
    try {
      return provider.createReaderInstance();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create a " + format + " reader from " + provider.getClass().getName(), e);
    }
  }

  /** The provider of the format's reader, registered if the registry lacks it; not cached. */
  static ImageReaderSpi resolve(ImageFormat format) {
    IIORegistry registry = IIORegistry.getDefaultInstance();
    String[] plugin = PLUGINS.get(format);
    if (plugin == null) {
      Iterator<ImageReaderSpi> builtIn = registry.getServiceProviders(ImageReaderSpi.class,
          spi -> Arrays.asList(((ImageReaderSpi) spi).getFormatNames()).contains(format.imageIoName()), true);
      if (!builtIn.hasNext()) {
        throw new IllegalStateException("no ImageIO reader for " + format + " in this JVM; the JDK should have one");
      }
      return builtIn.next();
    }
    Class<? extends ImageReaderSpi> type = pluginClass(format, plugin[0], plugin[1]);
    ImageReaderSpi provider = registry.getServiceProviderByClass(type);
    if (provider == null) {
      try {
        registry.registerServiceProvider(type.getDeclaredConstructor().newInstance(), ImageReaderSpi.class);
      } catch (ReflectiveOperationException e) {
        throw new IllegalStateException("cannot instantiate the " + format + " reader provider " + type.getName(), e);
      }
      // A provider may deregister itself on registration (the JPEG one does when it finds no JDK reader to delegate to).
      provider = registry.getServiceProviderByClass(type);
      if (provider == null) {
        throw new IllegalStateException(type.getName() + " refused to register: " + format
            + " images cannot be decoded in this JVM (is the JDK's own " + format + " reader missing?)");
      }
    }
    return provider;
  }

  private static Class<? extends ImageReaderSpi> pluginClass(ImageFormat format, String className, String artifact) {
    try {
      return Class.forName(className, true, ImageReaders.class.getClassLoader()).asSubclass(ImageReaderSpi.class);
    } catch (ClassNotFoundException | LinkageError e) {
      throw new IllegalStateException(format + " decoding needs the ImageIO plugin " + artifact + " ("
          + className + ") on the class path; the application jar bundles it, so this JVM runs without that jar"
          + " or with a jar built without the plugin", e);
    }
  }
}
