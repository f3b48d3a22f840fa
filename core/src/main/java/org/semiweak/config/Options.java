package org.semiweak.config;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Validated option values of one stage: every key known, every value parsed and checked, defaults
 * filled in. Unknown keys are rejected with the closest known key as a hint.
 */
public final class Options implements Serializable {
  private static final long serialVersionUID = 1L;

  private final String scope;
  private final Map<String, Object> values;
  /** The keys given explicitly (not defaults). */
  private final java.util.Set<String> given;

  private Options(String scope, Map<String, Object> values, java.util.Set<String> given) {
    this.scope = scope;
    this.values = values;
    this.given = given;
  }

  /**
   * Parses raw values (YAML section and/or {@code --key value} flags) against the specs.
   *
   * @param scope what the options belong to, used in messages (e.g. {@code select})
   */
  public static Options parse(String scope, Collection<OptionSpec<?>> specs, Map<String, ?> raw) {
    Map<String, OptionSpec<?>> byKey = new LinkedHashMap<>();
    for (OptionSpec<?> s : specs) {
      byKey.put(s.key(), s);
    }
    List<String> errors = new ArrayList<>();
    for (String k : raw.keySet()) {
      if (!byKey.containsKey(k)) {
        String hint = closest(k, byKey.keySet());
        errors.add(scope + ": unknown option '" + k + "'" + (hint == null ? "" : " (did you mean '" + hint + "'?)")
            + "; known options: " + byKey.keySet());
      }
    }
    Map<String, Object> values = new LinkedHashMap<>();
    java.util.Set<String> given = new java.util.TreeSet<>();
    for (OptionSpec<?> s : specs) {
      Object r = raw.get(s.key());
      try {
        if (r != null) {
          values.put(s.key(), s.parse(scope, r));
          given.add(s.key());
        } else if (s.defaultValue() != null) {
          values.put(s.key(), s.defaultValue());
        }
      } catch (ConfigException e) {
        errors.add(e.getMessage());
      }
    }
    if (!errors.isEmpty()) {
      throw new ConfigException(String.join("\n", errors));
    }
    return new Options(scope, values, given);
  }

  public <T> T get(OptionSpec<T> spec) {
    Object v = values.get(spec.key());
    if (v == null) {
      throw new ConfigException(scope + ": option '" + spec.key() + "' is required (" + spec.doc() + ")");
    }
    return spec.type().cast(v);
  }

  public <T> T getOrNull(OptionSpec<T> spec) {
    Object v = values.get(spec.key());
    return v == null ? null : spec.type().cast(v);
  }

  /** The value of an {@link OptionSpec#optional()} option, or {@code absent} when it was not given. */
  public <T> T getOr(OptionSpec<T> spec, T absent) {
    T v = getOrNull(spec);
    return v == null ? absent : v;
  }

  public boolean has(OptionSpec<?> spec) {
    return values.containsKey(spec.key());
  }

  /** Whether the option was given (in the config or as a flag), as opposed to taking its default. */
  public boolean isSet(OptionSpec<?> spec) {
    return given.contains(spec.key());
  }

  /** The effective options as plain values (arrays as lists), sorted by key: what manifests store. */
  public Map<String, Object> effective() {
    Map<String, Object> out = new TreeMap<>();
    values.forEach((k, v) -> {
      if (v instanceof int[] a) {
        out.put(k, java.util.Arrays.stream(a).boxed().toList());
      } else {
        out.put(k, v);
      }
    });
    return out;
  }

  public String scope() {
    return scope;
  }

  static String closest(String key, Collection<String> known) {
    String best = null;
    int bestD = Integer.MAX_VALUE;
    for (String k : known) {
      int d = distance(key, k);
      if (d < bestD) {
        bestD = d;
        best = k;
      }
    }
    return bestD <= Math.max(2, key.length() / 3) ? best : null;
  }

  private static int distance(String a, String b) {
    int[] prev = new int[b.length() + 1];
    int[] cur = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      prev[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      cur[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int c = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
        cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + c);
      }
      int[] t = prev;
      prev = cur;
      cur = t;
    }
    return prev[b.length()];
  }

  /** Usage text: one line per option with its default and documentation. */
  public static String usage(Collection<OptionSpec<?>> specs) {
    StringBuilder sb = new StringBuilder();
    for (OptionSpec<?> s : specs) {
      sb.append(String.format("  --%-24s %s%n", s.key() + " <" + s.type().getSimpleName().replace("[]", "-list").toLowerCase() + ">", s.doc()));
      sb.append(String.format("  %-26s %s%n", "", s.required() ? "(required)"
          : s.isOptional() ? "(optional, no default)" : "(default: " + s.format(s.defaultValue()) + ")"));
    }
    return sb.toString();
  }
}
