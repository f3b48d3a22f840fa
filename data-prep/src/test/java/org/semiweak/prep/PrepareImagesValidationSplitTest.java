package org.semiweak.prep;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.semiweak.data.ImageSchema;
import org.semiweak.prep.source.IdxSource;
import org.semiweak.run.RunDir;
import org.semiweak.run.RunLayout;
import org.semiweak.run.StageManifest;
import org.semiweak.run.result.PrepResult;
import org.semiweak.util.SeededRandom;

/**
 * The validation split: labeled images that no stage trains on, so that options are chosen without
 * the test set. An idx input draws it with {@code validation-per-class} after the labeled subset,
 * which stays exactly as it was; other inputs name it in their metadata ({@code validation}, or
 * {@code val}), with a label like labeled and test images.
 */
class PrepareImagesValidationSplitTest {
  /** Removed after each test, as every test's files are. */
  @org.junit.jupiter.api.io.TempDir java.nio.file.Path scratch;

  private static final int CLASSES = 10;
  private static final int LABELED_PER_CLASS = 10;
  private static final int VALIDATION_PER_CLASS = 5;
  private static final long SEED = 7;

  @Test
  void idxDrawsTheValidationSplitAfterAnUnchangedLabeledSubsetAndTakesItOutOfUnlabeled() throws IOException {
    java.nio.file.Path tmp = PrepTestSupport.tempDir(scratch, "prep-held-out");
    // 1,500 train images of Fashion-MNIST with a train copy of a test image and two equal train images.
    java.nio.file.Path idx = PrepareImagesDeterminismTest.smallIdx(tmp.resolve("mini-fmnist"));
    RunDir without = PrepTestSupport.newRun(tmp.resolve("without"));
    RunDir with = PrepTestSupport.newRun(tmp.resolve("with"));
    StageManifest m0 = PrepTestSupport.prep(without, Map.of("input", idx.toString(),
        "labeled-per-class", String.valueOf(LABELED_PER_CLASS), "seed", String.valueOf(SEED)));
    StageManifest m = PrepTestSupport.prep(with, Map.of("input", idx.toString(),
        "labeled-per-class", String.valueOf(LABELED_PER_CLASS), "validation-per-class",
        String.valueOf(VALIDATION_PER_CLASS), "seed", String.valueOf(SEED)));

    Map<String, Row> labeled0 = rows(without, "labeled");
    Map<String, Row> unlabeled0 = rows(without, "unlabeled");
    Map<String, Row> labeled = rows(with, "labeled");
    Map<String, Row> validation = rows(with, "validation");
    Map<String, Row> unlabeled = rows(with, "unlabeled");

    assertThat(labeled.keySet()).as("the labeled subset does not change with validation-per-class")
        .isEqualTo(labeled0.keySet());
    assertThat(rows(without, "validation")).as("without the option the validation split is empty").isEmpty();
    assertThat(m0.count("written.validation")).isZero();
    assertThat(m.count("written.validation")).as("5 per class").isEqualTo((long) CLASSES * VALIDATION_PER_CLASS);
    assertThat(m.result(PrepResult.class).perClass().get("validation")).as("validation images per class")
        .hasSize(CLASSES).allSatisfy((cls, n) -> assertThat(n).as(cls).isEqualTo((long) VALIDATION_PER_CLASS));

    assertThat(disjoint(labeled.keySet(), validation.keySet())).as("labeled and validation are disjoint").isTrue();
    assertThat(disjoint(validation.keySet(), unlabeled.keySet())).as("validation and unlabeled are disjoint").isTrue();
    assertThat(disjoint(labeled.keySet(), unlabeled.keySet())).as("labeled and unlabeled are disjoint").isTrue();
    Set<String> unlabeledAndValidation = new HashSet<>(unlabeled.keySet());
    unlabeledAndValidation.addAll(validation.keySet());
    assertThat(unlabeledAndValidation).as("validation images are taken out of the unlabeled split, nothing else moves")
        .isEqualTo(unlabeled0.keySet());
    assertThat(m.count("written.unlabeled")).isEqualTo(m0.count("written.unlabeled") - m.count("written.validation"));
    assertThat(m.count("written.test")).as("the test split does not change").isEqualTo(m0.count("written.test"));

    for (Row r : validation.values()) {
      String id = r.getAs(ImageSchema.IMAGE_ID);
      assertThat(r.<Integer>getAs(ImageSchema.LABEL)).as("%s keeps its true label", id)
          .isEqualTo(unlabeled0.get(id).<Integer>getAs(ImageSchema.LABEL));
      assertThat(r.getList(r.fieldIndex(ImageSchema.TAGS))).as("%s keeps its simulated tags (no stage reads them)", id)
          .isEqualTo(unlabeled0.get(id).getList(unlabeled0.get(id).fieldIndex(ImageSchema.TAGS)));
    }

    // Per class, in the order of the seeded hash that draws the labeled subset: labeled, then validation.
    Map<Integer, List<String>> trainByClass = new TreeMap<>();
    for (Map<String, Row> split : List.of(labeled, validation, unlabeled)) {
      split.values().forEach(r -> trainByClass.computeIfAbsent(r.<Integer>getAs(ImageSchema.LABEL), k -> new ArrayList<>())
          .add(r.getAs(ImageSchema.IMAGE_ID)));
    }
    Comparator<String> drawOrder = Comparator.<String>comparingLong(id -> SeededRandom.hash(SEED ^ IdxSource.SALT_LABELED, id))
        .thenComparing(Comparator.naturalOrder());
    trainByClass.forEach((cls, ids) -> {
      List<String> ordered = ids.stream().sorted(drawOrder).toList();
      assertThat(ordered.subList(0, LABELED_PER_CLASS)).as("class %d: the first in draw order are labeled", cls)
          .allSatisfy(id -> assertThat(labeled).containsKey(id));
      assertThat(ordered.subList(LABELED_PER_CLASS, LABELED_PER_CLASS + VALIDATION_PER_CLASS))
          .as("class %d: the next ones are the validation images", cls)
          .allSatisfy(id -> assertThat(validation).containsKey(id));
    });

    for (StageManifest s : List.of(m0, m)) {
      assertThat(s.count("in")).as("in = written + quarantined + duplicates")
          .isEqualTo(s.count("written") + s.count("quarantined") + s.count("duplicates"));
      assertThat(s.count("written")).as("written = the sum of the four splits").isEqualTo(s.count("written.labeled")
          + s.count("written.unlabeled") + s.count("written.validation") + s.count("written.test"));
      PrepResult.InputAccount input = s.result(PrepResult.class).inputs().get(0);
      assertThat(input.in()).as("the input's own accounting").isEqualTo(input.written().values().stream()
          .mapToLong(Long::longValue).sum() + input.quarantined().values().stream().mapToLong(Long::longValue).sum()
          + input.duplicates());
    }
    assertThat(m.counts()).as("the same records read, dropped and quarantined")
        .containsEntry("in", m0.count("in")).containsEntry("duplicates", m0.count("duplicates"))
        .containsEntry("quarantined", m0.count("quarantined"));
    assertThat(m.result(PrepResult.class).inputs().get(0).written()).containsEntry("validation", 50L);

    assertThat(m0.options()).as("without a validation split, a prep keeps the fingerprint it had before the option")
        .doesNotContainKey("validation-per-class");
    assertThat(m.options()).containsEntry("validation-per-class", VALIDATION_PER_CLASS);
    assertThat(PrepSummary.text(m)).as("the summary lists the validation split when it holds images")
        .contains("validation 50").contains("validation");
    assertThat(PrepSummary.text(m0)).as("and reads as before when it is empty").doesNotContain("validation");
  }

