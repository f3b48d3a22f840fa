package org.semiweak.driver;

import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;
import org.semiweak.config.OptionSpec;
import org.semiweak.config.Options;
import org.semiweak.run.RunDir;
import org.semiweak.run.Stage;
import org.semiweak.run.StageKind;

/**
 * A stage the CLI can run: its kind (whose command is also its YAML section), a one-line summary,
 * its options, how to construct it, and what {@code semiweak help} prints after the options (formats,
 * examples; empty for most stages).
 */
public record StageType(StageKind kind, String summary, List<OptionSpec<?>> options,
    BiFunction<RunDir, Options, Stage> factory, String details) {

  public StageType(StageKind kind, String summary, List<OptionSpec<?>> options,
      BiFunction<RunDir, Options, Stage> factory) {
    this(kind, summary, options, factory, "");
  }

  public String command() {
    return kind.command();
  }

  public Stage create(RunDir run, Map<String, Object> raw) {
    return factory.apply(run, Options.parse(command(), options, raw));
  }
}
