package org.semiweak.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class BenchFlagsTest {
  private static final String USAGE = "usage: Bench [--images N] [--k K1,K2] [--verify]";

  private static BenchFlags parse(String... args) {
    return BenchFlags.parse(args, USAGE, List.of("--images", "--k", "--master", "--methods"), List.of("--verify"));
  }

  @Test
  void givenFlagsOverrideTheDefaultsAndAbsentOnesKeepThem() {
    BenchFlags f = parse("--images", "1_000_000", "--k", "1000, 16000", "--verify");
    assertThat(f.longValue("--images", 5)).isEqualTo(1_000_000L);
    assertThat(f.ints("--k", new int[] {1})).containsExactly(1000, 16000);
    assertThat(f.has("--verify")).isTrue();
    assertThat(f.string("--master", "local[2]")).isEqualTo("local[2]");
    assertThat(f.strings("--methods", List.of("scan"))).containsExactly("scan");
  }

  @Test
  void badCommandLinesFailWithTheProblemAndTheUsage() {
    assertThatThrownBy(() -> parse("--imagez", "3")).hasMessageStartingWith("unknown flag --imagez").hasMessageContaining(USAGE);
    assertThatThrownBy(() -> parse("--images")).hasMessageStartingWith("flag --images needs a value");
    assertThatThrownBy(() -> parse("--images", "many").integer("--images", 1))
        .hasMessageStartingWith("flag --images needs a whole number, got 'many'");
    assertThatThrownBy(() -> parse("--k", "1,x").ints("--k", new int[0]))
        .hasMessageStartingWith("flag --k needs a whole number, got 'x'");
  }

  @Test
  void helpThrowsTheUsage() {
    assertThatThrownBy(() -> parse("--images", "3", "--help"))
        .isInstanceOf(BenchFlags.HelpRequested.class).hasMessage(USAGE);
  }
}
