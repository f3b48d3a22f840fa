package org.semiweak.prep;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.semiweak.config.ConfigException;
import org.semiweak.prep.source.Metadata;
import org.semiweak.prep.source.SplitRule;
import org.semiweak.run.RunDir;
import org.semiweak.run.StagePlan;
import org.semiweak.run.Upstream;
import org.semiweak.run.result.Publication;

/**
 * What used to be silent in getting data in (issue #19) is now a clear error before any Spark job:
 * a vocabulary whose classes are not the labeled set's, a CSV without a split column, inputs that do
 * not say where their records go, options of another source.
 */
class PrepareImagesInputsOptionsTest {
  @org.junit.jupiter.api.io.TempDir java.nio.file.Path tmp;
  private RunDir run;

  @org.junit.jupiter.api.BeforeEach
  void newRun() {
    run = PrepTestSupport.newRun(tmp);
  }

  private StagePlan plan(Map<String, ?> raw) {
    return PrepTestSupport.stage(run, raw).plan(new Upstream(run));
  }

  private void assertPlanFails(Map<String, ?> raw, String... messageParts) {
    assertThatThrownBy(() -> plan(raw)).as("options " + raw).isInstanceOf(ConfigException.class)
        .satisfies(e -> {
          for (String part : messageParts) {
            assertThat(e.getMessage()).contains(part);
          }
        });
  }

  /** A labeled folder with a CSV path,label,tags of classes Coat and Bag. */
  private Map<String, Object> labeledInput() throws IOException {
    java.nio.file.Path images = Files.createDirectories(tmp.resolve("labeled"));
    Files.write(images.resolve("c.png"), PrepareImagesSeveralInputsTest.png(1));
    Files.write(images.resolve("b.png"), PrepareImagesSeveralInputsTest.png(2));
    java.nio.file.Path csv = Files.writeString(tmp.resolve("labeled.csv"), "path,label,tags\nc.png,Coat,#coat\nb.png,Bag,\n");
    return Map.of("source", "folder", "path", images.toString(), "metadata", csv.toString(), "split", "labeled");
  }

  @Test
  void aVocabularyWhoseClassesAreNotTheLabeledSetsIsRefusedNamingTheDifference() throws IOException {
    Map<String, Object> labeled = labeledInput();
    java.nio.file.Path header = Files.writeString(tmp.resolve("v.csv"), "tag,class_name\n#coat,Coat\n#bag,Bag\n");
    assertThat(((Publication.Images) plan(Map.of("vocabulary", header.toString(), "inputs", List.of(labeled)))
        .publication()).classes()).as("the header is recognized: the classes are Coat and Bag")
        .containsExactly("Coat", "Bag");
    assertPlanFails(Map.of("vocabulary", header.toString(), "vocabulary-header", "no", "inputs", List.of(labeled)),
        "vocabulary classes without a labeled image: [class_name]", "[class_name, Coat, Bag]", "vocabulary-header");
    java.nio.file.Path other = Files.writeString(tmp.resolve("w.csv"), "tag,class\n#coat,Coat\n#hat,Hat\n");
    assertPlanFails(Map.of("vocabulary", other.toString(), "inputs", List.of(labeled)),
        "labels not in the vocabulary (with their labeled rows): {Bag=1}",
        "vocabulary classes without a labeled image: [Hat]");
  }

  @Test
  void aCsvWithLabelsButNoSplitColumnIsAnErrorUnlessTheDefaultSplitIsSaid() throws IOException {
    java.nio.file.Path images = Files.createDirectories(tmp.resolve("images"));
    java.nio.file.Path csv = Files.writeString(tmp.resolve("meta.csv"), "path,label,tags\na.png,Coat,\n");
    Map<String, String> single = Map.of("source", "folder", "input", images.toString(), "metadata", csv.toString());
    assertPlanFails(single, "has a 'label' column but no 'split' column", "every row would go to the default split "
        + "'unlabeled'", "set default-split explicitly", "'inputs'");
    assertThat(plan(Map.of("source", "folder", "input", images.toString(), "metadata", csv.toString(),
        "default-split", "unlabeled"))).as("said explicitly: accepted").isNotNull();
    assertPlanFails(Map.of("inputs", List.of(Map.of("source", "folder", "path", images.toString(),
            "metadata", csv.toString(), "split-column", "split"))),
        "prep.inputs[0].split-column: " + csv + " has no column 'split' (its columns: [path, label, tags])");
  }

  @Test
  void everyInputSaysWhereItsRecordsGoAndOnlyWhatItsSourceReads() throws IOException {
    java.nio.file.Path images = Files.createDirectories(tmp.resolve("plain"));
    assertPlanFails(Map.of("inputs", List.of(Map.of("source", "folder", "path", images.toString()))),
        "prep.inputs[0]: give 'split' (every record of this input goes there", "or 'split-column'");
    assertPlanFails(Map.of("inputs", List.of(Map.of("source", "webdataset", "path", images.toString(),
            "split", "unlabeled", "metadata", "m.csv"))),
        "prep.inputs[0].metadata: a webdataset input carries its metadata in sidecars");
    assertPlanFails(Map.of("inputs", List.of(Map.of("source", "folder", "path", images.toString(), "split", "test"))),
        "labeled, validation and test images need their labels from a metadata file");
    assertPlanFails(Map.of("inputs", List.of(Map.of("source", "folder", "path", images.toString(), "spilt", "test"))),
        "prep.inputs[0]: unknown option 'spilt' (did you mean 'split'?)");
    assertPlanFails(Map.of("source", "folder", "inputs", List.of(Map.of("source", "folder", "path", images.toString(),
            "split", "unlabeled"))),
        "prep.source: with 'inputs' each input sets its own source");
    assertPlanFails(Map.of("inputs", List.of(
            Map.of("source", "folder", "path", images.toString(), "split", "unlabeled"),
            Map.of("source", "folder", "path", images.toString(), "split", "unlabeled"))),
        "prep.inputs[1]: another input is also named 'unlabeled'");
  }

