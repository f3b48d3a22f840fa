package org.semiweak.prep;

import org.semiweak.run.result.PrepResult;
import org.semiweak.run.RunLayout;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.semiweak.data.ImageSchema;
import org.semiweak.run.RunDir;
import org.semiweak.run.StageManifest;

/** The folder source on images written from Fashion-MNIST pixels, with every kind of broken input. */
class PrepareImagesFolderTest {
  /** Removed after each test, as every test's files are. */
  @org.junit.jupiter.api.io.TempDir java.nio.file.Path scratch;

  private static PrepTestSupport.Idx test;

  @BeforeAll
  static void load() {
    test = PrepTestSupport.loadIdx(PrepTestSupport.fashionMnistDir(), "t10k");
  }

  private static byte[] px(int i) {
    return test.images()[i];
  }

  static void write(java.nio.file.Path root, String rel, byte[] data) throws IOException {
    java.nio.file.Path p = root.resolve(rel);
    Files.createDirectories(p.getParent());
    Files.write(p, data);
  }

  @Test
  void csvMetadataQuarantinesEveryKindOfBadRecordAndAccountsForAll() throws IOException {
    java.nio.file.Path tmp = PrepTestSupport.tempDir(scratch, "prep-folder");
    java.nio.file.Path images = tmp.resolve("images");
    // Good images in several encodings, all from Fashion-MNIST test pixels.
    write(images, "labeled/a0.png", TestImages.grayPng(px(0), 28, 28));
    write(images, "labeled/a1.png", TestImages.grayPng(px(1), 28, 28));
    write(images, "web/rgba.png", TestImages.rgbaPng(px(2), 28, 28));
    write(images, "web/deep16.png", TestImages.gray16Png(px(3), 28, 28));
    write(images, "web/gray.png", TestImages.grayPng(px(4), 28, 28));
    write(images, "web/photo.jpg", TestImages.grayJpeg(px(5), 28, 28));
    write(images, "web/rgb.png", TestImages.rgbPng(px(6), 28, 28));
    write(images, "web/palette.png", TestImages.palettePng(px(7), 28, 28));
    write(images, "test/t8.png", TestImages.grayPng(px(8), 28, 28));
    write(images, "web/copy-of-t8.png", TestImages.rgbPng(px(8), 28, 28)); // same pixels as a test image
    // Broken files.
    write(images, "bad/empty.png", new byte[0]);
    write(images, "bad/cut.png", TestImages.truncate(TestImages.grayPng(px(9), 28, 28), 0.5));
    write(images, "bad/garbage.png", TestImages.corruptPng());
    write(images, "bad/bomb.png", TestImages.pngHeaderOnly(200_000, 200_000));
    write(images, "bad/notes.png", "just some text".getBytes(StandardCharsets.UTF_8));
    write(images, "stray.png", TestImages.grayPng(px(10), 28, 28)); // no metadata row
    write(images, "README.txt", "not an image, no row: ignored".getBytes(StandardCharsets.UTF_8));
    write(images, ".hidden.png", TestImages.grayPng(px(11), 28, 28)); // hidden: never read
    String csv = String.join("\n",
        "path,tags,label,split",
        "labeled/a0.png,#tee|#fashion,T-shirt/top,labeled",
        "labeled/a1.png,,1,labeled",
        "web/rgba.png,#dress #ootd,,",
        "web/deep16.png,\"#coat|#parka\",,unlabeled",
        "./web/gray.png,#sneakers,,unlabeled",
        "web/photo.jpg,#bag,,unlabeled",
        "web/rgb.png,#boots,,unlabeled",
        "web/palette.png,,,unlabeled",
        "web/copy-of-t8.png,#top,,unlabeled",
        "test/t8.png,,Bag,test",
        "web/gray.png,#sneakers,,unlabeled",
        "bad/empty.png,,,",
        "bad/cut.png,,,",
        "bad/garbage.png,,,",
        "bad/bomb.png,,,",
        "bad/notes.png,,,",
        "../outside.png,#x,,",
        "/etc/passwd,,,",
        "web/missing.png,#tee,,",
        "web/gray.png,,NoSuchClass,unlabeled",
        "web/gray.png,,,labeled",
        "web/gray.png,,,holdout",
        "\"web/unterminated.png,,,",
        "");
    java.nio.file.Path meta = tmp.resolve("meta.csv");
    Files.writeString(meta, csv);

    RunDir run = PrepTestSupport.newRun(tmp);
    StageManifest m = PrepTestSupport.prep(run, Map.of("source", "folder", "input", images.toString(),
        "metadata", meta.toString(), "shard-records", "4"));

    Map<String, Long> q = quarantineCounts(m);
    assertThat(q).as("quarantine reasons").containsAllEntriesOf(Map.ofEntries(
        Map.entry("empty", 1L), Map.entry("truncated", 1L), Map.entry("corrupt", 1L), Map.entry("too-large", 1L),
        Map.entry("not-an-image", 1L), Map.entry("unsafe-path", 2L), Map.entry("missing-file", 1L),
        Map.entry("no-metadata", 1L), Map.entry("bad-label", 1L), Map.entry("missing-label", 1L),
        Map.entry("bad-metadata", 2L), Map.entry("duplicate-id", 0L)));
    assertThat(m.count("quarantined")).as("quarantined total").isEqualTo(13);
    assertThat(m.count("in")).as("23 metadata rows + 1 unlisted image").isEqualTo(24);
    assertThat(m.count("duplicates")).as("a repeated row of web/gray.png and a train copy of test/t8.png").isEqualTo(2);
    assertThat(m.count("written.labeled")).as("labeled").isEqualTo(2);
    assertThat(m.count("written.unlabeled")).as("unlabeled").isEqualTo(6);
    assertThat(m.count("written.test")).as("test").isEqualTo(1);
    assertThat(m.count("in")).as("in = written + quarantined + duplicates")
        .isEqualTo(m.count("written") + m.count("quarantined") + m.count("duplicates"));
    assertThat(m.count("tags.known")).as("tags the vocabulary maps").isEqualTo(7);
    assertThat(m.count("tags.unknown")).as("#fashion and #ootd are unknown").isEqualTo(2);
    assertThat(m.result(PrepResult.class).ignoredFiles()).as("README.txt is ignored").isEqualTo(1L);

    Path prep = run.stagePath(RunLayout.prep());
    List<Row> q2 = PrepTestSupport.spark().read().parquet(new Path(prep, "quarantine").toString()).collectAsList();
    Map<String, List<String>> files = q2.stream().collect(Collectors.groupingBy(r -> r.getAs(ImageSchema.REASON),
        Collectors.mapping(r -> r.getAs(ImageSchema.SOURCE_FILE), Collectors.toList())));
    assertThat(files.get("unsafe-path")).as("unsafe paths are reported as written").containsExactlyInAnyOrder("../outside.png", "/etc/passwd");
    assertThat(files.get("truncated")).as("truncated file").containsExactly("bad/cut.png");
    assertThat(files.get("no-metadata")).as("unlisted image").containsExactly("stray.png");
    assertThat(q2).as("every quarantine row says why").allSatisfy(r ->
        assertThat((String) r.getAs(ImageSchema.DETAIL)).isNotBlank());

    Map<String, Row> unlabeled = byId(new Path(prep, "unlabeled"));
    assertThat(unlabeled).as("unlabeled ids are normalized relative paths").containsOnlyKeys(
        "web/rgba.png", "web/deep16.png", "web/gray.png", "web/photo.jpg", "web/rgb.png", "web/palette.png");
    assertThat(unlabeled).as("the train copy of a test image is dropped").doesNotContainKey("web/copy-of-t8.png");
    assertThat(PrepareImagesFashionMnistTest.grayPixels(unlabeled.get("web/deep16.png").getAs(ImageSchema.IMAGE)))
        .as("16-bit PNG gives the original 8-bit pixels").isEqualTo(px(3));
    assertThat(PrepareImagesFashionMnistTest.grayPixels(unlabeled.get("web/palette.png").getAs(ImageSchema.IMAGE)))
        .as("palette PNG gives the original pixels").isEqualTo(px(7));
    byte[] rgba = PrepareImagesFashionMnistTest.grayPixels(unlabeled.get("web/rgba.png").getAs(ImageSchema.IMAGE));
    for (int i = 0; i < rgba.length; i++) {
      int expected = px(2)[i] == 0 ? 255 : px(2)[i] & 0xff;
      assertThat(rgba[i] & 0xff).as("RGBA pixel " + i + " composited over white").isEqualTo(expected);
    }
    Row coat = unlabeled.get("web/deep16.png");
    assertThat(coat.getList(coat.fieldIndex(ImageSchema.TAG_CLASSES))).as("#coat|#parka -> class Coat (4) once").containsExactly(4);
    assertThat(list(unlabeled.get("web/rgba.png"), ImageSchema.TAGS)).as("tags as given").containsExactly("#dress", "#ootd");
    Map<String, Row> labeled = byId(new Path(prep, "labeled"));
    assertThat(labeled.get("labeled/a0.png").<Integer>getAs(ImageSchema.LABEL)).as("label by class name").isEqualTo(0);
    assertThat(labeled.get("labeled/a1.png").<Integer>getAs(ImageSchema.LABEL)).as("label by class index").isEqualTo(1);
    assertThat(byId(new Path(prep, "test"))).as("test split").containsOnlyKeys("test/t8.png");
    assertThat(PrepTestSupport.parts(new Path(prep, "unlabeled"))).as("6 rows in shards of at most 4 rows").hasSize(2);
  }

