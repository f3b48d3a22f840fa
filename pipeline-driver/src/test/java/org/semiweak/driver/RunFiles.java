package org.semiweak.driver;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.stream.Stream;

/** What the damage tests do to the files of a local run directory, as other tools or accidents would. */
final class RunFiles {
  private RunFiles() {}

  static Path copyOf(Path run, Path copy) throws IOException {
    try (Stream<Path> s = Files.walk(run)) {
      for (Path p : s.toList()) {
        Path target = copy.resolve(run.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(target);
        } else {
          Files.copy(p, target);
        }
      }
    }
    return copy;
  }

  /** The largest data file of a Parquet folder (the one holding rows, when some are empty). */
  static Path largestPart(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.filter(p -> p.getFileName().toString().startsWith("part-"))
          .max(Comparator.comparingLong(p -> {
            try {
              return Files.size(p);
            } catch (IOException e) {
              throw new UncheckedIOException(e);
            }
          }))
          .orElseThrow(() -> new AssertionError("no part file in " + dir));
    }
  }

  /**
   * Overwrites the first page header (right after the leading magic number) with garbage: the file
   * keeps its length and footer, and fails only when a task decodes the page. Its Hadoop {@code .crc}
   * goes too, as for a file changed by a tool that does not know about it.
   */
  static void corruptFirstPage(Path file) throws IOException {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
      byte[] garbage = new byte[64];
      java.util.Arrays.fill(garbage, (byte) 0xff);
      ch.write(java.nio.ByteBuffer.wrap(garbage), 4);
    }
    Files.deleteIfExists(crc(file));
  }

  /** Hadoop's checksum side file of a local file. */
  static Path crc(Path file) {
    return file.resolveSibling("." + file.getFileName() + ".crc");
  }
}
