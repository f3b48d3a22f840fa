package org.semiweak.testing.cluster;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.stream.Stream;

/** Builds small jars on the fly: of class directories, or of a few classes with their nested classes. */
public final class JarBuilder {
  private JarBuilder() {}

  /** A jar holding every file under each of {@code dirs} (earlier directories win on duplicates). */
  public static Path ofDirectories(Path jar, List<Path> dirs) {
    try (JarOutputStream out = open(jar, null)) {
      java.util.Set<String> written = new java.util.HashSet<>();
      for (Path dir : dirs) {
        try (Stream<Path> files = Files.walk(dir)) {
          for (Path f : (Iterable<Path>) files.filter(Files::isRegularFile).sorted()::iterator) {
            String name = dir.relativize(f).toString().replace('\\', '/');
            if (!name.equals("META-INF/MANIFEST.MF") && written.add(name)) {
              add(out, name, f);
            }
          }
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write jar " + jar, e);
    }
    return jar;
  }

  /**
   * A jar holding {@code classes} and their nested and anonymous classes ({@code Outer$*.class}),
   * read from the directory each was loaded from, with {@code mainClass} in the manifest.
   */
  public static Path ofClasses(Path jar, Class<?> mainClass, Class<?>... classes) {
    try (JarOutputStream out = open(jar, mainClass.getName())) {
      java.util.Set<String> written = new java.util.HashSet<>();
      for (Class<?> c : Stream.concat(Stream.of(mainClass), Stream.of(classes)).toList()) {
        Path root = Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI());
        if (!Files.isDirectory(root)) {
          throw new IllegalArgumentException(c.getName() + " was loaded from " + root
              + ", not from a class directory; build the jar from its class directory");
        }
        String pkg = c.getPackageName().replace('.', '/');
        String simple = c.getName().substring(c.getPackageName().length() + 1);
        try (Stream<Path> files = Files.list(root.resolve(pkg))) {
          for (Path f : (Iterable<Path>) files.sorted()::iterator) {
            String file = f.getFileName().toString();
            if ((file.equals(simple + ".class") || file.startsWith(simple + "$")) && written.add(pkg + "/" + file)) {
              add(out, pkg + "/" + file, f);
            }
          }
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write jar " + jar, e);
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
    return jar;
  }

  private static JarOutputStream open(Path jar, String mainClass) throws IOException {
    Files.createDirectories(jar.toAbsolutePath().getParent());
    Manifest manifest = new Manifest();
    manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
    if (mainClass != null) {
      manifest.getMainAttributes().put(Attributes.Name.MAIN_CLASS, mainClass);
    }
    OutputStream file = Files.newOutputStream(jar);
    return new JarOutputStream(file, manifest);
  }

  private static void add(JarOutputStream out, String name, Path file) throws IOException {
    out.putNextEntry(new JarEntry(name));
    Files.copy(file, out);
    out.closeEntry();
  }
}
