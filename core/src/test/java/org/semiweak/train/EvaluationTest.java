package org.semiweak.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;
import org.semiweak.util.Json;

class EvaluationTest {
  private final Evaluator.Evaluation e = new Evaluator.Evaluation(3, 10, 6, 9,
      new long[][] {{4, 1, 0}, {1, 2, 1}, {0, 1, 0}});

  @Test
  void derivesAccuraciesFromTheCounts() {
    assertThat(e.top1()).isCloseTo(0.6, within(1e-12));
    assertThat(e.top5()).isCloseTo(0.9, within(1e-12));
    assertThat(e.classCounts()).containsExactly(5, 4, 1);
    assertThat(e.perClassAccuracy()).containsExactly(0.8, 0.5, 0.0);
    assertThat(new Evaluator.Evaluation(2, 0, 0, 0, new long[2][2]).perClassAccuracy())
        .as("a class without images has no accuracy").containsOnly(Double.NaN);
  }

  @Test
  void roundTripsThroughJsonAndMerges() {
    String json = Json.write(e);
    assertThat(json).contains("\"top1\" : 0.6");
    assertThat(Json.read(json, Evaluator.Evaluation.class)).isEqualTo(e);
    Evaluator.Evaluation twice = e.merge(e);
    assertThat(twice.count()).isEqualTo(20);
    assertThat(twice.top1()).isCloseTo(0.6, within(1e-12));
    assertThat(twice.confusion()[0][0]).isEqualTo(8);
  }
}