  @Test
  void jsonLinesMetadataAndUnlistedFilesAsUnlabeled() throws IOException {
    java.nio.file.Path tmp = PrepTestSupport.tempDir(scratch, "prep-jsonl");
    java.nio.file.Path images = tmp.resolve("images");
    write(images, "a.png", TestImages.grayPng(px(20), 28, 28));
    write(images, "b.png", TestImages.grayPng(px(21), 28, 28));
    write(images, "c.png", TestImages.grayPng(px(22), 28, 28));
    write(images, "unlisted.png", TestImages.grayPng(px(23), 28, 28));
    java.nio.file.Path meta = tmp.resolve("meta.jsonl");
    Files.writeString(meta, String.join("\n",
        "{\"path\": \"a.png\", \"tags\": [\"#Jeans\", \"#pants\"], \"label\": 1, \"split\": \"labeled\"}",
        "{\"path\": \"b.png\", \"tags\": \"#bag|#tote\", \"label\": \"bag\", \"split\": \"test\"}",
        "{\"path\": \"c.png\", \"tags\": [\"#sandals\"]}",
        "{\"path\": \"../../c.png\"}",
        "not json at all",
        ""));
    RunDir run = PrepTestSupport.newRun(tmp);
    StageManifest m = PrepTestSupport.prep(run, Map.of("source", "folder", "input", images.toString(),
        "metadata", meta.toString(), "unlisted-files", "unlabeled", "default-split", "unlabeled"));
    assertThat(m.count("written.labeled")).as("labeled").isEqualTo(1);
    assertThat(m.count("written.test")).as("test (label matched case-insensitively)").isEqualTo(1);
    assertThat(m.count("written.unlabeled")).as("c.png and the unlisted image").isEqualTo(2);
    assertThat(m.count("quarantined.unsafe-path")).as("unsafe path").isEqualTo(1);
    assertThat(m.count("quarantined.bad-metadata")).as("a line that is not JSON").isEqualTo(1);
    assertThat(m.count("in")).as("accounting").isEqualTo(m.count("written") + m.count("quarantined") + m.count("duplicates"));
    Map<String, Row> labeled = byId(new Path(run.stagePath(RunLayout.prep()), "labeled"));
    assertThat(list(labeled.get("a.png"), ImageSchema.TAG_CLASSES)).as("two synonyms, one class")
        .containsExactly(1);
    Map<String, Row> unlabeled = byId(new Path(run.stagePath(RunLayout.prep()), "unlabeled"));
    assertThat(list(unlabeled.get("unlisted.png"), ImageSchema.TAGS)).as("unlisted image has no tags").isEmpty();
    assertThat(unlabeled.get("unlisted.png").isNullAt(unlabeled.get("unlisted.png").fieldIndex(ImageSchema.LABEL)))
        .as("unlisted image has no label").isTrue();
  }

