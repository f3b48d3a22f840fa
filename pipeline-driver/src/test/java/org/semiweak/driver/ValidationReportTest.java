package org.semiweak.driver;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.semiweak.run.RunLayout;
import org.semiweak.run.StageManifest;
import org.semiweak.run.result.EvaluationResult;
import org.semiweak.util.Json;

/**
 * The results table and the multi-seed summary show validation top-1 when evaluate measured it, and
 * are exactly as before when prep wrote no validation split.
 */
class ValidationReportTest {

  private static EvaluationResult.ModelEvaluation model(String name, String role, double top1, Double validationTop1) {
    return new EvaluationResult.ModelEvaluation(name, role, top1, 0.99, List.of(top1, top1),
        List.of(List.of(1L, 0L), List.of(0L, 1L)),
        validationTop1 == null ? null : new EvaluationResult.SplitAccuracy(50, validationTop1, 0.98));
  }

  private static StageOutcome evaluate(EvaluationResult.ModelEvaluation... models) {
    StageManifest m = new StageManifest(2, "evaluate", "evaluate", "test", "fp", Map.of(), List.of(),
        Map.of("test-images", 100L, "models", (long) models.length),
        Json.MAPPER.valueToTree(new EvaluationResult(List.of("a", "b"), List.of(models))), "2026-11-30T00:00:00Z",
        "2026-11-30T00:00:01Z", 1.0, "c1", null);
    return new StageOutcome(RunLayout.evaluate(), StageOutcome.Action.RAN, m, 1.0);
  }

  @Test
  void theResultsTableHasAValidationColumnWhenThereIsAValidationSplit() {
    String table = Report.table(List.of(evaluate(model("teacher/semi-weak", "teacher", 0.8603, 0.8512),
        model("baseline", "baseline", 0.8354, 0.8288))));
    assertThat(table).contains(String.format("%-44s %-10s %8s %8s %8s%n", "model (test set)", "role", "top-1 %",
        "top-5 %", "val %"));
    assertThat(table).contains(String.format("%-44s %-10s %8s %8s %8s%n", "teacher/semi-weak", "teacher", "86.03",
        "99.00", "85.12"));
    assertThat(table).contains(String.format("%-44s %-10s %8s %8s %8s%n", "baseline", "baseline", "83.54", "99.00",
        "82.88"));
    assertThat(table).contains(Report.VALIDATION_NOTE);
  }

  @Test
  void withoutAValidationSplitTheResultsTableIsAsBefore() {
    String table = Report.table(List.of(evaluate(model("baseline", "baseline", 0.8354, null))));
    assertThat(table).startsWith(String.format("%-44s %-10s %8s %8s%n%-44s %-10s %8s %8s%n%n", "model (test set)",
        "role", "top-1 %", "top-5 %", "baseline", "baseline", "83.54", "99.00"));
    assertThat(table).doesNotContain("val %");
  }

  @Test
  void theSeedSummaryGivesMeanAndStdOfValidationTopOneInASecondBlock() {
    Map<Long, List<StageOutcome>> runs = new LinkedHashMap<>();
    runs.put(1L, List.of(evaluate(model("baseline", "baseline", 0.80, 0.70))));
    runs.put(2L, List.of(evaluate(model("baseline", "baseline", 0.82, 0.72))));
    runs.put(3L, List.of(evaluate(model("baseline", "baseline", 0.84, 0.74))));
    SeedSummary s = SeedSummary.of(runs);

    assertThat(s.validation()).singleElement().satisfies(r -> {
      assertThat(r.values()).containsExactly(70.0, 72.0, 74.0);
      assertThat(r.mean()).isCloseTo(72.0, org.assertj.core.api.Assertions.within(1e-9));
      assertThat(r.std()).isCloseTo(2.0, org.assertj.core.api.Assertions.within(1e-9));
    });
    String table = s.table();
    assertThat(table).contains("model (test set, top-1 %)").contains("model (validation set, top-1 %)");
    assertThat(table.substring(table.indexOf("model (validation set"))).as("the validation block")
        .contains(String.format("%-44s %-10s %8s %7s  %7s %7s %7s%n", "baseline", "baseline", "72.00", "2.00", "70.00",
            "72.00", "74.00"));

    Map<Long, List<StageOutcome>> noValidation = new LinkedHashMap<>();
    noValidation.put(1L, List.of(evaluate(model("baseline", "baseline", 0.80, null))));
    noValidation.put(2L, List.of(evaluate(model("baseline", "baseline", 0.82, null))));
    SeedSummary without = SeedSummary.of(noValidation);
    assertThat(without.validation()).isEmpty();
    assertThat(without.table()).as("no validation block").doesNotContain("validation");
  }
}
