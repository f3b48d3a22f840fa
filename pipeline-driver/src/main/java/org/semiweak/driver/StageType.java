package org.semiweak.driver;

import java.util.List;
import java.util.function.BiFunction;
import org.semiweak.config.OptionSpec;
import org.semiweak.config.Options;
import org.semiweak.run.RunDir;
import org.semiweak.run.Stage;

/**
 * A stage the CLI can run: its command name (also its YAML section), a one-line summary, its
 * options and how to construct it.
 */
public record StageType(
    String command, String summary, List<OptionSpec<?>> options, BiFunction<RunDir, Options, Stage> factory) {

  public Stage create(RunDir run, java.util.Map<String, Object> raw) {
    return factory.apply(run, Options.parse(command, options, raw));
  }
}
