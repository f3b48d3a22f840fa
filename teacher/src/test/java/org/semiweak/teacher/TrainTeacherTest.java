package org.semiweak.teacher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.semiweak.teacher.TeacherFixtures.teacherOptions;
import static org.semiweak.testing.TrainingAssertions.assertTrained;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.semiweak.config.Options;
import org.semiweak.data.ImageSchema;
import org.semiweak.model.ModelSpec;
import org.semiweak.model.StageModel;
import org.semiweak.run.Split;
import org.semiweak.run.StageExecution;
import org.semiweak.run.StageManifest;
import org.semiweak.run.Upstream;
import org.semiweak.run.result.ModelResult;
import org.semiweak.stage.PrepInfo;
import org.semiweak.testing.PreparedRuns;

/**
 * train-teacher's semi-supervised and semi-weak recipes at tiny size (a ResNet of widths 8/16, one
 * or two epochs) on a prepared slice of the real Fashion-MNIST: which phases each trains on which
 * images, what the committed model and result say, and which options identify a teacher.
 */
class TrainTeacherTest {
  @TempDir static Path tmp;
  static SparkSession spark;
  static PreparedRuns.Prepared prepared;

  /** The tiny architecture and labeled-phase schedule every teacher of this test uses. */
  static final String[] TINY = {"widths", "8,16", "epochs", "2", "batch-size", "32", "workers", "2", "local-steps", "5"};

  @BeforeAll
  static void prepare() {
    spark = TeacherFixtures.spark();
    prepared = PreparedRuns.commit(spark, tmp.resolve("run"), PreparedRuns.Spec.small());
  }

  static Options options(String... extra) {
    String[] all = new String[TINY.length + extra.length];
    System.arraycopy(TINY, 0, all, 0, TINY.length);
    System.arraycopy(extra, 0, all, TINY.length, extra.length);
    return teacherOptions(all);
  }

  static void assertEvaluatedModel(StageManifest m, ModelResult r) {
    String stage = m.stage();
    assertThat(r.testImages()).as("%s: evaluated on every test image", stage)
        .isEqualTo(prepared.count(Split.TEST))
        .isEqualTo(m.count("test-images"));
    assertThat(r.testTop1()).as("%s: top-1 accuracy", stage).isBetween(0.0, 1.0);
    assertThat(r.testTop5()).as("%s: top-5 accuracy is at least top-1", stage)
        .isBetween(r.testTop1(), 1.0);
    assertThat(r.model().type()).as("%s: trained by semiweak", stage).isEqualTo("semiweak-resnet");
    assertThat(r.model().classes()).as("%s: one output per class of the vocabulary", stage).isEqualTo(10);
    assertThat(r.model().inputSize()).as("%s: takes the prepared image size", stage).isEqualTo(28);
    assertThat(r.model().channels()).as("%s: gray images", stage).isEqualTo(1);
    assertThat(r.model().importedFrom()).as("%s: not imported", stage).isNull();

    StageModel model = StageModel.read(prepared.run(), m.id());
    assertThat(model.isTorchScript()).as("%s: a native model", stage).isFalse();
    assertThat(model.fingerprint()).as("%s: the committed weights are those the result describes", stage)
        .isEqualTo(r.model().fingerprint());
    assertThat(model.spec().stageWidths()).as("%s: the architecture asked for", stage).containsExactly(8, 16);
    assertThat(model.spec().numClasses()).as("%s: classes of the committed model", stage).isEqualTo(10);
    assertThat(model.description().architecture()).as("%s: architecture in the result", stage)
        .isEqualTo(r.model().architecture());
  }