  @Test
  void theLogShowsOnlyTheOptionsOfTheSourcesRead() throws IOException {
    java.nio.file.Path shards = Files.createDirectories(tmp.resolve("shards"));
    PrepareImagesSeveralInputsTest.tar(shards.resolve("a.tar"), "x.png", PrepareImagesSeveralInputsTest.png(1));
    PrepareImages webdataset = PrepTestSupport.stage(run, Map.of("source", "webdataset", "input", shards.toString()));
    StagePlan plan = webdataset.plan(new Upstream(run));
    assertThat(webdataset.applicableOptions(plan.options()).keySet()).as("a webdataset prep logs")
        .contains("source", "input", "default-split", "image-size")
        .doesNotContain("simulate-tags", "simulate-tags-accuracy", "labeled-per-class", "id-prefix", "seed",
            "metadata", "unlisted-files", "inputs");
    PrepareImages several = PrepTestSupport.stage(run, Map.of("inputs", List.of(
        Map.of("source", "webdataset", "path", shards.toString(), "split", "unlabeled"))));
    assertThat(several.applicableOptions(several.plan(new Upstream(run)).options()).keySet()).as("with inputs")
        .contains("inputs").doesNotContain("source", "input", "default-split", "simulate-tags");
  }

  @Test
  void theFingerprintCoversEveryInputAndHowItIsSplit() throws IOException {
    java.nio.file.Path shards = Files.createDirectories(tmp.resolve("fp-shards"));
    PrepareImagesSeveralInputsTest.tar(shards.resolve("a.tar"), "x.png", PrepareImagesSeveralInputsTest.png(1));
    Map<String, Object> labeled = labeledInput();
    StagePlan first = plan(Map.of("vocabulary", writeVocabulary(), "inputs", List.of(labeled,
        Map.of("source", "webdataset", "path", shards.toString(), "split", "unlabeled"))));
    assertThat(first.inputs()).extracting(i -> i.name()).as("inputs named per prep input")
        .contains("input:labeled", "metadata:labeled", "input:unlabeled", "vocabulary");
    StagePlan other = plan(Map.of("vocabulary", writeVocabulary(), "inputs", List.of(labeled,
        Map.of("source", "webdataset", "path", shards.toString(), "split", "test"))));
    assertThat(other.fingerprint()).as("another split of an input, another fingerprint").isNotEqualTo(first.fingerprint());
    PrepareImagesSeveralInputsTest.tar(shards.resolve("b.tar"), "y.png", PrepareImagesSeveralInputsTest.png(2));
    assertThat(plan(Map.of("vocabulary", writeVocabulary(), "inputs", List.of(labeled,
        Map.of("source", "webdataset", "path", shards.toString(), "split", "unlabeled")))).fingerprint())
        .as("a new shard, another fingerprint").isNotEqualTo(first.fingerprint());
  }

  private String writeVocabulary() throws IOException {
    return Files.writeString(tmp.resolve("vocabulary.yaml"), "classes:\n  Coat: ['#coat']\n  Bag: ['#bag']\n").toString();
  }

  @Test
  void anEvaluationLabelIsForUnlabeledImagesOnlyAndASplitNamedAgainstTheInputsIsQuarantined() throws IOException {
    java.nio.file.Path csv = Files.writeString(tmp.resolve("m.csv"), "path,label,split,eval_label\n");
    Metadata md = Metadata.open(org.apache.hadoop.fs.FileSystem.getLocal(new org.apache.hadoop.conf.Configuration()),
        new org.apache.hadoop.fs.Path(csv.toUri()), SplitRule.byColumn("split", null));
    org.semiweak.data.Vocabulary v = new org.semiweak.data.Vocabulary(List.of("Coat", "Bag"), Map.of());
    assertThat(md.parse("a.png,,unlabeled,Bag", v).label()).as("eval_label of an unlabeled image").isEqualTo(1);
    assertThat(md.parse("a.png,Coat,labeled,Bag", v).reason()).as("eval_label on a labeled image")
        .isEqualTo(Reason.BAD_METADATA);
    assertThat(md.parse("a.png,Coat,labeled,Bag", v).detail()).contains("eval_label is for unlabeled images only");
    assertThat(md.parse("a.png,,,", v).detail()).as("no split and no default-split")
        .contains("no split: 'split' is empty and the input has no default-split");
    Metadata forced = Metadata.open(org.apache.hadoop.fs.FileSystem.getLocal(new org.apache.hadoop.conf.Configuration()),
        new org.apache.hadoop.fs.Path(csv.toUri()), SplitRule.forced("test"));
    assertThat(forced.parse("a.png,Coat,labeled,", v).detail()).as("a row naming another split than its input's")
        .contains("names split 'labeled' but its input's split is 'test'");
    assertThat(forced.parse("a.png,Coat,,", v).split()).isEqualTo("test");
  }
}
