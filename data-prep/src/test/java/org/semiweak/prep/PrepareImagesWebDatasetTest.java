package org.semiweak.prep;

import org.semiweak.run.RunLayout;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.semiweak.data.ImageSchema;
import org.semiweak.run.RunDir;
import org.semiweak.run.StageManifest;

/** The webdataset source on tar shards built here, with unsafe names, non-images and samples without image. */
class PrepareImagesWebDatasetTest {
  /** Removed after each test, as every test's files are. */
  @org.junit.jupiter.api.io.TempDir java.nio.file.Path scratch;


  /** Writes a tar; entry names are kept exactly as given (absolute ones too). */
  static void tar(java.nio.file.Path file, Object... nameAndBytes) throws IOException {
    Files.createDirectories(file.getParent());
    try (OutputStream out = Files.newOutputStream(file); TarArchiveOutputStream t = new TarArchiveOutputStream(out)) {
      t.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
      for (int i = 0; i < nameAndBytes.length; i += 2) {
        byte[] data = (byte[]) nameAndBytes[i + 1];
        TarArchiveEntry e = new TarArchiveEntry((String) nameAndBytes[i], true);
        e.setSize(data.length);
        t.putArchiveEntry(e);
        t.write(data);
        t.closeArchiveEntry();
      }
    }
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void tarShardsBecomeRowsAndBadSamplesAreQuarantined() throws IOException {
    PrepTestSupport.Idx fm = PrepTestSupport.loadIdx(PrepTestSupport.fashionMnistDir(), "t10k");
    java.nio.file.Path tmp = PrepTestSupport.tempDir(scratch, "prep-wds");
    java.nio.file.Path shards = tmp.resolve("shards");
    tar(shards.resolve("shard-000.tar"),
        "s1.png", TestImages.grayPng(fm.images()[0], 28, 28),
        "s1.json", utf8("{\"tags\": [\"#boots\", \"#winter\"], \"label\": \"Ankle boot\", \"split\": \"labeled\"}"),
        "s2.png", TestImages.grayPng(fm.images()[1], 28, 28),
        "s2.txt", utf8("#pullover #knitwear"),
        "s3.json", utf8("{\"tags\": [\"#dress\"]}"),
        "s4.jpg", utf8("<html>this is not a jpeg</html>"),
        "../evil.png", TestImages.grayPng(fm.images()[2], 28, 28),
        "/abs/path.png", TestImages.grayPng(fm.images()[3], 28, 28),
        "s5.png", TestImages.rgbPng(fm.images()[4], 28, 28),
        "s5.cls", utf8("7"),
        "s6.png", TestImages.grayPng(fm.images()[1], 28, 28), // same pixels as s2
        "s1.png", TestImages.grayPng(fm.images()[5], 28, 28)); // key s1 again, other pixels
    tar(shards.resolve("more/shard-001.tar"),
        "t/a.png", TestImages.grayPng(fm.images()[6], 28, 28),
        "t/a.json", utf8("{\"label\": 3, \"split\": \"test\"}"),
        "t/b.jpeg", TestImages.grayJpeg(fm.images()[7], 28, 28),
        "t/b.json", utf8("{not json"),
        "t/c.png", new byte[0]);
    Files.writeString(shards.resolve("notes.txt"), "not a tar: ignored");
    // Empty shards: a zero-byte file and a tar holding no entry. They add no record and no error.
    Files.write(shards.resolve("more/zero-bytes.tar"), new byte[0]);
    tar(shards.resolve("more/no-entries.tar"));

    RunDir run = PrepTestSupport.newRun(tmp);
    StageManifest m = PrepTestSupport.prep(run, Map.of("source", "webdataset", "input", shards.toString()));

    assertThat(PrepareImagesFolderTest.quarantineCounts(m)).as("quarantine reasons").containsAllEntriesOf(Map.of(
        "unsafe-name", 2L, "not-an-image", 1L, "missing-image", 1L, "duplicate-id", 1L, "bad-metadata", 1L,
        "empty", 1L));
    assertThat(m.count("quarantined")).as("quarantined total").isEqualTo(7);
    assertThat(m.count("duplicates")).as("s6 has the pixels of s2").isEqualTo(1);
    assertThat(m.count("in")).as("7 samples + 2 unsafe entries in shard-000, 3 samples in shard-001, none in the empty shards")
        .isEqualTo(12);
    assertThat(m.count("in")).as("in = written + quarantined + duplicates")
        .isEqualTo(m.count("written") + m.count("quarantined") + m.count("duplicates"));
    assertThat(m.count("written.labeled")).as("s1").isEqualTo(1);
    assertThat(m.count("written.unlabeled")).as("s2, s5").isEqualTo(2);
    assertThat(m.count("written.test")).as("t/a").isEqualTo(1);

    Path prep = run.stagePath(RunLayout.prep());
    Map<String, Row> labeled = PrepareImagesFolderTest.byId(new Path(prep, "labeled"));
    Row s1 = labeled.get("shard-000.tar/s1");
    assertThat(s1).as("image id = <tar path>/<key>").isNotNull();
    assertThat(s1.<Integer>getAs(ImageSchema.LABEL)).as("label by name").isEqualTo(9);
    assertThat(PrepareImagesFashionMnistTest.grayPixels(s1.getAs(ImageSchema.IMAGE))).as("the first s1 is kept")
        .isEqualTo(fm.images()[0]);
    assertThat(PrepareImagesFolderTest.list(s1, ImageSchema.TAGS)).as("tags from the json sidecar").containsExactly("#boots", "#winter");
    Map<String, Row> unlabeled = PrepareImagesFolderTest.byId(new Path(prep, "unlabeled"));
    assertThat(unlabeled).as("unlabeled ids").containsOnlyKeys("shard-000.tar/s2", "shard-000.tar/s5");
    assertThat(PrepareImagesFolderTest.list(unlabeled.get("shard-000.tar/s2"), ImageSchema.TAG_CLASSES))
        .as("tags from the txt sidecar: #pullover #knitwear -> Pullover").containsExactly(2);
    assertThat(unlabeled.get("shard-000.tar/s5").<Integer>getAs(ImageSchema.LABEL)).as("label from .cls").isEqualTo(7);
    assertThat(PrepareImagesFolderTest.byId(new Path(prep, "test"))).as("test ids").containsOnlyKeys("more/shard-001.tar/t/a");

    List<Row> q = PrepTestSupport.spark().read().parquet(new Path(prep, "quarantine").toString()).collectAsList();
    Map<String, List<String>> entries = q.stream().collect(Collectors.groupingBy(r -> r.getAs(ImageSchema.REASON),
        Collectors.mapping(r -> r.getAs(ImageSchema.SOURCE_ENTRY), Collectors.toList())));
    assertThat(entries.get("unsafe-name")).as("unsafe entry names as found in the tar")
        .containsExactlyInAnyOrder("../evil.png", "/abs/path.png");
    assertThat(entries.get("not-an-image")).as("html named .jpg").containsExactly("s4.jpg");
    assertThat(entries.get("missing-image")).as("json without image").containsExactly("s3");
  }
}
