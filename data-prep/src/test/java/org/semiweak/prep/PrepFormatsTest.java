package org.semiweak.prep;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.semiweak.data.Vocabulary;
import org.semiweak.run.RunDir;
import org.semiweak.run.StageManifest;
import org.semiweak.run.result.PrepResult;
import org.semiweak.util.Json;

/**
 * The format examples that {@code semiweak help prep} and the README show are ingested exactly as
 * written: one per source kind, the vocabulary in CSV, JSON and YAML, and the config that reads the
 * three inputs in one prep.
 */
class PrepFormatsTest {
  /** Removed after each test, as every test's files are. */
  @org.junit.jupiter.api.io.TempDir java.nio.file.Path scratch;


  @Test
  void theExamplesAsWrittenMakeOnePrepAndTheThreeVocabulariesAreOne() throws IOException {
    java.nio.file.Path tmp = PrepTestSupport.tempDir(scratch, "prep-formats");
    java.nio.file.Path root = tmp.resolve("shop");
    List<Object> shard = new ArrayList<>();
    int seed = 100;
    for (PrepFormats.ExampleFile f : PrepFormats.WEBDATASET_SHARD) {
      shard.add(f.name());
      shard.add(f.text() == null ? image(f.name(), seed++) : f.text().getBytes(StandardCharsets.UTF_8));
    }
    PrepareImagesSeveralInputsTest.tar(root.resolve("shards/part-000.tar"), shard.toArray());
    for (String path : List.of("coats/c1.png", "bags/b1.png", "shoes/s1.jpg")) {
      PrepareImagesSeveralInputsTest.write(root.resolve("labeled"), path, image(path, seed++));
    }
    for (String path : List.of("t1.png", "t2.png", "t3.png")) {
      PrepareImagesSeveralInputsTest.write(root.resolve("test"), path, image(path, seed++));
    }
    Files.writeString(root.resolve("labeled.csv"), PrepFormats.LABELED_CSV);
    Files.writeString(root.resolve("test.jsonl"), PrepFormats.TEST_JSONL);
    Files.writeString(root.resolve("vocabulary.csv"), PrepFormats.VOCABULARY_CSV);

    String config = PrepFormats.PREP_CONFIG.replace(PrepFormats.EXAMPLE_ROOT, root.toString());
    @SuppressWarnings("unchecked")
    Map<String, Object> prep = (Map<String, Object>) Json.YAML.readValue(config, Map.class).get("prep");
    RunDir run = PrepTestSupport.newRun(tmp);
    StageManifest m = PrepTestSupport.prep(run, prep);

    assertThat(m.result(PrepResult.class).classes()).containsExactly("Coat", "Bag", "Sneaker");
    assertThat(m.count("written.unlabeled")).as("the three samples of the shard").isEqualTo(3);
    assertThat(m.count("written.labeled")).as("the three rows of labeled.csv").isEqualTo(3);
    assertThat(m.count("written.test")).as("the three rows of test.jsonl").isEqualTo(3);
    assertThat(m.count("quarantined")).as("nothing of the examples is refused").isZero();
    assertThat(m.count("unlabeled.with-eval-label")).as("000003 carries an eval_label").isEqualTo(1);

    Vocabulary csv = PrepareImages.loadVocabulary(root.resolve("vocabulary.csv").toString(), "auto", new Configuration());
    Files.writeString(root.resolve("vocabulary.json"), PrepFormats.VOCABULARY_JSON);
    Files.writeString(root.resolve("vocabulary.yaml"), PrepFormats.VOCABULARY_YAML);
    assertThat(PrepareImages.loadVocabulary(root.resolve("vocabulary.json").toString(), "auto", new Configuration()))
        .as("the JSON example is the CSV's vocabulary").isEqualTo(csv);
    assertThat(PrepareImages.loadVocabulary(root.resolve("vocabulary.yaml").toString(), "auto", new Configuration()))
        .as("the YAML example is the CSV's vocabulary").isEqualTo(csv);
  }

  @Test
  void theReadmeAndTheHelpShowEveryExampleAsTheTestIngestsIt() throws IOException {
    String readme = Files.readString(java.nio.file.Path.of("..", "README.md"));
    String help = PrepFormats.help();
    for (String block : PrepFormats.blocks()) {
      assertThat(readme).as("README.md shows the example").contains(block);
      assertThat(help).as("help prep shows the example, indented")
          .contains(block.lines().map(l -> "  " + l).reduce((a, b) -> a + "\n" + b).orElseThrow());
    }
  }

  /** An image whose encoding follows the file name's extension. */
  private static byte[] image(String name, int seed) {
    byte[] px = PrepareImagesSeveralInputsTest.picture(seed);
    return name.endsWith(".jpg") ? TestImages.grayJpeg(px, 28, 28) : TestImages.grayPng(px, 28, 28);
  }
}
