package org.semiweak.driver;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.hadoop.fs.Path;
import org.semiweak.config.ConfigException;
import org.semiweak.run.SparkSessions;
import org.semiweak.run.StageKind;
import org.semiweak.util.Json;

/**
 * A YAML run configuration: top-level settings plus one section per stage, whose keys are the same
 * option names as that stage's command-line flags.
 *
 * <pre>
 * run-dir: /data/runs/fmnist-1
 * spark-master: local[*]          # ignored under spark-submit, which sets the master
 * teachers: [semi-supervised, semi-weak]
 * prep:   { source: idx, input: /usr/share/datasets/fashion-mnist, labeled-per-class: 100 }
 * select: { k: 4000, p: 10 }
 * </pre>
 */
public final class RunConfig {
  public static final String RUN_DIR = "run-dir";
  public static final String SPARK_MASTER = "spark-master";
  public static final String TEACHERS = "teachers";
  /** How long the run's lease survives without heartbeat before another process takes it over. */
  public static final String LOCK_TIMEOUT = "lock-timeout";

  /** How many independent stages may run at the same time (default 1). */
  public static final String PARALLEL_STAGES = "parallel-stages";

  /** Noisy Student: how many generations of students, each taught by the one before (default 1). */
  public static final String GENERATIONS = "generations";

  /** At most this many generations: each costs a score, a selection and the training of its students. */
  static final int MAX_GENERATIONS = 10;

  static final Set<String> TOP_LEVEL = Set.of(RUN_DIR, SPARK_MASTER, TEACHERS, LOCK_TIMEOUT, PARALLEL_STAGES,
      GENERATIONS);

  private final Map<String, Object> top = new LinkedHashMap<>();
  private final Map<String, Map<String, Object>> sections = new LinkedHashMap<>();

  public RunConfig() {}

  /** Parses YAML text; {@code origin} names the file in messages. */
  public static RunConfig parse(String yaml, String origin, Set<String> stageSections) {
    Object doc;
    try {
      doc = Json.YAML.readValue(yaml, Object.class);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      com.fasterxml.jackson.core.JsonLocation at = e.getLocation();
      String where = at == null || at.getLineNr() < 1 ? origin
          : origin + ": line " + at.getLineNr() + ", column " + at.getColumnNr();
      throw new ConfigException(where + ": not valid YAML: " + e.getOriginalMessage().split("\n")[0].strip());
    } catch (IOException e) {
      throw new ConfigException(origin + ": not valid YAML: " + e.getMessage().split("\n")[0]);
    }
    RunConfig cfg = new RunConfig();
    if (doc == null) {
      return cfg;
    }
    if (!(doc instanceof Map<?, ?> map)) {
      throw new ConfigException(origin + ": expected a mapping of settings at the top level");
    }
    List<String> errors = new ArrayList<>();
    for (Map.Entry<?, ?> e : map.entrySet()) {
      String key = String.valueOf(e.getKey());
      if (TOP_LEVEL.contains(key)) {
        cfg.top.put(key, e.getValue());
      } else if (stageSections.contains(key)) {
        if (e.getValue() == null) {
          // "distill:" with nothing after it: the section is there, with every option at its default.
          cfg.sections.put(key, new LinkedHashMap<>());
          continue;
        }
        if (!(e.getValue() instanceof Map<?, ?> section)) {
          errors.add(origin + ": section '" + key + "' must be a mapping of option: value");
          continue;
        }
        Map<String, Object> s = new LinkedHashMap<>();
        section.forEach((k, v) -> s.put(String.valueOf(k), v));
        cfg.sections.put(key, s);
      } else {
        errors.add(origin + ": unknown key '" + key + "'; expected one of " + TOP_LEVEL + " or a stage section " + stageSections);
      }
    }
    if (!errors.isEmpty()) {
      throw new ConfigException(String.join("\n", errors));
    }
    return cfg;
  }