  @Test
  void aSemiSupervisedTeacherTrainsOnTheLabeledSplitOnly() {
    TrainTeacher stage = new TrainTeacher(prepared.run(), options("recipe", "semi-supervised"));
    StageManifest m = StageExecution.planAndRun(prepared.run(), spark, stage);

    assertThat(m.stage()).as("committed as teacher/<recipe>").isEqualTo("teacher/semi-supervised");
    ModelResult r = m.result(ModelResult.class);
    assertThat(r.phaseNames()).as("one phase, on the labeled split").containsExactly("labeled");
    assertThat(r.linearEvaluation()).as("linear evaluation is for self-supervised encoders").isNull();
    assertTrained("labeled", r.phase("labeled"), prepared.count(Split.LABELED), 2, 32, 2);
    assertThat(m.count("training-examples.labeled")).as("the manifest counts the labeled examples")
        .isEqualTo(prepared.count(Split.LABELED));
    assertEvaluatedModel(m, r);
    assertThat(m.inputs()).as("reads the committed prep")
        .anySatisfy(in -> assertThat(in.name()).isEqualTo("prep"));
    assertThat(stage.plan(new Upstream(prepared.run())).fingerprint())
        .as("planning the same teacher again gives the committed fingerprint, so a rerun skips it")
        .isEqualTo(m.fingerprint());
  }

  @Test
  void aSemiWeakTeacherTrainsOnTheTaggedUnlabeledImagesThenOnTheLabeledSplit() {
    TrainTeacher stage = new TrainTeacher(prepared.run(), options("recipe", "semi-weak",
        "weak-epochs", "1", "weak-batch-size", "32", "weak-workers", "2", "weak-local-steps", "10",
        "finetune-epochs", "1"));
    StageManifest m = StageExecution.planAndRun(prepared.run(), spark, stage);

    assertThat(m.stage()).isEqualTo("teacher/semi-weak");
    ModelResult r = m.result(ModelResult.class);
    // The manifest's JSON sorts map keys, so the result does not record the order the phases ran in.
    assertThat(r.phaseNames()).as("a weak-tag phase, then a labeled phase").containsExactly("weak", "labeled");
    assertThat(prepared.taggedUnlabeled()).as("the fixture has untagged unlabeled images")
        .isLessThan(prepared.count(Split.UNLABELED));
    assertTrained("weak", r.phase("weak"), prepared.taggedUnlabeled(), 1, 32, 2);
    assertTrained("labeled", r.phase("labeled"), prepared.count(Split.LABELED), 1, 32, 2);
    assertThat(m.count("training-examples.weak")).as("weak examples: the unlabeled images with a known tag")
        .isEqualTo(prepared.taggedUnlabeled());
    assertThat(m.count("training-examples.labeled")).isEqualTo(prepared.count(Split.LABELED));
    assertThat(m.count("weak-untagged")).as("the images whose tags map to no class are counted")
        .isEqualTo(prepared.count(Split.UNLABELED) - prepared.taggedUnlabeled()).isPositive();
    assertEvaluatedModel(m, r);
  }

  @Test
  void aSelfSupervisedTeacherPretrainsOnEveryUnlabeledImageWithoutLabelsThenOnTheLabeledSplit() {
    TrainTeacher stage = new TrainTeacher(prepared.run(), options("recipe", "self-supervised",
        "ssl-epochs", "2", "ssl-batch-size", "32", "ssl-workers", "2", "ssl-local-steps", "5",
        "ssl-projection-hidden", "32", "ssl-projection-dim", "16", "finetune-epochs", "1"));
    StageManifest m = StageExecution.planAndRun(prepared.run(), spark, stage);

    assertThat(m.stage()).isEqualTo("teacher/self-supervised");
    ModelResult r = m.result(ModelResult.class);
    assertThat(r.phaseNames()).as("a self-supervised phase, then a labeled phase")
        .containsExactly("self-supervised", "labeled");
    assertTrained("self-supervised", r.phase("self-supervised"), prepared.count(Split.UNLABELED), 2, 32, 2);
    assertThat(m.count("training-examples.self-supervised")).as("every unlabeled image, with a known tag or not")
        .isEqualTo(prepared.count(Split.UNLABELED)).isGreaterThan(prepared.taggedUnlabeled());
    assertTrained("labeled", r.phase("labeled"), prepared.count(Split.LABELED), 1, 32, 2);
    assertThat(r.phase("self-supervised").learningCurve()).as("NT-Xent of 2 x 16 views: at most log(31) by chance,"
        + " and the contrastive accuracy of each round")
        .allSatisfy(p -> {
          assertThat(p.loss()).isPositive().isFinite();
          assertThat(p.trainAccuracy()).isBetween(0.0, 1.0);
        });
    assertEvaluatedModel(m, r);
    ModelResult.LinearEvaluation linear = r.linearEvaluation();
    assertThat(linear).as("the encoder is also evaluated linearly, frozen, after its self-supervised phase").isNotNull();
    assertThat(linear.labeledImages()).isEqualTo(prepared.count(Split.LABELED));
    assertThat(linear.testImages()).isEqualTo(prepared.count(Split.TEST));
    assertThat(linear.testTop1()).isBetween(0.0, 1.0);
    assertThat(m.options()).as("the recipe's options identify it").containsEntry("ssl-method", "simclr")
        .containsEntry("ssl-weak-phase", false).doesNotContainKeys("weak-epochs", "ssl-crop-padding", "ssl-temperature");
  }

