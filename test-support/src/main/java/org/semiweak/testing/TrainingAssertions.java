package org.semiweak.testing;

import static org.assertj.core.api.Assertions.assertThat;

import org.semiweak.run.result.TrainingPhase;

/** What every training phase of a model stage promises, as assertions shared by the teacher and student tests. */
public final class TrainingAssertions {
  private TrainingAssertions() {}

  /**
   * {@code p} trained {@code epochs} passes over its {@code examples} images with {@code batch}
   * images per step over all {@code workers} (each takes its share), in a fresh run, and ended with a
   * finite loss.
   *
   * @param what names the phase in failure messages
   */
  public static void assertTrained(String what, TrainingPhase p, long examples, int epochs, int batch, int workers) {
    assertThat(p.examples()).as("%s: examples = the images of its training set", what).isEqualTo(examples);
    assertThat(p.epochs()).as("%s: epochs", what).isEqualTo(epochs);
    assertThat(p.workers()).as("%s: workers", what).isEqualTo(workers);
    long stepsPerEpoch = (examples + batch - 1) / batch;
    assertThat(p.totalSteps()).as("%s: steps = epochs x ceil(examples / global batch), whatever the workers", what)
        .isEqualTo(epochs * stepsPerEpoch);
    assertThat(p.examplesSeen()).as("%s: every step of every worker trained on its full share of the batch", what)
        .isEqualTo(p.totalSteps() * batch)
        .isGreaterThanOrEqualTo(epochs * examples);
    assertThat(p.roundsResumed()).as("%s: nothing to resume in a fresh run", what).isZero();
    assertThat(p.roundsRun()).as("%s: rounds run", what).isPositive();
    assertThat(p.learningCurve()).as("%s: one curve point per round", what).hasSize(p.roundsRun());
    assertThat(p.finalLoss()).as("%s: final loss is finite and positive", what).isFinite().isPositive();
    TrainingPhase.CurvePoint last = p.learningCurve().get(p.learningCurve().size() - 1);
    assertThat(last.loss()).as("%s: final loss = the last round's mean loss", what).isEqualTo(p.finalLoss());
    assertThat(last.step()).as("%s: the curve ends at the last step", what).isEqualTo(p.totalSteps());
    assertThat(p.executors()).as("%s: the executors that trained", what).isNotEmpty();
  }
}
