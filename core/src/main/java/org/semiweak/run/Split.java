package org.semiweak.run;

import java.util.Arrays;
import java.util.List;
import org.semiweak.config.ConfigException;

/**
 * The four splits of a prepared dataset; each is a folder of Parquet image shards under {@code prep/}.
 * {@code validation} (possibly empty) holds labeled images that no stage trains on: evaluate measures
 * every model on it besides the test split, so that choices can be made without the test set.
 */
public enum Split {
  LABELED("labeled"),
  UNLABELED("unlabeled"),
  VALIDATION("validation"),
  TEST("test");

  private final String dirName;

  Split(String dirName) {
    this.dirName = dirName;
  }

  /** The folder name under {@code prep/}, also the name used in options and metadata files. */
  public String dirName() {
    return dirName;
  }

  public static List<String> names() {
    return Arrays.stream(values()).map(Split::dirName).toList();
  }

  public static Split parse(String name) {
    return Arrays.stream(values()).filter(s -> s.dirName.equals(name)).findFirst().orElseThrow(
        () -> new ConfigException("unknown split '" + name + "'; splits are " + names()));
  }

  @Override
  public String toString() {
    return dirName;
  }
}
