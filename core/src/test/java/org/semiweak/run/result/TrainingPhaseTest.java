package org.semiweak.run.result;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.semiweak.run.StageManifest;
import org.semiweak.util.Json;

/**
 * A training phase's learning curve carries each round's training-batch accuracy, and manifests
 * written before it was recorded still read, without one.
 */
class TrainingPhaseTest {
  /** A training phase as semiweak wrote it before the training-batch accuracy existed. */
  private static final String WITHOUT_ACCURACY = """
      {
        "epochs" : 1,
        "examples" : 64,
        "examplesSeen" : 64,
        "executors" : [ "driver" ],
        "finalLoss" : 0.9,
        "learningCurve" : [ {
          "imagesPerSecond" : 120.0,
          "loss" : 1.5,
          "round" : 1,
          "step" : 2
        }, {
          "imagesPerSecond" : 130.0,
          "loss" : 0.9,
          "round" : 2,
          "step" : 4
        } ],
        "name" : "labeled",
        "roundsResumed" : 0,
        "roundsRun" : 2,
        "seconds" : 1.5,
        "totalSteps" : 4,
        "workers" : 1
      }
      """;

  @Test
  void aPhaseWrittenBeforeTheTrainingAccuracyStillReadsWithoutIt() {
    TrainingPhase p = Json.read(WITHOUT_ACCURACY, TrainingPhase.class);
    assertThat(p.learningCurve()).extracting(TrainingPhase.CurvePoint::loss).containsExactly(1.5, 0.9);
    assertThat(p.learningCurve()).extracting(TrainingPhase.CurvePoint::trainAccuracy)
        .as("no training-batch accuracy").containsExactly(null, null);

    ModelResult result = modelResult(p);
    StageManifest manifest = manifest(Json.MAPPER.valueToTree(result));
    assertThat(StageManifest.fromJson(manifest.toJson()).result(ModelResult.class)).as("through a manifest")
        .isEqualTo(result);
  }

  @Test
  void withoutTheAccuracyTheJsonIsAsBefore() throws Exception {
    TrainingPhase p = Json.read(WITHOUT_ACCURACY, TrainingPhase.class);
    assertThat(Json.MAPPER.readTree(Json.write(p))).as("no trainAccuracy field, not even null")
        .isEqualTo(Json.MAPPER.readTree(WITHOUT_ACCURACY));
  }

  @Test
  void theTrainingAccuracyGoesThroughAManifest() {
    TrainingPhase p = new TrainingPhase("labeled", 64, 64, 4, 1, 1, 2, 0, 1.5, 0.9, List.of("driver"), List.of(
        new TrainingPhase.CurvePoint(1, 2, 1.5, 120.0, 0.5), new TrainingPhase.CurvePoint(2, 4, 0.9, 130.0, 0.75)));
    JsonNode json = Json.MAPPER.valueToTree(modelResult(p));
    assertThat(json.at("/training/0/learningCurve/1/trainAccuracy").asDouble()).as("a fraction, as top-1 is")
        .isEqualTo(0.75);
    ModelResult back = StageManifest.fromJson(manifest(json).toJson()).result(ModelResult.class);
    assertThat(back.phase("labeled").learningCurve()).extracting(TrainingPhase.CurvePoint::trainAccuracy)
        .containsExactly(0.5, 0.75);
  }

  private static ModelResult modelResult(TrainingPhase p) {
    return new ModelResult(new ModelDescription("semiweak-resnet", "resnet", "abc", 8, 1, 2, null), List.of(p), 0.8, 0.95, 100);
  }

  private static StageManifest manifest(JsonNode result) {
    return new StageManifest(2, "baseline", "baseline", "test", "fp", Map.of(), List.of(),
        Map.of("trained", 64L), result, "2026-11-30T00:00:00Z", "2026-11-30T00:00:01Z", 1.0, "c1", null);
  }
}
