package org.semiweak.config;

/** A configuration or command-line error; its message is meant for the user as it is. */
public class ConfigException extends IllegalArgumentException {
  private static final long serialVersionUID = 1L;

  public ConfigException(String message) {
    super(message);
  }
}
