package org.semiweak.bench;

import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The command line of a benchmark: {@code --name value} flags and {@code --name} switches, read
 * into typed values with defaults. Underscores in values are ignored ({@code 1_000_000}); lists
 * are comma-separated. An unknown flag, a flag without its value or a malformed number fails with
 * the usage; {@code --help} throws {@link HelpRequested}.
 */
final class BenchFlags {
  private final Map<String, String> values = new HashMap<>();
  private final Set<String> switches = new HashSet<>();
  private final String usage;

  private BenchFlags(String usage) {
    this.usage = usage;
  }

  /** Thrown for {@code --help}: the message is the usage. */
  static final class HelpRequested extends RuntimeException {
    private static final long serialVersionUID = 1L;

    HelpRequested(String usage) {
      super(usage);
    }
  }

  /**
   * @param valued the flags that take a value, e.g. {@code --images}
   * @param switchNames the flags that take none, e.g. {@code --verify}
   */
  static BenchFlags parse(String[] args, String usage, List<String> valued, List<String> switchNames) {
    BenchFlags f = new BenchFlags(usage);
    for (int i = 0; i < args.length; i++) {
      String flag = args[i];
      if (flag.equals("--help") || flag.equals("-h")) {
        throw new HelpRequested(usage);
      }
      if (switchNames.contains(flag)) {
        f.switches.add(flag);
      } else if (!valued.contains(flag)) {
        throw new IllegalArgumentException("unknown flag " + flag + "\n" + usage);
      } else if (i + 1 >= args.length) {
        throw new IllegalArgumentException("flag " + flag + " needs a value\n" + usage);
      } else {
        f.values.put(flag, args[++i].replace("_", ""));
      }
    }
    return f;
  }

  /**
   * Parses a main's command line: prints the usage and exits 0 for {@code --help}, prints the
   * problem and exits 2 for a bad flag.
   */
  static <T> T parseOrExit(java.util.function.Supplier<T> parser) {
    try {
      return parser.get();
    } catch (HelpRequested h) {
      System.out.println(h.getMessage());
      System.exit(0);
    } catch (IllegalArgumentException e) {
      System.err.println(e.getMessage());
      System.exit(2);
    }
    throw new AssertionError("unreachable");
  }

  boolean has(String switchName) {
    return switches.contains(switchName);
  }

  String string(String flag, String otherwise) {
    return values.getOrDefault(flag, otherwise);
  }

  int integer(String flag, int otherwise) {
    return values.containsKey(flag) ? (int) number(flag, values.get(flag)) : otherwise;
  }

  long longValue(String flag, long otherwise) {
    return values.containsKey(flag) ? number(flag, values.get(flag)) : otherwise;
  }

  double decimal(String flag, double otherwise) {
    if (!values.containsKey(flag)) {
      return otherwise;
    }
    try {
      return Double.parseDouble(values.get(flag));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("flag " + flag + " needs a number, got '" + values.get(flag) + "'\n" + usage, e);
    }
  }

  long[] longs(String flag, long[] otherwise) {
    if (!values.containsKey(flag)) {
      return otherwise;
    }
    return Arrays.stream(values.get(flag).split(",")).mapToLong(v -> number(flag, v.strip())).toArray();
  }

  int[] ints(String flag, int[] otherwise) {
    if (!values.containsKey(flag)) {
      return otherwise;
    }
    return Arrays.stream(values.get(flag).split(",")).mapToInt(v -> (int) number(flag, v.strip())).toArray();
  }

  List<String> strings(String flag, List<String> otherwise) {
    return values.containsKey(flag) ? List.of(values.get(flag).split(",")) : otherwise;
  }

  private long number(String flag, String v) {
    try {
      return Long.parseLong(v);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("flag " + flag + " needs a whole number, got '" + v + "'\n" + usage, e);
    }
  }
}
