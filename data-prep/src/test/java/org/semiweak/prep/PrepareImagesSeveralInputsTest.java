package org.semiweak.prep;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Collectors;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.semiweak.data.ImageSchema;
import org.semiweak.run.RunDir;
import org.semiweak.run.RunLayout;
import org.semiweak.run.StageManifest;
import org.semiweak.run.result.PrepResult;

/**
 * One prep of a real-world layout (issue #19): unlabeled images in WebDataset tar shards with JSON
 * hashtags, a labeled folder with a CSV (path,label,tags), a test folder with a CSV (path,label) and
 * a vocabulary CSV with a tag,class_name header; broken entries planted in each input.
 */
class PrepareImagesSeveralInputsTest {
  /** Removed after each test, as every test's files are. */
  @org.junit.jupiter.api.io.TempDir java.nio.file.Path scratch;


  /** A distinct 28x28 gray picture per seed. */
  static byte[] picture(int seed) {
    byte[] px = new byte[28 * 28];
    new Random(seed).nextBytes(px);
    return px;
  }

  static byte[] png(int seed) {
    return TestImages.grayPng(picture(seed), 28, 28);
  }

  static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  static void tar(java.nio.file.Path file, Object... nameAndBytes) throws IOException {
    PrepareImagesWebDatasetTest.tar(file, nameAndBytes);
  }

  static void write(java.nio.file.Path root, String rel, byte[] data) throws IOException {
    PrepareImagesFolderTest.write(root, rel, data);
  }

