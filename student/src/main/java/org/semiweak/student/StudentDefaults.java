package org.semiweak.student;

import org.semiweak.stage.TrainingOptionSpecs;

/** Default architecture and schedules of the student, shared so that the baseline is the same model. */
final class StudentDefaults {
  /** Smaller than the default teacher (32/64/128, 2 blocks per stage), as in the paper's setting. */
  static final int[] WIDTHS = {16, 32, 64};
  static final int[] BLOCKS = {1};

  static final TrainingOptionSpecs.Defaults PRETRAIN =
      new TrainingOptionSpecs.Defaults(WIDTHS, BLOCKS, 4, 64, 0.1, 5e-4, 0, 50);
  static final TrainingOptionSpecs.Defaults FINETUNE =
      new TrainingOptionSpecs.Defaults(null, null, 30, 64, 0.01, 5e-4, 0, 10);
  static final TrainingOptionSpecs.Defaults BASELINE =
      new TrainingOptionSpecs.Defaults(WIDTHS, BLOCKS, 60, 64, 0.05, 5e-4, 2, 10);

  private StudentDefaults() {}
}