  @Test
  void webPAndCmykJpegFilesArePreparedLikeAnyOtherImage() throws IOException {
    java.nio.file.Path tmp = PrepTestSupport.tempDir(scratch, "prep-web");
    java.nio.file.Path images = tmp.resolve("images");
    // Not lossless.webp: its pixels are those of animated.webp's first frame, so prep would drop it as a duplicate.
    for (String name : List.of("lossy.webp", "alpha-lossless.webp", "alpha-lossy.webp", "animated.webp", "cmyk.jpg", "ycck.jpg")) {
      write(images, "crawl/" + name, TestImages.fixture("web/" + name));
    }
    write(images, "crawl/cut.webp", TestImages.truncate(TestImages.fixture("web/lossy.webp"), 0.5));
    RunDir run = PrepTestSupport.newRun(tmp);
    StageManifest m = PrepTestSupport.prep(run, Map.of("source", "folder", "input", images.toString(),
        "unlisted-files", "unlabeled", "default-split", "unlabeled", "image-size", "32", "channels", "3"));

    assertThat(m.count("written.unlabeled")).as("4 WebP files (lossy, alpha, animated) and the CMYK and YCCK JPEGs written").isEqualTo(6);
    assertThat(quarantineCounts(m)).as("only the cut WebP is quarantined").containsEntry("truncated", 1L)
        .containsEntry("unsupported-format", 0L);
    assertThat(m.count("quarantined")).as("quarantined total").isEqualTo(1);
    Path prep = run.stagePath(RunLayout.prep());
    Row cut = PrepTestSupport.spark().read().parquet(new Path(prep, "quarantine").toString()).collectAsList().get(0);
    assertThat((String) cut.getAs(ImageSchema.SOURCE_FILE)).as("the quarantined file").isEqualTo("crawl/cut.webp");
    assertThat((String) cut.getAs(ImageSchema.DETAIL)).as("why").contains("RIFF header declares", "the file was cut off");

    Map<String, Row> unlabeled = byId(new Path(prep, "unlabeled"));
    assertThat(unlabeled).as("every good file, by its path").containsOnlyKeys("crawl/lossy.webp", "crawl/alpha-lossless.webp",
        "crawl/alpha-lossy.webp", "crawl/animated.webp", "crawl/cmyk.jpg", "crawl/ycck.jpg");
    assertThat(rgb(unlabeled.get("crawl/animated.webp"), 31, 0)).as("animated WebP: its first frame's top right pixel")
        .containsExactly(252, 4, 131);
    assertThat(rgb(unlabeled.get("crawl/alpha-lossless.webp"), 0, 0)).as("WebP alpha 0: white").containsExactly(255, 255, 255);
    int[] cyan = rgb(unlabeled.get("crawl/ycck.jpg"), 24, 24);
    assertThat(cyan[0]).as("YCCK JPEG, cyan quadrant: red").isLessThanOrEqualTo(3);
    assertThat(Math.min(cyan[1], cyan[2])).as("YCCK JPEG, cyan quadrant: green and blue").isGreaterThanOrEqualTo(252);
  }

  private static int[] rgb(Row row, int x, int y) throws IOException {
    int argb = javax.imageio.ImageIO.read(new java.io.ByteArrayInputStream(row.getAs(ImageSchema.IMAGE))).getRGB(x, y);
    return new int[] {(argb >> 16) & 0xff, (argb >> 8) & 0xff, argb & 0xff};
  }

  static Map<String, Long> quarantineCounts(StageManifest m) {
    Map<String, Long> out = new HashMap<>();
    m.counts().forEach((k, v) -> {
      if (k.startsWith("quarantined.")) {
        out.put(k.substring("quarantined.".length()), v);
      }
    });
    return out;
  }

  static Map<String, Row> byId(Path dir) {
    Map<String, Row> out = new HashMap<>();
    for (Row r : PrepTestSupport.spark().read().schema(ImageSchema.SCHEMA).parquet(dir.toString()).collectAsList()) {
      out.put(r.getAs(ImageSchema.IMAGE_ID), r);
    }
    return out;
  }

  static List<Object> list(Row r, String field) {
    return r.getList(r.fieldIndex(field));
  }

  static List<String> ids(Path dir) {
    return new ArrayList<>(byId(dir).keySet());
  }
}
