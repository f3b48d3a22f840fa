package org.semiweak.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Debian's chromium, headless, for the tests that open the report in a real browser. A test that
 * needs it fails (never skips) when it is not installed: {@code .ci/run} installs it.
 */
public final class Chromium {
  private final Path executable;

  private Chromium(Path executable) {
    this.executable = executable;
  }

  /** The browser on the PATH (chromium, chromium-browser, google-chrome); a failed test naming the install if none. */
  public static Chromium require() {
    for (String name : List.of("chromium", "chromium-browser", "google-chrome")) {
      Optional<Path> found = onPath(name);
      if (found.isPresent()) {
        return new Chromium(found.get());
      }
    }
    return fail("this test opens the report in a headless browser, and no chromium is on the PATH ("
        + System.getenv("PATH") + "). Install Debian's: sudo apt-get install -y chromium (.ci/run does it)");
  }

  private static Optional<Path> onPath(String name) {
    for (String dir : String.valueOf(System.getenv("PATH")).split(File.pathSeparator)) {
      Path p = Path.of(dir.isEmpty() ? "." : dir, name);
      if (Files.isExecutable(p)) {
        return Optional.of(p);
      }
    }
    return Optional.empty();
  }

  /** The DOM after the page loaded, as chromium serializes it ({@code --dump-dom}). */
  public String dumpDom(Path page) throws IOException, InterruptedException {
    return run(List.of("--dump-dom", page.toUri().toString()), null);
  }

  /** A screenshot of the top {@code height} pixels of the page, {@code width} wide, into {@code png}. */
  public void screenshot(Path page, Path png, int width, int height) throws IOException, InterruptedException {
    Files.createDirectories(png.getParent());
    Files.deleteIfExists(png);
    run(List.of("--screenshot=" + png.toAbsolutePath(), "--window-size=" + width + "," + height,
        page.toUri().toString()), png);
    assertThat(png).as("chromium wrote the screenshot").exists();
  }

  private String run(List<String> args, Path expectedFile) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(List.of(executable.toString(), "--headless", "--disable-gpu", "--no-sandbox",
        "--no-first-run", "--disable-extensions", "--hide-scrollbars"));
    cmd.addAll(args);
    Path stdout = Files.createTempFile("chromium", ".out");
    Path stderr = Files.createTempFile("chromium", ".err");
    try {
      Process p = new ProcessBuilder(cmd).redirectOutput(stdout.toFile()).redirectError(stderr.toFile()).start();
      if (!p.waitFor(90, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        fail("chromium did not finish within 90 s: " + cmd + "\n" + Files.readString(stderr));
      }
      assertThat(p.exitValue()).as("chromium's exit code; stderr: %s", Files.readString(stderr)).isZero();
      return Files.readString(stdout, StandardCharsets.UTF_8);
    } finally {
      Files.deleteIfExists(stdout);
      Files.deleteIfExists(stderr);
    }
  }
}
