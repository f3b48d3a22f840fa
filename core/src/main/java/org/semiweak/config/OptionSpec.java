package org.semiweak.config;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;
import java.util.function.Predicate;

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

  private OptionSpec(String key, Class<T> type, T defaultValue, String doc, Function<String, T> parser,
      Predicate<T> check, String checkDoc) {
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

  public String key() {
    return key;
  }

  public Class<T> type() {
    return type;
  }

  public T defaultValue() {
    return defaultValue;
  }

  public boolean required() {
    return defaultValue == null;
  }

  public String doc() {
    return doc;
  }

  public String expected() {
    return checkDoc;
  }

  /** Parses and checks a raw value (from YAML or a flag), with a message naming the option. */
  public T parse(String scope, Object raw) {
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
    return String.valueOf(value);
  }
}
