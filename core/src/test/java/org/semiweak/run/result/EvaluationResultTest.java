package org.semiweak.run.result;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.semiweak.run.StageManifest;
import org.semiweak.util.Json;

/**
 * The evaluate result carries each model's validation accuracy when prep wrote a validation split,
 * and manifests written before the split existed still read.
 */
class EvaluationResultTest {
  /** An evaluate result as semiweak wrote it before the validation split existed. */
  private static final String WITHOUT_VALIDATION = """
      {
        "classes" : [ "a", "b" ],
        "models" : [ {
          "confusion" : [ [ 3, 1 ], [ 0, 4 ] ],
          "model" : "baseline",
          "perClassAccuracy" : [ 0.75, 1.0 ],
          "role" : "baseline",
          "top1" : 0.875,
          "top5" : 1.0
        } ]
      }
      """;

  @Test
  void aResultWrittenBeforeTheValidationSplitStillReads() {
    EvaluationResult r = Json.read(WITHOUT_VALIDATION, EvaluationResult.class);
    assertThat(r.models()).singleElement().satisfies(m -> {
      assertThat(m.top1()).isEqualTo(0.875);
      assertThat(m.validation()).as("no validation numbers").isNull();
    });
    assertThat(r.hasValidation()).isFalse();

    StageManifest manifest = manifest(Json.MAPPER.valueToTree(r));
    assertThat(StageManifest.fromJson(manifest.toJson()).result(EvaluationResult.class)).as("through a manifest")
        .isEqualTo(r);
  }

  @Test
  void withoutValidationTheJsonIsAsBefore() throws Exception {
    EvaluationResult r = Json.read(WITHOUT_VALIDATION, EvaluationResult.class);
    assertThat(Json.MAPPER.readTree(Json.write(r))).as("no validation field, not even null")
        .isEqualTo(Json.MAPPER.readTree(WITHOUT_VALIDATION));
  }

  @Test
  void validationNumbersGoThroughAManifest() {
    EvaluationResult r = new EvaluationResult(List.of("a", "b"), List.of(new EvaluationResult.ModelEvaluation(
        "baseline", "baseline", 0.875, 1.0, List.of(0.75, 1.0), List.of(List.of(3L, 1L), List.of(0L, 4L)),
        new EvaluationResult.SplitAccuracy(20, 0.8, 0.95))));
    JsonNode json = Json.MAPPER.valueToTree(r);
    assertThat(json.at("/models/0/validation/images").asLong()).isEqualTo(20);
    assertThat(json.at("/models/0/validation/top1").asDouble()).isEqualTo(0.8);
    assertThat(json.at("/models/0/validation/top5").asDouble()).isEqualTo(0.95);
    EvaluationResult back = StageManifest.fromJson(manifest(json).toJson()).result(EvaluationResult.class);
    assertThat(back).isEqualTo(r);
    assertThat(back.hasValidation()).isTrue();
  }

  private static StageManifest manifest(JsonNode result) {
    return new StageManifest(2, "evaluate", "evaluate", "test", "fp", Map.of(), List.of(),
        Map.of("test-images", 8L, "models", 1L), result, "2026-11-30T00:00:00Z", "2026-11-30T00:00:01Z", 1.0, "c1",
        null);
  }
}
