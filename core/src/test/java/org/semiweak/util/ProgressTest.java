package org.semiweak.util;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ProgressTest {
  @Test
  void withAByteTotalAndNoRecordTotalTheLineShowsBytesRateAndAnEta() throws InterruptedException {
    List<String> lines = new ArrayList<>();
    Progress p = Progress.start("prep read", -1, 4L << 20, Duration.ZERO, lines::add);
    Thread.sleep(5); // some elapsed time, so that a rate exists
    p.addBytes(1L << 20);
    p.add(10);
    assertThat(lines).as("one line per add with a zero interval").hasSize(1);
    assertThat(lines.get(0)).as("records, bytes of the total, record rate, byte rate, ETA")
        .startsWith("prep read: 10 records, 1.0 MiB of 4.0 MiB (25.0%), ")
        .contains("MiB/s").contains(", ETA ");
    p.close();
    assertThat(lines.get(1)).startsWith("prep read: done 10 records (1.0 MiB) in ");
  }

  @Test
  void withoutBytesTheLineIsAsBefore() {
    List<String> lines = new ArrayList<>();
    Progress p = Progress.start("score", 100, Duration.ZERO, lines::add);
    p.add(25);
    assertThat(lines.get(0)).startsWith("score: 25/100 (25.0%), ").doesNotContain("B/s");
  }

  @Test
  void aRateBelowOneASecondIsNotShownAsZero() {
    List<String> lines = new ArrayList<>();
    Progress p = Progress.start("steps", 2270, Duration.ZERO, lines::add);
    // 200 steps in 400 s, as a self-supervised teacher on two cores.
    assertThat(p.line(200, System.nanoTime() + 400_000_000_000L)).startsWith("steps: 200/2,270 (8.8%), 0.50/s, ETA ");
    assertThat(Progress.formatRate(12_345.6)).isEqualTo("12,346");
    assertThat(Progress.formatRate(12.34)).isEqualTo("12.3");
  }
}
