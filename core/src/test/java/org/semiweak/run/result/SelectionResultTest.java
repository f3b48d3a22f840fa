package org.semiweak.run.result;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.semiweak.data.SelectionSchema;
import org.semiweak.util.Json;

/**
 * A selection's manifest says the layout of its files: selections committed before class names
 * were written (column {@code class}) still read, as version 1, with their precision.
 */
class SelectionResultTest {
  /** A selection result as semiweak wrote it before class names (no schemaVersion). */
  private static final String BEFORE_CLASS_NAMES = """
      {
        "classes" : [ {
          "candidates" : 40, "classIndex" : 0, "fewerThanK" : false, "maxScore" : 0.99, "meanScore" : 0.9,
          "minScore" : 0.8, "name" : "T-shirt/top", "nanRejected" : 0, "scoreHistogram" : [ 0, 0, 0, 0, 0, 0, 0, 0, 2, 8 ],
          "scoreThreshold" : 0.8, "selected" : 10
        }, {
          "candidates" : 30, "classIndex" : 1, "fewerThanK" : false, "maxScore" : 0.97, "meanScore" : 0.85,
          "minScore" : 0.7, "name" : "Trouser", "nanRejected" : 0, "scoreHistogram" : [ 0, 0, 0, 0, 0, 0, 0, 3, 3, 4 ],
          "scoreThreshold" : 0.7, "selected" : 10
        } ],
        "k" : 10,
        "labelsKnown" : 20,
        "p" : 1,
        "precision" : 0.95,
        "secondsPass1" : 1.5,
        "secondsPass2" : 0.5
      }
      """;

  @Test
  void aResultWrittenBeforeClassNamesReadsAsTheFirstLayoutWithItsPrecision() {
    SelectionResult r = Json.read(BEFORE_CLASS_NAMES, SelectionResult.class);
    assertThat(r.schemaVersion()).as("no schemaVersion: the layout with the column 'class'").isEqualTo(SelectionSchema.V1);
    assertThat(r.precision()).as("precision as committed").isEqualTo(0.95);
    assertThat(r.classNames()).as("class names, in class order").containsExactly("T-shirt/top", "Trouser");
    assertThat(SelectionSchema.schema(r.schemaVersion()).fieldNames()).containsExactly("image_id", "class", "score", "rank");
  }

  @Test
  void aResultWrittenNowSaysItsLayoutInItsManifest() {
    SelectionResult r = new SelectionResult(10, 1, null, 0, List.of(), 0, 0);
    assertThat(r.schemaVersion()).isEqualTo(SelectionSchema.VERSION);
    assertThat(Json.write(r)).contains("\"schemaVersion\" : " + SelectionSchema.VERSION);
    assertThat(Json.read(Json.write(r), SelectionResult.class)).isEqualTo(r);
    assertThat(SelectionSchema.schema(r.schemaVersion()).fieldNames())
        .as("column names usable from Python").containsExactly("image_id", "class_index", "class_name", "score", "rank");
  }
}
