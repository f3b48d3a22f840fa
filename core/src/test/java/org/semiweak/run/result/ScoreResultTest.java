package org.semiweak.run.result;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.semiweak.util.Json;

/**
 * Scores say whether they kept every image's logits (what distill needs), and score manifests
 * written before logits could be kept still read, as scores without them.
 */
class ScoreResultTest {
  /** A score result as semiweak wrote it before the logits option existed. */
  private static final String BEFORE_LOGITS = """
      {
        "classes" : 10,
        "executors" : [ "driver" ],
        "imagesPerSecond" : 812.5,
        "model" : null,
        "modelLoads" : 1,
        "partitions" : 2,
        "pmax" : 3,
        "rejectedExamples" : [ ],
        "split" : "unlabeled"
      }
      """;

  @Test
  void aResultWrittenBeforeLogitsCouldBeKeptReadsAsScoresWithoutLogits() {
    ScoreResult r = Json.read(BEFORE_LOGITS, ScoreResult.class);
    assertThat(r.pmax()).isEqualTo(3);
    assertThat(r.hasLogits()).isFalse();
    assertThat(r.publication()).isEqualTo(new Publication.Scores(3, 10, false));
  }

  @Test
  void scoresWithLogitsPublishThemAndSayItInTheirManifest() {
    ScoreResult r = new ScoreResult("unlabeled", 3, 10, null, 1.0, 1, 1, List.of(), List.of(), true);
    assertThat(r.publication().logits()).isTrue();
    ScoreResult back = Json.read(Json.write(r), ScoreResult.class);
    assertThat(back.hasLogits()).isTrue();
    assertThat(Json.write(r)).contains("\"logits\" : true");
  }
}
