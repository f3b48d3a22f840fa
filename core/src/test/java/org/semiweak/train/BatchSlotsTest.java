package org.semiweak.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.semiweak.model.ModelSpec;

/** Joint training: a fixed number of every batch's slots comes from the labeled pool. */
class BatchSlotsTest {
  private static final ModelSpec SPEC = ModelSpec.smallResNet(1, 8, 2, 1, 16);

  /** {@code labeled} images in the labeled pool ("l-0", ...) and {@code others} scored ones ("s-0", ...). */
  private static ExampleShard shard(int labeled, int others) {
    ExampleShard.Builder b = ExampleShard.builder(SPEC);
    for (int i = 0; i < others; i++) {
      b.addPixels(String.format("s-%03d", i), new byte[SPEC.imageValues()], i % 2);
    }
    for (int i = 0; i < labeled; i++) {
      b.addPixels(String.format("l-%03d", i), new byte[SPEC.imageValues()], i % 2).markLabeledPool();
    }
    return b.build();
  }

  @Test
  void everyBatchTakesItsLabeledSlotsFromTheLabeledPoolAndWalksEachPoolInEpochs() {
    ExampleShard shard = shard(6, 30);
    TrainOptions options = TrainOptions.builder().setTotalSteps(100).optBatchSize(8).optLabeledPerBatch(2)
        .optSeed(5).build();
    BatchSlots slots = BatchSlots.of(shard, options, 0);

    Set<String> labeledSeenInThreeSteps = new HashSet<>();
    Set<String> othersSeenInFiveSteps = new HashSet<>();
    for (long step = 0; step < 5; step++) {
      for (int slot = 0; slot < 8; slot++) {
        String id = shard.id(slots.indexAt(step, slot));
        if (slot < 2) {
          assertThat(id).as("step %d slot %d", step, slot).startsWith("l-");
          if (step < 3) {
            labeledSeenInThreeSteps.add(id);
          }
        } else {
          assertThat(id).as("step %d slot %d", step, slot).startsWith("s-");
          othersSeenInFiveSteps.add(id);
        }
      }
    }
    assertThat(labeledSeenInThreeSteps).as("6 labeled images, 2 a step: one epoch of them in 3 steps").hasSize(6);
    assertThat(othersSeenInFiveSteps).as("30 others, 6 a step: one epoch of them in 5 steps").hasSize(30);
  }

  @Test
  void withoutJointTrainingTheWalkCoversTheWholeShardAndAShardWithOnePoolOnlyIsRefused() {
    ExampleShard shard = shard(6, 30);
    TrainOptions plain = TrainOptions.builder().setTotalSteps(100).optBatchSize(4).optSeed(5).build();
    BatchSlots slots = BatchSlots.of(shard, plain, 0);
    Set<Integer> seen = new HashSet<>();
    for (long step = 0; step < 9; step++) {
      for (int slot = 0; slot < 4; slot++) {
        seen.add(slots.indexAt(step, slot));
      }
    }
    assertThat(seen).as("36 images, 4 a step: one epoch in 9 steps").hasSize(36);

    TrainOptions joint = plain.toBuilder().optLabeledPerBatch(1).build();
    assertThatThrownBy(() -> BatchSlots.of(shard(0, 30), joint, 1))
        .hasMessageContaining("worker 1's shard of 30 images has 0 labeled and 30 other images")
        .hasMessageContaining("use fewer workers");
    assertThatThrownBy(() -> plain.toBuilder().optLabeledPerBatch(4).build())
        .hasMessageContaining("labeledPerBatch must be in [0, batchSize=4), found 4");
  }
}