  @Test
  void tarShardsALabeledFolderAndATestFolderBecomeOnePrepWithEveryRecordAccountedPerInput() throws IOException {
    java.nio.file.Path tmp = PrepTestSupport.tempDir(scratch, "prep-inputs");
    java.nio.file.Path shards = tmp.resolve("shards");
    java.nio.file.Path labeled = tmp.resolve("labeled");
    java.nio.file.Path test = tmp.resolve("test");

    // Unlabeled: WebDataset shards with JSON hashtags; planted: empty, unsafe name, sample without
    // image, HTML named .jpg, truncated, decompression bomb, copies of a labeled and a test image,
    // a later copy of an earlier sample, an image lying beside the shards, a README.
    tar(shards.resolve("part-000.tar"),
        "z0.png", png(50),
        "z0.json", utf8("{\"tags\": [\"#tote\"]}"),
        "u1.jpg", TestImages.grayJpeg(picture(1), 28, 28),
        "u1.json", utf8("{\"tags\": [\"#parka\", \"#winter\"]}"),
        "u2.png", png(2),
        "u2.json", utf8("{\"tags\": [\"#ootd\"]}"),
        "u3.png", png(3),
        "u3.json", utf8("{\"tags\": [\"#sneakers\"], \"eval_label\": \"Sneaker\"}"),
        "u4.png", png(10), // the pixels of labeled/coats/c1.png
        "u5.png", new byte[0],
        "../evil.png", png(4),
        "u6.json", utf8("{\"tags\": [\"#coat\"]}"),
        "u7.jpg", utf8("<html>not a jpeg</html>"),
        "u10.png", png(20), // the pixels of test/t1.png
        "a9.png", png(50)); // the pixels of z0, read later
    tar(shards.resolve("part-001.tar"),
        "u8.png", TestImages.truncate(png(8), 0.5),
        "u9.png", TestImages.pngHeaderOnly(200_000, 200_000));
    write(shards, "README.md", utf8("shards of the shop crawl"));
    write(shards, "loose.png", png(9));

    // Labeled: a folder and a CSV path,label,tags (no split column: the input's split says labeled).
    write(labeled, "coats/c1.png", png(10));
    write(labeled, "coats/c2.png", png(11));
    write(labeled, "bags/b1.png", png(12));
    write(labeled, "shoes/s1.jpg", TestImages.grayJpeg(picture(13), 28, 28));
    write(labeled, "bags/broken.png", TestImages.corruptPng());
    write(labeled, "shoes/nolabel.png", png(14));
    write(labeled, "extra.tar", new byte[1024]);
    write(labeled, "notes.txt", utf8("photographed in March"));
    java.nio.file.Path labeledCsv = Files.writeString(tmp.resolve("labeled.csv"), String.join("\n",
        "path,label,tags",
        "coats/c1.png,Coat,#coat",
        "coats/c2.png,Coat,",
        "bags/b1.png,Bag,#bag|#tote",
        "shoes/s1.jpg,Sneaker,#sneakers",
        "coats/missing.png,Coat,",
        "../../etc/passwd,Coat,",
        "bags/broken.png,Bag,",
        "shoes/nolabel.png,,",
        ""));

    // Test: a folder and a CSV path,label.
    write(test, "t1.png", png(20));
    write(test, "t2.png", png(21));
    write(test, "t3.png", png(22));
    write(test, "t4.png", utf8("hello"));
    write(test, "t5.png", png(23)); // no row
    java.nio.file.Path testCsv = Files.writeString(tmp.resolve("test.csv"), String.join("\n",
        "path,label", "t1.png,Coat", "t2.png,Bag", "t3.png,Sneaker", "t4.png,Bag", "t1.png,Coat", ""));

    java.nio.file.Path vocabulary = Files.writeString(tmp.resolve("vocabulary.csv"), String.join("\n",
        "tag,class_name", "#coat,Coat", "#parka,Coat", "#bag,Bag", "#tote,Bag", "#sneakers,Sneaker", ""));

    RunDir run = PrepTestSupport.newRun(tmp);
    StageManifest m = PrepTestSupport.prep(run, Map.of(
        "vocabulary", vocabulary.toString(),
        "inputs", List.of(
            Map.of("source", "webdataset", "path", shards.toString(), "split", "unlabeled"),
            Map.of("source", "folder", "path", labeled.toString(), "metadata", labeledCsv.toString(),
                "split", "labeled"),
            Map.of("source", "folder", "path", test.toString(), "metadata", testCsv.toString(), "split", "test"))));
    PrepResult result = m.result(PrepResult.class);

    assertThat(result.classes()).as("the header tag,class_name is no class").containsExactly("Coat", "Bag", "Sneaker");
    assertThat(m.count("written.unlabeled")).as("z0, u1, u2, u3").isEqualTo(4);
    assertThat(m.count("written.labeled")).as("c1, c2, b1, s1").isEqualTo(4);
    assertThat(m.count("written.test")).as("t1, t2, t3").isEqualTo(3);
    assertThat(result.perClass().get("labeled")).as("labeled images per class")
        .containsExactlyInAnyOrderEntriesOf(Map.of("Coat", 2L, "Bag", 1L, "Sneaker", 1L));
    assertThat(result.perClass().get("test")).as("test images per class")
        .containsExactlyInAnyOrderEntriesOf(Map.of("Coat", 1L, "Bag", 1L, "Sneaker", 1L));
    assertThat(result.perClass().get("unlabeled")).as("unlabeled: u3's eval_label, the rest without label")
        .containsExactlyInAnyOrderEntriesOf(Map.of("Sneaker", 1L, PrepSummary.NO_LABEL, 3L));

    Map<String, PrepResult.InputAccount> inputs = result.inputs().stream()
        .collect(Collectors.toMap(PrepResult.InputAccount::name, a -> a));
    assertThat(inputs).as("inputs named by their split").containsOnlyKeys("unlabeled", "labeled", "test");
    PrepResult.InputAccount web = inputs.get("unlabeled");
    assertThat(web.in()).as("12 samples and one unsafe entry in the shards, one image beside them").isEqualTo(14);
    assertThat(web.written()).containsEntry("unlabeled", 4L);
    assertThat(web.quarantined()).as("unlabeled input's quarantine").containsExactlyInAnyOrderEntriesOf(Map.of(
        "empty", 1L, "unsafe-name", 1L, "missing-image", 1L, "not-an-image", 1L, "truncated", 1L, "too-large", 1L,
        "not-read", 1L));
    assertThat(web.duplicates()).as("u4 (a labeled image), u10 (a test image), a9 (z0 read earlier)").isEqualTo(3);
    assertThat(web.skipped()).as("files without data are listed, not records").containsExactly("README.md");
    PrepResult.InputAccount lab = inputs.get("labeled");
    assertThat(lab.in()).as("8 metadata rows and a tar lying in the folder").isEqualTo(9);
    assertThat(lab.written()).containsEntry("labeled", 4L);
    assertThat(lab.quarantined()).as("labeled input's quarantine").containsExactlyInAnyOrderEntriesOf(Map.of(
        "missing-file", 1L, "unsafe-path", 1L, "corrupt", 1L, "missing-label", 1L, "not-read", 1L));
    assertThat(lab.skipped()).containsExactly("notes.txt");
    PrepResult.InputAccount tst = inputs.get("test");
    assertThat(tst.in()).as("5 metadata rows and an image without a row").isEqualTo(6);
    assertThat(tst.written()).containsEntry("test", 3L);
    assertThat(tst.quarantined()).as("test input's quarantine").containsExactlyInAnyOrderEntriesOf(Map.of(
        "not-an-image", 1L, "no-metadata", 1L));
    assertThat(tst.duplicates()).as("the repeated row of t1.png").isEqualTo(1);
    for (PrepResult.InputAccount a : result.inputs()) {
      long written = a.written().values().stream().mapToLong(Long::longValue).sum();
      long quarantined = a.quarantined().values().stream().mapToLong(Long::longValue).sum();
      assertThat(a.in()).as("input %s: in = written + quarantined + duplicates", a.name())
          .isEqualTo(written + quarantined + a.duplicates());
    }
    assertThat(m.count("in")).as("the inputs together").isEqualTo(29);
    assertThat(m.count("in")).as("in total: in = written + quarantined + duplicates")
        .isEqualTo(m.count("written") + m.count("quarantined") + m.count("duplicates"));
    assertThat(m.count("skipped-files")).as("README.md and notes.txt").isEqualTo(2);
    assertThat(m.count("tags.unknown")).as("#winter and #ootd").isEqualTo(2);

    Path prep = run.stagePath(RunLayout.prep());
    Map<String, Row> unlabeled = PrepareImagesFolderTest.byId(new Path(prep, "unlabeled"));
    assertThat(unlabeled).as("image ids are <input name>/<id in the input>").containsOnlyKeys(
        "unlabeled/part-000.tar/z0", "unlabeled/part-000.tar/u1", "unlabeled/part-000.tar/u2",
        "unlabeled/part-000.tar/u3");
    assertThat(unlabeled.get("unlabeled/part-000.tar/u3").<Integer>getAs(ImageSchema.LABEL))
        .as("eval_label kept in the label column for measurement").isEqualTo(2);
    assertThat(PrepareImagesFolderTest.list(unlabeled.get("unlabeled/part-000.tar/u1"), ImageSchema.TAG_CLASSES))
        .as("#parka -> Coat").containsExactly(0);
    assertThat(PrepareImagesFolderTest.byId(new Path(prep, "labeled"))).containsOnlyKeys(
        "labeled/coats/c1.png", "labeled/coats/c2.png", "labeled/bags/b1.png", "labeled/shoes/s1.jpg");
    assertThat(PrepareImagesFolderTest.byId(new Path(prep, "test"))).containsOnlyKeys(
        "test/t1.png", "test/t2.png", "test/t3.png");

    Map<String, String> duplicateOf = PrepTestSupport.spark().read().parquet(new Path(prep, "duplicates").toString())
        .collectAsList().stream().collect(Collectors.toMap(r -> r.getAs(ImageSchema.SOURCE_FILE) + " "
            + r.getAs(ImageSchema.SOURCE_ENTRY), r -> r.getAs(ImageSchema.DUPLICATE_OF)));
    assertThat(duplicateOf).as("every dropped duplicate with the id it duplicated").containsExactlyInAnyOrderEntriesOf(
        Map.of("unlabeled/part-000.tar u4.png", "labeled/coats/c1.png",
            "unlabeled/part-000.tar u10.png", "test/t1.png",
            "unlabeled/part-000.tar a9.png", "unlabeled/part-000.tar/z0",
            "test/t1.png test.csv line 6", "test/t1.png"));

    Map<String, List<String>> quarantined = PrepTestSupport.spark().read().parquet(new Path(prep, "quarantine").toString())
        .collectAsList().stream().collect(Collectors.groupingBy(r -> r.getAs(ImageSchema.REASON),
            Collectors.mapping(r -> r.getAs(ImageSchema.SOURCE_FILE), Collectors.toList())));
    assertThat(quarantined.get("not-read")).as("data files the inputs' sources do not read")
        .containsExactlyInAnyOrder("unlabeled/loose.png", "labeled/extra.tar");
    assertThat(quarantined.get("no-metadata")).containsExactly("test/t5.png");

    String summary = PrepSummary.text(m);
    assertThat(summary).as("the end summary")
        .contains("splits: labeled 4, unlabeled 4, test 3")
        .contains("evaluation labels: 1 of 4 unlabeled images")
        .contains("input labeled (folder " + labeled)
        .contains("skipped files (no data, not records): 1: notes.txt");
  }
}
