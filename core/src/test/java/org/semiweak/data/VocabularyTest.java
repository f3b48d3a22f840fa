package org.semiweak.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class VocabularyTest {
  @Test
  void manyTagsMapToOneClassAndUnknownTagsAreIgnored() {
    Vocabulary v = Vocabulary.fromTagCsv("tag,class\n#tee,shirt\n#tshirt,shirt\n#boot,boot\n", null);
    assertThat(v.classes()).containsExactly("shirt", "boot");
    assertThat(v.classesOf(List.of("#TEE ", "#tshirt", "#boot", "#cat"))).containsExactly(0, 1);
    assertThat(v.classOf("#cat")).as("unknown tag").isEqualTo(-1);
  }

  @Test
  void roundTripsThroughJson() {
    Vocabulary v = new Vocabulary(List.of("a", "b"), Map.of("x", 1, "y", 0));
    assertThat(Vocabulary.fromJson(v.toJson())).isEqualTo(v);
  }

  @Test
  void rejectsTagsPointingOutsideTheClassList() {
    assertThatThrownBy(() -> new Vocabulary(List.of("a"), Map.of("x", 3)))
        .hasMessageContaining("tag 'x' maps to class 3, expected 0..0");
  }
}