  @Test
  void metadataNamesTheValidationSplitAndItsImagesNeedALabel() throws IOException {
    PrepTestSupport.Idx test = PrepTestSupport.loadIdx(PrepTestSupport.fashionMnistDir(), "t10k");
    java.nio.file.Path tmp = PrepTestSupport.tempDir(scratch, "prep-held-out-folder");
    java.nio.file.Path images = tmp.resolve("images");
    for (int i = 0; i < 8; i++) {
      PrepareImagesFolderTest.write(images, "i" + i + ".png", TestImages.grayPng(test.images()[i], 28, 28));
    }
    PrepareImagesFolderTest.write(images, "copy-of-i3.png", TestImages.grayPng(test.images()[3], 28, 28));
    java.nio.file.Path meta = tmp.resolve("meta.csv");
    Files.writeString(meta, String.join("\n",
        "path,tags,label,split,eval_label",
        "i0.png,#tee,T-shirt/top,labeled,",
        "i1.png,,Trouser,validation,",
        "i2.png,,2,val,",                    // the alias
        "i3.png,,Dress,Validation,",         // case-insensitive, like every split name
        "copy-of-i3.png,#dress,Dress,labeled,", // same pixels: the validation copy is kept
        "i4.png,,,validation,",              // no label: quarantined like a labeled or test image
        "i5.png,,,validation,Coat",          // eval_label is for unlabeled images
        "i6.png,#bag,,unlabeled,",
        "i7.png,,Bag,test,",
        ""));
    RunDir run = PrepTestSupport.newRun(tmp);
    StageManifest m = PrepTestSupport.prep(run, Map.of("source", "folder", "input", images.toString(),
        "metadata", meta.toString()));

    assertThat(m.count("written.validation")).as("i1, i2 (val) and i3").isEqualTo(3);
    assertThat(m.count("written.labeled")).as("i0; the labeled copy of a validation image is dropped").isEqualTo(1);
    assertThat(m.count("written.unlabeled")).isEqualTo(1);
    assertThat(m.count("written.test")).isEqualTo(1);
    assertThat(m.count("quarantined.missing-label")).as("a validation image without a label").isEqualTo(1);
    assertThat(m.count("quarantined.bad-metadata")).as("a validation image with an eval_label").isEqualTo(1);
    assertThat(m.count("duplicates")).as("copy-of-i3.png").isEqualTo(1);
    assertThat(m.count("in")).as("in = written + quarantined + duplicates")
        .isEqualTo(m.count("written") + m.count("quarantined") + m.count("duplicates"));

    Map<String, Row> validation = rows(run, "validation");
    assertThat(validation).containsOnlyKeys("i1.png", "i2.png", "i3.png");
    assertThat(validation.get("i1.png").<Integer>getAs(ImageSchema.LABEL)).as("label by class name").isEqualTo(1);
    assertThat(validation.get("i2.png").<Integer>getAs(ImageSchema.LABEL)).as("label by class index").isEqualTo(2);
    assertThat(validation.get("i3.png").<Integer>getAs(ImageSchema.LABEL)).isEqualTo(3);
    assertThat(m.result(PrepResult.class).perClass().get("validation"))
        .containsOnly(Map.entry("Trouser", 1L), Map.entry("Pullover", 1L), Map.entry("Dress", 1L));
  }

  private static Map<String, Row> rows(RunDir run, String split) {
    Map<String, Row> out = new HashMap<>();
    for (Row r : PrepTestSupport.spark().read().schema(ImageSchema.SCHEMA)
        .parquet(new Path(run.stagePath(RunLayout.prep()), split).toString()).collectAsList()) {
      out.put(r.getAs(ImageSchema.IMAGE_ID), r);
    }
    return out;
  }

  private static boolean disjoint(Set<String> a, Set<String> b) {
    return a.stream().noneMatch(b::contains);
  }
}
