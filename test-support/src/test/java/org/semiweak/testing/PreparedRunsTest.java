package org.semiweak.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.semiweak.data.ImageSchema;
import org.semiweak.model.ImageTensors;
import org.semiweak.model.ModelSpec;
import org.semiweak.run.RunLayout;
import org.semiweak.run.SparkSessions;
import org.semiweak.run.Split;
import org.semiweak.run.Upstream;
import org.semiweak.run.result.Publication;
import org.semiweak.stage.PrepInfo;

/** The prepared-run fixture commits what later stages read of a real prep stage. */
class PreparedRunsTest {
  @TempDir static Path tmp;
  static SparkSession spark;
  static PreparedRuns.Prepared prepared;

  @BeforeAll
  static void prepare() {
    spark = SparkSessions.getOrCreate("semiweak-core-test", "local[2]");
    prepared = PreparedRuns.commit(spark, tmp.resolve("run"), PreparedRuns.Spec.small());
  }

  @Test
  void laterStagesReadTheCommittedPrepThroughPrepInfoAndUpstream() {
    PrepInfo prep = PrepInfo.read(prepared.run());
    assertThat(prep.vocabulary()).as("vocabulary.json").isEqualTo(PreparedRuns.vocabulary());
    assertThat(prep.numClasses()).as("classes").isEqualTo(10);
    assertThat(prep.imageSize()).as("image size").isEqualTo(28);
    assertThat(prep.channels()).as("gray").isEqualTo(1);
    assertThat(new Upstream(prepared.run()).require(RunLayout.prep(), Publication.Images.class, RunLayout.evaluate()))
        .as("what prep publishes to the stages planned after it")
        .isEqualTo(new Publication.Images(28, 1, FashionMnist.CLASS_NAMES));
    for (Split s : Split.values()) {
      List<String> ids = prep.read(spark, s).select(ImageSchema.IMAGE_ID).as(org.apache.spark.sql.Encoders.STRING())
          .collectAsList();
      assertThat(ids).as("%s: the images of the split, each once", s)
          .hasSize((int) prepared.count(s))
          .doesNotHaveDuplicates()
          .containsExactlyInAnyOrderElementsOf(prepared.imageIds().get(s));
      assertThat(prepared.manifest().count("written." + s.dirName())).as("%s count in the manifest", s)
          .isEqualTo(ids.size());
    }
    assertThat(prepared.count(Split.LABELED)).as("10 labeled images per class").isEqualTo(100);
    assertThat(prepared.result().perClass().get("labeled")).as("labeled images per class")
        .hasSize(10).allSatisfy((cls, n) -> assertThat(n).as(cls).isEqualTo(10L));
    assertThat(prepared.count(Split.UNLABELED)).isEqualTo(300);
    assertThat(prepared.count(Split.TEST)).isEqualTo(100);
  }

  @Test
  void rowsFollowTheImageSchemaConventionsOfDataPrep() {
    ModelSpec format = ModelSpec.smallResNet(1, 28, 10, 1, 4);
    List<Row> rows = PrepInfo.read(prepared.run()).read(spark, Split.UNLABELED).collectAsList();
    for (Row r : rows) {
      String id = r.getAs(ImageSchema.IMAGE_ID);
      byte[] pixels = ImageTensors.decodePixels(r.getAs(ImageSchema.IMAGE), format, id);
      assertThat((String) r.getAs(ImageSchema.CONTENT_HASH)).as("%s: SHA-256 of the canonical pixels", id)
          .isEqualTo(PreparedRuns.contentHash(pixels));
      List<String> tags = r.getList(r.fieldIndex(ImageSchema.TAGS));
      List<Integer> tagClasses = r.getList(r.fieldIndex(ImageSchema.TAG_CLASSES));
      assertThat(tagClasses).as("%s: tag classes are the vocabulary's classes of its tags, distinct, ascending", id)
          .isEqualTo(Arrays.stream(prepared.vocabulary().classesOf(tags)).boxed().toList());
      assertThat(r.isNullAt(r.fieldIndex(ImageSchema.LABEL))).as("%s keeps its true label", id).isFalse();
    }
    Map<Integer, Long> byTagCount = rows.stream().collect(Collectors.groupingBy(
        r -> r.getList(r.fieldIndex(ImageSchema.TAG_CLASSES)).size(), Collectors.counting()));
    assertThat(byTagCount).as("unlabeled images with no, one and two tag classes").containsOnlyKeys(0, 1, 2);
    assertThat(byTagCount.get(1) + byTagCount.get(2)).as("tagged unlabeled images")
        .isEqualTo(prepared.taggedUnlabeled());
    assertThat(byTagCount.get(2)).as("images with two tag classes").isEqualTo(prepared.multiTagUnlabeled());
  }
}
