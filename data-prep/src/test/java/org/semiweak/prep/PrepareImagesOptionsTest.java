package org.semiweak.prep;

import org.semiweak.run.Upstream;
import org.semiweak.run.StagePlan;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.semiweak.config.ConfigException;
import org.semiweak.config.Options;
import org.semiweak.run.RunDir;

/** Option and input validation: every mistake is reported before any Spark job, with a message that says what to do. */
class PrepareImagesOptionsTest {
  @org.junit.jupiter.api.io.TempDir java.nio.file.Path tmp;
  private RunDir run;

  @org.junit.jupiter.api.BeforeEach
  void newRun() {
    run = PrepTestSupport.newRun(tmp);
  }

  private void assertPlanFails(Map<String, ?> raw, String... messageParts) {
    assertThatThrownBy(() -> PrepTestSupport.stage(run, raw).plan(new Upstream(run)))
        .as("options " + raw)
        .isInstanceOfAny(ConfigException.class, IllegalStateException.class)
        .satisfies(e -> {
          for (String part : messageParts) {
            assertThat(e.getMessage()).contains(part);
          }
        });
  }

  @Test
  void unknownKeyIsRejectedWithTheClosestKnownKey() {
    assertThatThrownBy(() -> Options.parse("prep", PrepareImages.OPTIONS, Map.of("input", "x", "imagesize", "32")))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("prep: unknown option 'imagesize' (did you mean 'image-size'?)");
  }

  @Test
  void badValuesNameTheOptionAndWhatIsExpected() {
    assertThatThrownBy(() -> Options.parse("prep", PrepareImages.OPTIONS, Map.of("input", "x", "image-size", "big")))
        .hasMessageContaining("prep.image-size: expected an integer in [4, 4096], found 'big'");
    assertThatThrownBy(() -> Options.parse("prep", PrepareImages.OPTIONS, Map.of("input", "x", "source", "s3")))
        .hasMessageContaining("prep.source: expected one of [idx, folder, webdataset], found 's3'");
    assertPlanFails(Map.of("input", PrepTestSupport.fashionMnistDir(), "channels", "2"),
        "prep.channels: expected 1 (gray) or 3 (RGB), found '2'");
  }

  @Test
  void missingOrWrongInputIsReportedBeforeAnySparkJob() throws IOException {
    assertPlanFails(Map.of(), "prep: option 'input' is required");
    assertPlanFails(Map.of("input", tmp.resolve("nowhere").toString()), "does not exist", "check the 'input' option");
    java.nio.file.Path emptyIdx = Files.createDirectories(tmp.resolve("empty-idx"));
    assertPlanFails(Map.of("input", emptyIdx.toString()), "has no train-images-idx3-ubyte or train-images-idx3-ubyte.gz");
    assertPlanFails(Map.of("source", "webdataset", "input", emptyIdx.toString()), "holds no .tar files");
  }

  @Test
  void optionCombinationsMustMakeSense() throws IOException {
    java.nio.file.Path images = Files.createDirectories(tmp.resolve("images"));
    assertPlanFails(Map.of("source", "folder", "input", images.toString()),
        "needs a metadata file", "unlisted-files: unlabeled");
    assertPlanFails(Map.of("source", "folder", "input", images.toString(), "unlisted-files", "unlabeled",
        "labeled-per-class", "5"), "prep.labeled-per-class: applies to another source than 'folder'");
    assertPlanFails(Map.of("source", "folder", "input", images.toString(), "unlisted-files", "unlabeled",
        "validation-per-class", "5"), "prep.validation-per-class: applies to another source than 'folder'");
    assertPlanFails(Map.of("input", PrepTestSupport.fashionMnistDir(), "metadata", "m.csv"),
        "prep.metadata: applies to another source than 'idx'");
    java.nio.file.Path badHeader = Files.writeString(tmp.resolve("meta.csv"), "file,label\na.png,1\n");
    assertPlanFails(Map.of("source", "folder", "input", images.toString(), "metadata", badHeader.toString()),
        "needs a 'path' column");
    java.nio.file.Path vocab = Files.writeString(tmp.resolve("vocab.csv"), "tag,class\n#a,one\n");
    assertPlanFails(Map.of("input", PrepTestSupport.fashionMnistDir(), "vocabulary", vocab.toString()),
        "has label 9 but the vocabulary has 1 classes [one]");
  }

  @Test
  void planFingerprintsInputsAndOptions() throws IOException {
    java.nio.file.Path images = Files.createDirectories(tmp.resolve("fp"));
    Files.write(images.resolve("a.png"), TestImages.grayPng(new byte[28 * 28], 28, 28));
    Map<String, String> raw = Map.of("source", "folder", "input", images.toString(), "unlisted-files", "unlabeled");
    StagePlan first = PrepTestSupport.stage(run, raw).plan(new Upstream(run));
    assertThat(PrepTestSupport.stage(run, raw).plan(new Upstream(run)).fingerprint()).as("same inputs and options, same fingerprint")
        .isEqualTo(first.fingerprint());
    Files.write(images.resolve("b.png"), TestImages.grayPng(new byte[28 * 28], 28, 28));
    assertThat(PrepTestSupport.stage(run, raw).plan(new Upstream(run)).fingerprint()).as("a new input file changes the fingerprint")
        .isNotEqualTo(first.fingerprint());
  }
}
