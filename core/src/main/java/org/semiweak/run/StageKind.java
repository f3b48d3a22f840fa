package org.semiweak.run;

import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;
import org.semiweak.config.ConfigException;
import org.semiweak.run.result.EvaluationResult;
import org.semiweak.run.result.ModelResult;
import org.semiweak.run.result.PrepResult;
import org.semiweak.run.result.ReportResult;
import org.semiweak.run.result.ScoreResult;
import org.semiweak.run.result.SelectionResult;
import org.semiweak.run.result.StageResult;

/**
 * Every kind of stage, in pipeline order. The order is what {@code run --from KIND} and
 * {@code --until KIND} compare; the command is also the YAML section and the manifest's {@code kind}.
 */
public enum StageKind {
  PREP("prep", "prepared", PrepResult.class),
  TRAIN_TEACHER("train-teacher", "teacher", ModelResult.class),
  SCORE("score", "scores", ScoreResult.class),
  SELECT("select", "selection", SelectionResult.class),
  PRETRAIN("pretrain", "pretrained", ModelResult.class),
  // After pretrain: --from pretrain retrains every student from the teachers' outputs, --from distill
  // only the distilled ones; both before finetune, which continues either.
  DISTILL("distill", "distilled", ModelResult.class),
  FINETUNE("finetune", "student", ModelResult.class),
  BASELINE("baseline", "baseline", ModelResult.class),
  EVALUATE("evaluate", "evaluation", EvaluationResult.class),
  // Last: a page about every other stage of the run, written after them.
  REPORT("report", "report", ReportResult.class);

  private final String command;
  private final String role;
  private final Class<? extends StageResult> resultType;

  StageKind(String command, String role, Class<? extends StageResult> resultType) {
    this.command = command;
    this.role = role;
    this.resultType = resultType;
  }

  /** The type of the result this kind of stage records in its manifest. */
  public Class<? extends StageResult> resultType() {
    return resultType;
  }

  /** The subcommand, YAML section and manifest kind, e.g. {@code train-teacher}. */
  public String command() {
    return command;
  }

  /** What the stage's output is to a person reading a results table: teacher, student, baseline... */
  public String role() {
    return role;
  }

  /** Whether the stage commits a model that can score or be evaluated. */
  public boolean producesModel() {
    return this == TRAIN_TEACHER || this == PRETRAIN || this == DISTILL || this == FINETUNE || this == BASELINE;
  }

  public static Optional<StageKind> byCommand(String command) {
    return Arrays.stream(values()).filter(k -> k.command.equals(command)).findFirst();
  }

  /** The kind of a command, or a {@link ConfigException} listing the kinds. */
  public static StageKind parse(String command) {
    return byCommand(command).orElseThrow(() -> new ConfigException(
        "unknown stage '" + command + "'; stages are " + Arrays.stream(values()).map(StageKind::command).toList()));
  }

  @Override
  public String toString() {
    return command.toLowerCase(Locale.ROOT);
  }
}
