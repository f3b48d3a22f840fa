package org.semiweak.train;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class SampleScheduleTest {
  private static List<Integer> epoch(SampleSchedule s, int size, int e) {
    List<Integer> out = new ArrayList<>();
    for (int i = 0; i < size; i++) {
      out.add(s.indexAt((long) e * size + i));
    }
    return out;
  }

  @Test
  void everyEpochVisitsEachImageOnceInADifferentOrder() {
    SampleSchedule s = new SampleSchedule(50, 3, 0);
    List<Integer> first = epoch(s, 50, 0);
    List<Integer> second = epoch(s, 50, 1);
    assertThat(first).as("a permutation").doesNotHaveDuplicates().hasSize(50).allMatch(i -> i >= 0 && i < 50);
    assertThat(second).doesNotHaveDuplicates().hasSize(50);
    assertThat(second).as("reshuffled each epoch").isNotEqualTo(first);
  }

  @Test
  void positionsDependOnlyOnSeedWorkerAndPosition() {
    SampleSchedule a = new SampleSchedule(50, 3, 0);
    SampleSchedule b = new SampleSchedule(50, 3, 0);
    assertThat(a.indexAt(1234)).as("no hidden state: a fresh schedule agrees").isEqualTo(b.indexAt(1234));
    assertThat(epoch(new SampleSchedule(50, 3, 1), 50, 0)).as("other worker").isNotEqualTo(epoch(a, 50, 0));
  }
}