  /**
   * Reads a config file through the Hadoop FileSystem, so it may live on HDFS or S3 too when given
   * with its scheme ({@code hdfs://nn/conf/run.yaml}); a path without a scheme is a local file, not
   * a path on the cluster's default file system.
   */
  public static RunConfig load(String location, Set<String> stageSections) {
    Path p = new Path(location);
    if (p.toUri().getScheme() == null) {
      p = new Path(new java.io.File(location).getAbsoluteFile().toURI());
    }
    try (InputStream in = p.getFileSystem(SparkSessions.hadoopConfiguration()).open(p)) {
      return parse(new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8), location, stageSections);
    } catch (java.io.FileNotFoundException e) {
      throw new ConfigException("config file " + location + " does not exist");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read config " + location + ": " + e.getMessage(), e);
    }
  }

  public String runDir() {
    Object v = top.get(RUN_DIR);
    return v == null ? null : String.valueOf(v);
  }

  public String sparkMaster() {
    Object v = top.get(SPARK_MASTER);
    return v == null ? null : String.valueOf(v);
  }

  /** The lease timeout ({@code lock-timeout: 5m}), or the default. */
  public java.time.Duration lockTimeout() {
    Object v = top.get(LOCK_TIMEOUT);
    return v == null ? org.semiweak.run.RunLock.DEFAULT_TIMEOUT : parseDuration(LOCK_TIMEOUT, String.valueOf(v));
  }

  /** {@code parallel-stages}, or 1 when absent. */
  public int parallelStages() {
    Object v = top.get(PARALLEL_STAGES);
    return v == null ? 1 : parsePositiveInt(PARALLEL_STAGES, String.valueOf(v));
  }

  /** {@code generations}, or 1 when absent: the students of generation N teach generation N+1. */
  public int generations() {
    Object v = top.get(GENERATIONS);
    int n = v == null ? 1 : parsePositiveInt(GENERATIONS, String.valueOf(v));
    if (n > MAX_GENERATIONS) {
      throw new ConfigException(GENERATIONS + ": at most " + MAX_GENERATIONS + ", found " + n);
    }
    return n;
  }

  static int parsePositiveInt(String key, String value) {
    try {
      int n = Integer.parseInt(value.strip());
      if (n >= 1) {
        return n;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw new ConfigException(key + ": expected a whole number of at least 1, found '" + value + "'");
  }

  /** {@code 90} or {@code 90s} (seconds), {@code 500ms}, {@code 5m}, {@code 1h}; at least a second. */
  static java.time.Duration parseDuration(String key, String value) {
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("\\s*(\\d+)\\s*(ms|s|m|h)?\\s*").matcher(value);
    if (!m.matches()) {
      throw new ConfigException(key + ": expected a duration such as 90s, 5m or 1h, found '" + value + "'");
    }
    long n = Long.parseLong(m.group(1));
    String unit = m.group(2) == null ? "s" : m.group(2);
    java.time.Duration d = switch (unit) {
      case "ms" -> java.time.Duration.ofMillis(n);
      case "m" -> java.time.Duration.ofMinutes(n);
      case "h" -> java.time.Duration.ofHours(n);
      default -> java.time.Duration.ofSeconds(n);
    };
    if (d.compareTo(org.semiweak.run.RunLock.MIN_TIMEOUT) < 0) {
      throw new ConfigException(key + ": at least " + org.semiweak.run.RunLock.MIN_TIMEOUT.toSeconds() + "s, found '"
          + value + "'");
    }
    return d;
  }

  /** The teacher recipes the pipeline trains, in order. */
  public List<String> teachers(List<String> defaults) {
    Object v = top.get(TEACHERS);
    if (v == null) {
      return defaults;
    }
    List<String> out = new ArrayList<>();
    if (v instanceof List<?> l) {
      l.forEach(x -> out.add(String.valueOf(x).strip()));
    } else {
      for (String s : String.valueOf(v).split(",")) {
        out.add(s.strip());
      }
    }
    if (out.isEmpty()) {
      throw new ConfigException("teachers: list at least one teacher recipe");
    }
    return out;
  }

  /** A copy of the section of a stage kind (empty if absent). */
  public Map<String, Object> section(StageKind kind) {
    return section(kind.command());
  }

  /** Whether the config has the section of a stage kind (empty or not): opt-in stages such as distill. */
  public boolean hasSection(StageKind kind) {
    return sections.containsKey(kind.command());
  }

  /** A copy of a stage section (empty if absent). */
  public Map<String, Object> section(String stage) {
    return new LinkedHashMap<>(sections.getOrDefault(stage, Map.of()));
  }

  public RunConfig set(String key, Object value) {
    top.put(key, value);
    return this;
  }

  /** Overrides one option of a section (flags win over the file). */
  public RunConfig set(String section, String key, Object value) {
    sections.computeIfAbsent(section, s -> new LinkedHashMap<>()).put(key, value);
    return this;
  }
}