  @Test
  void aRerunThatChangesOnlyTheFineTuneReusesTheSelfSupervisedPhaseInsteadOfTrainingItAgain() throws Exception {
    String[] pretraining = {"recipe", "self-supervised", "ssl-epochs", "1", "ssl-batch-size", "32", "ssl-workers", "1",
        "ssl-local-steps", "5", "ssl-projection-hidden", "32", "ssl-projection-dim", "16", "ssl-seed", "7"};
    StageManifest first = StageExecution.planAndRun(prepared.run(), spark,
        new TrainTeacher(prepared.run(), options(with(pretraining, "finetune-epochs", "1"))));
    StageManifest second = StageExecution.planAndRun(prepared.run(), spark,
        new TrainTeacher(prepared.run(), options(with(pretraining, "finetune-epochs", "2"))));

    var pretrained = first.result(ModelResult.class).phase("self-supervised");
    var reused = second.result(ModelResult.class).phase("self-supervised");
    assertThat(pretrained.roundsRun()).as("the first run trains the phase").isPositive();
    assertThat(reused.roundsRun()).as("the rerun trains no round of it").isZero();
    assertThat(reused.roundsResumed()).as("it takes every round from the kept checkpoints")
        .isEqualTo(pretrained.roundsRun());
    assertThat(reused.learningCurve()).as("and records the phase as it was trained").isEqualTo(pretrained.learningCurve());
    assertThat(second.result(ModelResult.class).linearEvaluation())
        .as("the same encoder: its linear evaluation is the same")
        .isEqualTo(first.result(ModelResult.class).linearEvaluation());
    assertThat(second.result(ModelResult.class).phase("labeled").epochs()).as("the fine-tune did change").isEqualTo(2);
    assertThat(second.fingerprint()).as("a different teacher").isNotEqualTo(first.fingerprint());

    StageManifest other = StageExecution.planAndRun(prepared.run(), spark,
        new TrainTeacher(prepared.run(), options(with(pretraining, "finetune-epochs", "1", "ssl-seed", "8"))));
    assertThat(other.result(ModelResult.class).phase("self-supervised").roundsResumed())
        .as("another pretraining (here its seed) is trained, not taken from the kept one").isZero();
    org.apache.hadoop.fs.Path kept = prepared.run().layout().reuse(other.id());
    assertThat(prepared.run().fs().listStatus(kept)).as("one folder per phase is kept")
        .extracting(st -> st.getPath().getName()).filteredOn(name -> name.startsWith("self-supervised-")).hasSize(1);
  }

  /** {@code base} followed by {@code extra}; a later key overrides an earlier one. */
  private static String[] with(String[] base, String... extra) {
    String[] all = java.util.Arrays.copyOf(base, base.length + extra.length);
    System.arraycopy(extra, 0, all, base.length, extra.length);
    return all;
  }

