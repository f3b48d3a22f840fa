package org.semiweak.config;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import java.util.function.Predicate;
import org.semiweak.util.Json;

/**
 * One named option of a stage: its key (the same in YAML configs and as a {@code --key} flag), type,
 * default and documentation.
 *
 * @param <T> the value type
 */
public final class OptionSpec<T> {
  private final String key;
  private final Class<T> type;
  private final T defaultValue;
  private final String doc;
  private final Function<String, T> parser;
  private final Predicate<T> check;
  private final String checkDoc;
  /** Parses the raw value itself (a YAML list or mapping) instead of its text; null for scalar options. */
  private final Function<Object, T> structuredParser;
  /** Absent means "not used", not an error: a null default that is not a requirement. */
  private final boolean optional;

  private OptionSpec(String key, Class<T> type, T defaultValue, String doc, Function<String, T> parser,
      Predicate<T> check, String checkDoc) {
    this(key, type, defaultValue, doc, parser, check, checkDoc, null);
  }

  private OptionSpec(String key, Class<T> type, T defaultValue, String doc, Function<String, T> parser,
      Predicate<T> check, String checkDoc, Function<Object, T> structuredParser) {
    this(key, type, defaultValue, doc, parser, check, checkDoc, structuredParser, false);
  }

  private OptionSpec(String key, Class<T> type, T defaultValue, String doc, Function<String, T> parser,
      Predicate<T> check, String checkDoc, Function<Object, T> structuredParser, boolean optional) {
    this.optional = optional;
    this.structuredParser = structuredParser;
    this.key = key;
    this.type = type;
    this.defaultValue = defaultValue;
    this.doc = doc;
    this.parser = parser;
    this.check = check;
    this.checkDoc = checkDoc;
  }

  public static OptionSpec<Integer> intOption(String key, Integer def, int min, int max, String doc) {
    return new OptionSpec<>(key, Integer.class, def, doc, s -> Integer.valueOf(s.strip().replace("_", "")),
        v -> v >= min && v <= max, "an integer in [" + min + ", " + max + "]");
  }

  public static OptionSpec<Long> longOption(String key, Long def, long min, String doc) {
    return new OptionSpec<>(key, Long.class, def, doc, s -> Long.valueOf(s.strip().replace("_", "")),
        v -> v >= min, "an integer >= " + min);
  }

  public static OptionSpec<Double> doubleOption(String key, Double def, double min, double max, String doc) {
    return new OptionSpec<>(key, Double.class, def, doc, s -> Double.valueOf(s.strip()),
        v -> !v.isNaN() && v >= min && v <= max, "a number in [" + min + ", " + max + "]");
  }

  public static OptionSpec<Boolean> boolOption(String key, Boolean def, String doc) {
    return new OptionSpec<>(key, Boolean.class, def, doc, s -> {
      String v = s.strip().toLowerCase(Locale.ROOT);
      if (v.equals("true") || v.equals("yes") || v.equals("1")) {
        return true;
      }
      if (v.equals("false") || v.equals("no") || v.equals("0")) {
        return false;
      }
      throw new IllegalArgumentException("not a boolean");
    }, v -> true, "true or false");
  }

  /** A string option; {@code def == null} makes it required unless declared optional by the caller. */
  public static OptionSpec<String> stringOption(String key, String def, String doc) {
    return new OptionSpec<>(key, String.class, def, doc, String::strip, v -> !v.isEmpty(), "a non-empty string");
  }

  public static OptionSpec<String> choiceOption(String key, String def, List<String> choices, String doc) {
    return new OptionSpec<>(key, String.class, def, doc, String::strip, choices::contains, "one of " + choices);
  }

  /** A comma-separated list of integers, e.g. {@code 16,32,64}. */
  public static OptionSpec<int[]> intListOption(String key, int[] def, String doc) {
    return new OptionSpec<>(key, int[].class, def, doc,
        s -> Arrays.stream(s.replace("[", "").replace("]", "").split(",")).map(String::strip)
            .filter(x -> !x.isEmpty()).mapToInt(Integer::parseInt).toArray(),
        v -> v.length > 0 && Arrays.stream(v).allMatch(x -> x > 0), "a comma-separated list of positive integers");
  }

