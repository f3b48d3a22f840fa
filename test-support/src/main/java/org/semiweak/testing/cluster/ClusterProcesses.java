package org.semiweak.testing.cluster;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Starting, inspecting and ending the JVM processes of the cluster fixtures. */
final class ClusterProcesses {
  private ClusterProcesses() {}

  /** A TCP port free on 127.0.0.1 right now (another process may take it before it is used). */
  static int freePort() {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      s.setReuseAddress(true);
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException("no free port on 127.0.0.1", e);
    }
  }

  /** Starts {@code command} with {@code env} added to this JVM's environment, stdout and stderr into {@code log}. */
  static Process start(List<String> command, Map<String, String> env, Path log) {
    ProcessBuilder pb = new ProcessBuilder(command);
    pb.environment().putAll(env);
    pb.redirectErrorStream(true);
    pb.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
    try {
      Files.createDirectories(log.getParent());
      Files.writeString(log, String.join(" ", command) + "\n\n", StandardCharsets.UTF_8);
      pb.redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
      return pb.start();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start " + command.get(command.size() - 1) + " (log " + log + ")", e);
    }
  }

  /**
   * Ends {@code roots} and all their descendants, descendants first: SIGTERM, then SIGKILL for what
   * is still alive after {@code graceMillis}. Returns every handle it tried to end.
   */
  static List<ProcessHandle> destroyTrees(List<ProcessHandle> roots, long graceMillis) {
    List<ProcessHandle> all = new ArrayList<>();
    for (ProcessHandle root : roots) {
      // Snapshot before ending anything: once a parent dies its children are reparented and lost.
      all.addAll(root.descendants().toList());
    }
    java.util.Collections.reverse(all);
    all.addAll(roots);
    all.forEach(ProcessHandle::destroy);
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(graceMillis);
    for (ProcessHandle p : all) {
      long left = deadline - System.nanoTime();
      try {
        if (left > 0) {
          p.onExit().get(left, TimeUnit.NANOSECONDS);
        }
      } catch (Exception e) {
        // still alive: killed below
      }
      if (p.isAlive()) {
        p.destroyForcibly();
      }
    }
    for (ProcessHandle p : all) {
      try {
        p.onExit().get(10, TimeUnit.SECONDS);
      } catch (Exception e) {
        throw new IllegalStateException("process " + p.pid() + " survived SIGKILL for 10 s", e);
      }
    }
    return all;
  }

  /** The last {@code maxLines} lines of a log file, for error messages. */
  static String tail(Path log, int maxLines) {
    try {
      List<String> lines = new String(Files.readAllBytes(log), StandardCharsets.UTF_8).lines().toList();
      return String.join("\n", lines.subList(Math.max(0, lines.size() - maxLines), lines.size()));
    } catch (IOException e) {
      return "(cannot read " + log + ": " + e.getMessage() + ")";
    }
  }
}