  @Test
  void aByolTeacherKeepsItsMovingAverageTargetAcrossRoundsOfTwoWorkers() {
    TrainTeacher stage = new TrainTeacher(prepared.run(), options("recipe", "self-supervised", "ssl-method", "byol",
        "ssl-epochs", "1", "ssl-batch-size", "32", "ssl-workers", "2", "ssl-local-steps", "3",
        "ssl-projection-hidden", "32", "ssl-projection-dim", "16", "finetune-epochs", "1"));
    StageManifest m = StageExecution.planAndRun(prepared.run(), spark, stage);

    assertThat(m.stage()).isEqualTo("teacher/self-supervised");
    ModelResult r = m.result(ModelResult.class);
    assertThat(r.phaseNames()).containsExactly("self-supervised", "labeled");
    assertTrained("self-supervised", r.phase("self-supervised"), prepared.count(Split.UNLABELED), 1, 32, 2);
    assertThat(r.phase("self-supervised").learningCurve()).as("2 - 2 cos in both directions: in [0, 8]")
        .allSatisfy(p -> assertThat(p.loss()).isBetween(0.0, 8.0));
    assertEvaluatedModel(m, r);
    assertThat(m.options()).containsEntry("ssl-method", "byol")
        .as("options of the other methods, and those not given, do not identify it")
        .doesNotContainKeys("ssl-target-momentum", "ssl-prototypes", "ssl-temperature");
  }

  @Test
  void aMultiCropSwavTeacherWithTheWeakPhaseTrainsOnPrototypesThenWeakTagsThenLabels() {
    TrainTeacher stage = new TrainTeacher(prepared.run(), options("recipe", "self-supervised", "ssl-method", "swav",
        "ssl-epochs", "1", "ssl-batch-size", "32", "ssl-workers", "2", "ssl-local-steps", "3", "ssl-prototypes", "12",
        "ssl-small-crops", "2",
        "ssl-projection-hidden", "32", "ssl-projection-dim", "16", "ssl-weak-phase", "true",
        "weak-epochs", "1", "weak-batch-size", "32", "weak-workers", "2", "weak-local-steps", "10",
        "finetune-epochs", "1"));
    StageManifest m = StageExecution.planAndRun(prepared.run(), spark, stage);

    ModelResult r = m.result(ModelResult.class);
    assertThat(r.phaseNames()).as("self-supervised + semi-weak: the weak phase between the two")
        .containsExactlyInAnyOrder("self-supervised", "weak", "labeled");
    assertTrained("weak", r.phase("weak"), prepared.taggedUnlabeled(), 1, 32, 2);
    assertThat(m.count("weak-untagged")).isEqualTo(prepared.count(Split.UNLABELED) - prepared.taggedUnlabeled());
    assertTrained("self-supervised", r.phase("self-supervised"), prepared.count(Split.UNLABELED), 1, 32, 2);
    assertThat(r.phase("self-supervised").learningCurve()).as("cross-entropy against codes over 12 prototypes")
        .allSatisfy(p -> assertThat(p.loss()).isPositive().isFinite());
    assertEvaluatedModel(m, r);
    assertThat(m.options()).containsEntry("ssl-method", "swav").containsEntry("ssl-prototypes", 12)
        .containsEntry("ssl-weak-phase", true).as("with a weak phase, its options identify the teacher too")
        .containsEntry("weak-epochs", 1);
  }

  static Map<String, Integer> weakLabels(Dataset<Row> unlabeled, long seed) {
    Map<String, Integer> out = new HashMap<>();
    Dataset<Row> weak = TrainTeacher.weaklyLabeled(unlabeled, seed, false);
    assertThat(weak.columns()).as("training examples: image id, image, label")
        .containsExactly(ImageSchema.IMAGE_ID, ImageSchema.IMAGE, ImageSchema.LABEL);
    for (Row r : weak.select(ImageSchema.IMAGE_ID, ImageSchema.LABEL).collectAsList()) {
      String id = r.getAs(ImageSchema.IMAGE_ID);
      assertThat(out.put(id, r.getAs(ImageSchema.LABEL))).as("%s appears once among the weak examples", id).isNull();
    }
    return out;
  }