  /**
   * A list of mappings, e.g. prep's {@code inputs}: in a YAML config a list of mappings, on the command
   * line the same list as YAML flow text ({@code --inputs '[{source: folder, path: /data/x}]'}). The
   * default is the empty list. Each element is checked by the stage that reads it, which knows its keys.
   */
  @SuppressWarnings("unchecked")
  public static OptionSpec<List<Map<String, Object>>> mappingListOption(String key, String doc) {
    Class<List<Map<String, Object>>> type = (Class<List<Map<String, Object>>>) (Class<?>) List.class;
    String expected = "a list of mappings (YAML: '- key: value' items, or [{key: value}, ...])";
    return new OptionSpec<>(key, type, List.of(), doc, null, v -> true, expected, raw -> {
      Object value = raw;
      if (raw instanceof String text) {
        try {
          value = Json.YAML.readValue(text, Object.class);
        } catch (java.io.IOException e) {
          throw new IllegalArgumentException("not valid YAML: " + e.getMessage().split("\n")[0]);
        }
        if (value == null) {
          return List.of();
        }
      }
      if (!(value instanceof List<?> list)) {
        throw new IllegalArgumentException("not a list");
      }
      List<Map<String, Object>> out = new ArrayList<>();
      for (Object item : list) {
        if (!(item instanceof Map<?, ?> m)) {
          throw new IllegalArgumentException("item '" + item + "' is not a mapping");
        }
        Map<String, Object> copy = new LinkedHashMap<>();
        m.forEach((k, v) -> copy.put(String.valueOf(k), v));
        out.add(Collections.unmodifiableMap(copy));
      }
      return List.copyOf(out);
    });
  }

  public String key() {
    return key;
  }

  public Class<T> type() {
    return type;
  }

  public T defaultValue() {
    return defaultValue;
  }

  /**
   * This option without a default and without being required: the stage reads it with {@link
   * Options#getOrNull} and absent means "not used" (help says so instead of "(required)").
   */
  public OptionSpec<T> optional() {
    return new OptionSpec<>(key, type, defaultValue, doc, parser, check, checkDoc, structuredParser, true);
  }

  /** Whether help lists the option as required: no default, and not declared {@link #optional()}. */
  public boolean required() {
    return defaultValue == null && !optional;
  }

  /** Whether the option has no default and may be left out ({@link #optional()}). */
  public boolean isOptional() {
    return defaultValue == null && optional;
  }

  public String doc() {
    return doc;
  }

  public String expected() {
    return checkDoc;
  }

  /** Parses and checks a raw value (from YAML or a flag), with a message naming the option. */
  public T parse(String scope, Object raw) {
    if (structuredParser != null) {
      try {
        return structuredParser.apply(raw);
      } catch (IllegalArgumentException e) {
        throw new ConfigException(scope + "." + key + ": expected " + checkDoc + ", found " + e.getMessage());
      }
    }
    String text = raw instanceof List<?> l ? String.join(",", l.stream().map(String::valueOf).toList()) : String.valueOf(raw);
    T value;
    try {
      value = parser.apply(text);
    } catch (RuntimeException e) {
      throw new ConfigException(scope + "." + key + ": expected " + checkDoc + ", found '" + text + "'");
    }
    if (!check.test(value)) {
      throw new ConfigException(scope + "." + key + ": expected " + checkDoc + ", found '" + text + "'");
    }
    return value;
  }

  public String format(Object value) {
    if (value instanceof int[] a) {
      return String.join(",", Arrays.stream(a).mapToObj(Integer::toString).toList());
    }
    if (structuredParser != null && value instanceof List<?> l && l.isEmpty()) {
      return "none";
    }
    return String.valueOf(value);
  }
}
