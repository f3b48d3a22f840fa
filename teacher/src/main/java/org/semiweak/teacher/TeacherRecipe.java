package org.semiweak.teacher;

import java.util.Arrays;
import java.util.List;
import org.semiweak.config.ConfigException;

/** How a teacher is made; also its name in the run directory ({@code teacher/<recipe>}). */
public enum TeacherRecipe {
  /** Trained on the labeled set only. */
  SEMI_SUPERVISED("semi-supervised"),
  /** Pretrained on the weak tags of the unlabeled set, then fine-tuned on the labeled set. */
  SEMI_WEAK("semi-weak"),
  /** Pretrained without labels or tags on the unlabeled set (SimCLR), then fine-tuned on the labeled set. */
  SELF_SUPERVISED("self-supervised"),
  /** A user's TorchScript file, imported after a shape check. */
  TORCHSCRIPT("torchscript");

  private final String command;

  TeacherRecipe(String command) {
    this.command = command;
  }

  /** The recipe's name in options, configs and stage paths. */
  public String command() {
    return command;
  }

  public static List<String> names() {
    return Arrays.stream(values()).map(TeacherRecipe::command).toList();
  }

  public static TeacherRecipe parse(String name) {
    return Arrays.stream(values()).filter(r -> r.command.equals(name)).findFirst().orElseThrow(
        () -> new ConfigException("unknown teacher recipe '" + name + "'; recipes are " + names()));
  }

  @Override
  public String toString() {
    return command;
  }
}