  @Test
  void withAllTagsAnImageTrainsAgainstEveryClassOfItsTags() {
    Dataset<Row> unlabeled = PrepInfo.read(prepared.run()).read(spark, Split.UNLABELED);
    Map<String, List<Integer>> tagClasses = new HashMap<>();
    for (Row r : unlabeled.select(ImageSchema.IMAGE_ID, ImageSchema.TAG_CLASSES).collectAsList()) {
      tagClasses.put(r.getAs(ImageSchema.IMAGE_ID), r.getList(r.fieldIndex(ImageSchema.TAG_CLASSES)));
    }
    Dataset<Row> weak = TrainTeacher.weaklyLabeled(unlabeled, 42, true);
    assertThat(weak.columns()).containsExactly(ImageSchema.IMAGE_ID, ImageSchema.IMAGE, ImageSchema.LABEL,
        org.semiweak.train.ExampleShard.TARGETS);
    List<Row> rows = weak.select(ImageSchema.IMAGE_ID, ImageSchema.LABEL, org.semiweak.train.ExampleShard.TARGETS)
        .collectAsList();
    assertThat(rows).as("one example per tagged image").hasSize((int) prepared.taggedUnlabeled());
    long several = 0;
    for (Row r : rows) {
      List<Integer> classes = r.getList(2);
      assertThat(classes).as("%s: its targets are its tag classes", r.getString(0))
          .containsExactlyInAnyOrderElementsOf(new HashSet<>(tagClasses.get(r.getString(0))));
      assertThat(r.getInt(1)).as("its label is the first of them").isEqualTo(classes.get(0));
      several += classes.size() > 1 ? 1 : 0;
    }
    assertThat(several).as("the fixture's images with two tag classes keep both").isEqualTo(prepared.multiTagUnlabeled());
  }

  @Test
  void weakLabelsAreOneOfEachTaggedImagesTagClassesChosenBySeed() {
    Dataset<Row> unlabeled = PrepInfo.read(prepared.run()).read(spark, Split.UNLABELED).cache();
    Map<String, List<Integer>> tagClasses = new HashMap<>();
    for (Row r : unlabeled.select(ImageSchema.IMAGE_ID, ImageSchema.TAG_CLASSES).collectAsList()) {
      tagClasses.put(r.getAs(ImageSchema.IMAGE_ID), r.getList(r.fieldIndex(ImageSchema.TAG_CLASSES)));
    }
    Map<String, Integer> weak = weakLabels(unlabeled, 42);
    assertThat(weak).as("one example per tagged image").hasSize((int) prepared.taggedUnlabeled());
    Set<Integer> positionsChosen = new HashSet<>();
    weak.forEach((id, label) -> {
      List<Integer> classes = tagClasses.get(id);
      assertThat(classes).as("%s: its weak label is one of its tag classes", id).contains(label);
      if (classes.size() == 2) {
        positionsChosen.add(classes.indexOf(label));
      }
    });
    assertThat(prepared.multiTagUnlabeled()).as("the fixture has images with two tag classes").isGreaterThan(5);
    assertThat(positionsChosen).as("with two tag classes, either may be chosen").containsExactlyInAnyOrder(0, 1);

    assertThat(weakLabels(unlabeled, 42)).as("the same seed chooses the same labels").isEqualTo(weak);
    Map<String, Integer> otherSeed = weakLabels(unlabeled, 43);
    assertThat(otherSeed.keySet()).as("another seed: the same images").isEqualTo(weak.keySet());
    weak.forEach((id, label) -> {
      if (tagClasses.get(id).size() == 1) {
        assertThat(otherSeed.get(id)).as("%s has one tag class, whatever the seed", id).isEqualTo(label);
      }
    });
    assertThat(otherSeed).as("another seed chooses other labels for some images with two tag classes")
        .isNotEqualTo(weak);
    unlabeled.unpersist();
  }

