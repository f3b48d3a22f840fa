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

  @Test
  void aHeaderIsRecognizedByItsColumnNamesAndNeverBecomesAClass() {
    for (String header : List.of("tag,class", "tag,class_name", "Hashtag,Label", "tags , category", "\uFEFFtag,class-name")) {
      Vocabulary v = Vocabulary.fromTagCsv(header + "\n#tee,shirt\n#boot,boot\n", null);
      assertThat(v.classes()).as("classes of a CSV with header '%s'", header).containsExactly("shirt", "boot");
    }
  }

  @Test
  void withAHeaderTheColumnsAreFoundByNameAndOtherColumnsIgnored() {
    Vocabulary v = Vocabulary.fromTagCsv("class_name,notes,tag\nshirt,top wear,#tee\nboot,\"cold, wet\",#boot\n", null);
    assertThat(v.classes()).containsExactly("shirt", "boot");
    assertThat(v.classOf("#boot")).isEqualTo(1);
  }

  @Test
  void theHeaderOptionOverridesDetection() {
    assertThat(Vocabulary.fromTagCsv("tag,class\n#tee,shirt\n", null, Vocabulary.Header.NO).classes())
        .as("header: no makes the first line a mapping").containsExactly("class", "shirt");
    assertThatThrownBy(() -> Vocabulary.fromTagCsv("word,kind\n#tee,shirt\n", null, Vocabulary.Header.YES))
        .as("header: yes with names that say nothing is refused")
        .hasMessageContaining("the header [word, kind] names no tag column");
    assertThat(Vocabulary.fromTagCsv("#tee,shirt\n#boot,boot\n", null, Vocabulary.Header.AUTO).classes())
        .as("no header").containsExactly("shirt", "boot");
  }

  @Test
  void documentsListClassesWithTagsByNameOrIndexOrTagsPerClass() {
    Vocabulary byTag = Vocabulary.fromDocument(Map.of("classes", List.of("shirt", "boot"),
        "tags", Map.of("#tee", "shirt", "#boot", 1)));
    Vocabulary byClass = Vocabulary.fromDocument(new java.util.LinkedHashMap<>(Map.of("classes",
        new java.util.LinkedHashMap<>(java.util.Map.of("shirt", List.of("#tee"))))));
    assertThat(byTag.classes()).containsExactly("shirt", "boot");
    assertThat(byTag.classOf("#boot")).isEqualTo(1);
    assertThat(byClass.classes()).containsExactly("shirt");
    assertThat(byClass.classOf("#tee")).isEqualTo(0);
    assertThatThrownBy(() -> Vocabulary.fromDocument(Map.of("classes", List.of("shirt"), "tags", Map.of("#x", "hat"))))
        .hasMessageContaining("tag '#x' maps to class 'hat', which is not in 'classes' [shirt]");
    assertThatThrownBy(() -> Vocabulary.fromDocument(Map.of("clases", List.of("shirt"))))
        .hasMessageContaining("unknown key 'clases'");
  }
}
