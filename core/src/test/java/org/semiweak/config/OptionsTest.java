package org.semiweak.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class OptionsTest {
  static final OptionSpec<Integer> K = OptionSpec.intOption("k", 16000, 1, Integer.MAX_VALUE, "images per class");
  static final OptionSpec<String> TEACHER = OptionSpec.stringOption("teacher", null, "teacher name");
  static final OptionSpec<int[]> WIDTHS = OptionSpec.intListOption("widths", new int[] {16, 32}, "stage widths");
  static final List<OptionSpec<?>> SPECS = List.of(K, TEACHER, WIDTHS);

  @Test
  void fillsDefaultsAndParsesValuesFromFlagsOrYaml() {
    Options o = Options.parse("select", SPECS, Map.of("teacher", "semi-weak", "widths", List.of(8, 16, 32)));
    assertThat(o.get(K)).isEqualTo(16000);
    assertThat(o.get(WIDTHS)).containsExactly(8, 16, 32);
    assertThat(o.effective()).containsEntry("widths", List.of(8, 16, 32)).containsEntry("k", 16000);
  }

  @Test
  void rejectsUnknownKeysWithTheClosestKnownOne() {
    assertThatThrownBy(() -> Options.parse("select", SPECS, Map.of("kk", "3")))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("select: unknown option 'kk' (did you mean 'k'?)");
  }

  @Test
  void rejectsBadValuesSayingWhatWasExpected() {
    assertThatThrownBy(() -> Options.parse("select", SPECS, Map.of("k", "0")))
        .hasMessageContaining("select.k: expected an integer in [1, 2147483647], found '0'");
    assertThatThrownBy(() -> Options.parse("select", SPECS, Map.of("k", "many")))
        .hasMessageContaining("found 'many'");
  }

  @Test
  void aMissingRequiredOptionIsReportedWhenRead() {
    Options o = Options.parse("score", SPECS, Map.of());
    assertThatThrownBy(() -> o.get(TEACHER)).hasMessageContaining("option 'teacher' is required");
  }

  static final OptionSpec<List<Map<String, Object>>> INPUTS = OptionSpec.mappingListOption("inputs", "inputs");

  @Test
  void aMappingListComesFromYamlOrFromYamlFlowTextOnTheCommandLine() {
    List<Map<String, Object>> fromYaml = Options.parse("prep", List.of(INPUTS),
        Map.of("inputs", List.of(Map.of("source", "folder", "path", "/x")))).get(INPUTS);
    List<Map<String, Object>> fromFlag = Options.parse("prep", List.of(INPUTS),
        Map.of("inputs", "[{source: folder, path: /x}]")).get(INPUTS);
    assertThat(fromFlag).isEqualTo(fromYaml).containsExactly(Map.of("source", "folder", "path", "/x"));
    assertThat(Options.parse("prep", List.of(INPUTS), Map.of()).get(INPUTS)).as("default").isEmpty();
    assertThatThrownBy(() -> Options.parse("prep", List.of(INPUTS), Map.of("inputs", "folder")))
        .isInstanceOf(ConfigException.class).hasMessageContaining("prep.inputs: expected a list of mappings");
  }

  @Test
  void tellsAGivenOptionFromADefault() {
    Options o = Options.parse("select", SPECS, Map.of("teacher", "t", "k", "16000"));
    assertThat(o.isSet(K)).as("given, even with the default value").isTrue();
    assertThat(o.isSet(WIDTHS)).as("default").isFalse();
  }

  @Test
  void helpTellsARequiredOptionFromAnOptionalOneWithoutDefault() {
    OptionSpec<Integer> cutout = OptionSpec.intOption("cutout", null, 0, 64, "cutout side").optional();
    String usage = Options.usage(List.of(TEACHER, cutout, K));

    assertThat(usage).containsPattern("--teacher[^\\n]*\\n\\s+\\(required\\)");
    assertThat(usage).containsPattern("--cutout[^\\n]*\\n\\s+\\(optional, no default\\)");
    assertThat(usage).containsPattern("--k[^\\n]*\\n\\s+\\(default: ");
    assertThat(Options.parse("pretrain", List.of(cutout), Map.of()).getOrNull(cutout)).as("absent").isNull();
  }
}