  @Test
  void onlyTheOptionsOfItsRecipeIdentifyATeacher() {
    Upstream upstream = new Upstream(prepared.run());
    String semiSupervised = new TrainTeacher(prepared.run(), options("recipe", "semi-supervised"))
        .plan(upstream).fingerprint();
    assertThat(new TrainTeacher(prepared.run(), options("recipe", "semi-supervised", "weak-epochs", "9",
        "weak-learning-rate", "0.5", "weak-workers", "1", "finetune-epochs", "7", "finetune-learning-rate", "0.3"))
        .plan(upstream).fingerprint())
        .as("a semi-supervised teacher does not change when only weak-* and finetune-* options change")
        .isEqualTo(semiSupervised);
    assertThat(new TrainTeacher(prepared.run(), options("recipe", "semi-supervised", "outputs", "probabilities"))
        .plan(upstream).fingerprint())
        .as("nor when an option of the torchscript recipe changes")
        .isEqualTo(semiSupervised);
    assertThat(new TrainTeacher(prepared.run(), options("recipe", "semi-supervised", "epochs", "3"))
        .plan(upstream).fingerprint())
        .as("but it changes with its own schedule")
        .isNotEqualTo(semiSupervised);
    assertThat(new TrainTeacher(prepared.run(), options("recipe", "semi-supervised", "widths", "8,32"))
        .plan(upstream).fingerprint())
        .as("and with its architecture")
        .isNotEqualTo(semiSupervised);

    String semiWeak = new TrainTeacher(prepared.run(), options("recipe", "semi-weak")).plan(upstream).fingerprint();
    assertThat(new TrainTeacher(prepared.run(), options("recipe", "semi-weak", "weak-epochs", "9"))
        .plan(upstream).fingerprint())
        .as("a semi-weak teacher changes with its weak-tag phase")
        .isNotEqualTo(semiWeak);
    assertThat(new TrainTeacher(prepared.run(), options("recipe", "semi-weak", "finetune-epochs", "9"))
        .plan(upstream).fingerprint())
        .as("and with its fine-tuning on the labeled split")
        .isNotEqualTo(semiWeak);
  }

  @Test
  void eachRecipeHasItsOwnFineTuneWhenFineTuneOptionsAreAbsent() {
    Upstream upstream = new Upstream(prepared.run());
    var semiWeak = new TrainTeacher(prepared.run(), options("recipe", "semi-weak")).plan(upstream);
    assertThat(semiWeak.options()).as("after the weak phase: short and gentle")
        .containsEntry("finetune-epochs", 30).containsEntry("finetune-learning-rate", 0.01);
    assertThat(new TrainTeacher(prepared.run(), options("recipe", "semi-weak", "finetune-epochs", "30",
        "finetune-learning-rate", "0.01")).plan(upstream).fingerprint())
        .as("given or not, the same fine-tune is the same teacher (runs made when 30/0.01 were everyone's default)")
        .isEqualTo(semiWeak.fingerprint());

    var selfSupervised = new TrainTeacher(prepared.run(), options("recipe", "self-supervised", "epochs", "7",
        "learning-rate", "0.04")).plan(upstream);
    assertThat(selfSupervised.options()).as("after a self-supervised phase: as the labeled phase trains from scratch")
        .containsEntry("finetune-epochs", 7).containsEntry("finetune-learning-rate", 0.04);
    assertThat(new TrainTeacher(prepared.run(), options("recipe", "self-supervised", "epochs", "7",
        "learning-rate", "0.04", "finetune-epochs", "7", "finetune-learning-rate", "0.04")).plan(upstream).fingerprint())
        .isEqualTo(selfSupervised.fingerprint());
    assertThat(new TrainTeacher(prepared.run(), options("recipe", "self-supervised", "epochs", "7",
        "learning-rate", "0.04", "finetune-epochs", "30", "finetune-learning-rate", "0.01")).plan(upstream)
        .fingerprint())
        .as("and the semi-weak recipe's fine-tune, given, is another teacher")
        .isNotEqualTo(selfSupervised.fingerprint());
  }

  @Test
  void aTeacherPlansTheModelItWillPublishBeforeItTrains() {
    var plan = new TrainTeacher(prepared.run(), options("recipe", "semi-supervised", "widths", "4"))
        .plan(new Upstream(prepared.run()));
    assertThat(plan.publication()).as("what score and select may rely on: 1x28x28 images, 10 classes")
        .isEqualTo(new org.semiweak.run.result.Publication.Model(28, 1, 10));
    assertThat(plan.options()).as("the effective options of its recipe only")
        .containsEntry("recipe", "semi-supervised")
        .containsEntry("widths", List.of(4))
        .doesNotContainKeys("weak-epochs", "finetune-epochs", "model-file");
    ModelSpec spec = TrainTeacher.LABELED.modelSpec(options("widths", "4"), prepared.images());
    assertThat(spec.numClasses()).as("the architecture's head has one output per class of the vocabulary")
        .isEqualTo(prepared.vocabulary().numClasses());
  }
}
