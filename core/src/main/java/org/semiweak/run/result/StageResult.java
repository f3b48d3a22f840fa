package org.semiweak.run.result;

/**
 * The typed result a committed stage records in its manifest, beside its record counts. Each stage
 * kind has one result type ({@link org.semiweak.run.StageKind#resultType()}); readers get it with
 * {@link org.semiweak.run.StageManifest#result(Class)}.
 */
public sealed interface StageResult
    permits PrepResult, ModelResult, ScoreResult, SelectionResult, EvaluationResult, ReportResult {

  /** What later stages may rely on, derived from the result. */
  Publication publication();
}
