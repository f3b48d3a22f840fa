package org.semiweak.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Runs the PyTorch reference script (train_reference.py) and reads the JSON line it ends with. */
final class ReferenceScript {
  private static final Pattern JSON_NUMBER = Pattern.compile("\"(\\w+)\": ([-0-9.eE+]+)");

  /**
   * What one run printed.
   *
   * @param numbers every numeric field of the result line
   * @param json the result line itself
   * @param seconds wall time of the whole process, Python start-up included
   */
  record Result(Map<String, Double> numbers, String json, double seconds) {
    double number(String key) {
      Double v = numbers.get(key);
      if (v == null) {
        throw new IllegalStateException("the reference script's result has no '" + key + "': " + json);
      }
      return v;
    }

    /** A string field of the result line, e.g. {@code torch}. */
    String string(String key) {
      return json.replaceAll(".*\"" + key + "\": \"([^\"]*)\".*", "$1");
    }
  }

  private ReferenceScript() {}

  /** Runs {@code command}; an error with the script's output if it fails or prints no result line. */
  static Result run(List<String> command, Duration timeout) {
    try {
      long start = System.nanoTime();
      Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
      String output = new String(p.getInputStream().readAllBytes());
      if (!p.waitFor(timeout.toSeconds(), TimeUnit.SECONDS) || p.exitValue() != 0) {
        throw new IllegalStateException("the reference script failed (" + String.join(" ", command) + "); it needs "
            + "Debian's python3-torch: " + output);
      }
      double seconds = (System.nanoTime() - start) / 1e9;
      String json = output.lines().filter(l -> l.startsWith("{")).reduce((a, z) -> z).orElseThrow(() ->
          new IllegalStateException("the reference script printed no result: " + output));
      Map<String, Double> numbers = new HashMap<>();
      Matcher m = JSON_NUMBER.matcher(json);
      while (m.find()) {
        numbers.put(m.group(1), Double.parseDouble(m.group(2)));
      }
      return new Result(numbers, json, seconds);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot run " + command.get(0) + ": " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }
}
