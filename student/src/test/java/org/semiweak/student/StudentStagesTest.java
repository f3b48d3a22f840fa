package org.semiweak.student;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;
import static org.semiweak.testing.TrainingAssertions.assertTrained;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;
import org.semiweak.config.ConfigException;
import org.semiweak.config.Options;
import org.semiweak.data.ImageSchema;
import org.semiweak.data.SelectionSchema;
import org.semiweak.model.ModelSpec;
import org.semiweak.model.ModelWeights;
import org.semiweak.model.StageModel;
import org.semiweak.run.RunLayout;
import org.semiweak.run.SparkSessions;
import org.semiweak.run.Split;
import org.semiweak.run.StageExecution;
import org.semiweak.run.StageId;
import org.semiweak.run.StageManifest;
import org.semiweak.run.Upstream;
import org.semiweak.run.result.ModelResult;
import org.semiweak.stage.PrepInfo;
import org.semiweak.stage.SelectionInput;
import org.semiweak.testing.CommittedModels;
import org.semiweak.testing.CommittedSelections;
import org.semiweak.testing.PreparedRuns;

/**
 * The student's stages at tiny size (a ResNet of widths 8/16, one epoch) on a prepared slice of the
 * real Fashion-MNIST and a committed selection: pretrain on the selection's pseudo-labels, finetune
 * from the pretrained model on the labeled split, and the baseline from scratch on the labeled split.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class StudentStagesTest {
  static final String TEACHER = "semi-weak";
  static final String SELECTION = "k12-p2";

  @TempDir static Path tmp;
  static SparkSession spark;
  static PreparedRuns.Prepared prepared;
  /** The selected (image, class) rows. */
  static List<CommittedSelections.Pick> picks;

  @BeforeAll
  static void prepare() {
    spark = SparkSessions.getOrCreate("semiweak-student-test", "local[2]");
    prepared = PreparedRuns.commit(spark, tmp.resolve("run"), PreparedRuns.Spec.small());
    // Up to 12 unlabeled images per class under their true class; every third also under a second
    // class, as a selection with p = 2 selects an image for each of its top classes.
    List<Row> unlabeled = PrepInfo.read(prepared.run()).read(spark, Split.UNLABELED)
        .orderBy(ImageSchema.IMAGE_ID).collectAsList();
    int[] perClass = new int[10];
    picks = new ArrayList<>();
    for (Row r : unlabeled) {
      int label = r.getAs(ImageSchema.LABEL);
      if (perClass[label] == 12) {
        continue;
      }
      String id = r.getAs(ImageSchema.IMAGE_ID);
      picks.add(new CommittedSelections.Pick(id, label, 0.9f - perClass[label] * 0.01f));
      if (perClass[label] % 3 == 0) {
        picks.add(new CommittedSelections.Pick(id, (label + 3) % 10, 0.3f));
      }
      perClass[label]++;
    }
    CommittedSelections.commit(spark, prepared.run(), TEACHER, SELECTION, 12, 2, prepared.vocabulary().classes(),
        picks);
  }

  static Map<String, Object> raw(String... keysAndValues) {
    Map<String, Object> m = new LinkedHashMap<>();
    for (int i = 0; i < keysAndValues.length; i += 2) {
      m.put(keysAndValues[i], keysAndValues[i + 1]);
    }
    return m;
  }

  static Options pretrainOptions(String... kv) {
    return Options.parse("pretrain", PretrainStudent.OPTIONS, raw(kv));
  }

  static Options finetuneOptions(String... kv) {
    return Options.parse("finetune", FinetuneStudent.OPTIONS, raw(kv));
  }

  static Options baselineOptions(String... kv) {
    return Options.parse("baseline", TrainBaseline.OPTIONS, raw(kv));
  }

  /** A committed model stage evaluated on every test image, its model readable and as described. */
  static StageModel assertEvaluatedModel(StageManifest m) {
    ModelResult r = m.result(ModelResult.class);
    assertThat(r.testImages()).as("%s: evaluated on every test image", m.stage())
        .isEqualTo(prepared.count(Split.TEST)).isEqualTo(m.count("test-images"));
    assertThat(r.testTop1()).as("%s: top-1 accuracy", m.stage()).isBetween(0.0, 1.0);
    assertThat(r.testTop5()).as("%s: top-5 accuracy is at least top-1", m.stage()).isBetween(r.testTop1(), 1.0);
    StageModel model = StageModel.read(prepared.run(), m.id());
    assertThat(model.fingerprint()).as("%s: the committed weights are those the result describes", m.stage())
        .isEqualTo(r.model().fingerprint());
    assertThat(model.description()).as("%s: the committed model is the one in the result", m.stage())
        .isEqualTo(r.model());
    assertThat(r.model().classes()).as("%s: one output per class", m.stage()).isEqualTo(10);
    return model;
  }

  @Test
  @Order(1)
  void pretrainTrainsOneExamplePerSelectedImageAndClass() throws Exception {
    long images = picks.stream().map(CommittedSelections.Pick::imageId).distinct().count();
    assertThat((long) picks.size()).as("the selection has images selected under two classes").isGreaterThan(images);

    StageManifest m = StageExecution.planAndRun(prepared.run(), spark, new PretrainStudent(prepared.run(),
        pretrainOptions("teacher", TEACHER, "selection", SELECTION, "widths", "8,16", "epochs", "1",
            "batch-size", "32", "workers", "2", "local-steps", "5")));

    assertThat(m.stage()).as("committed beside its selection")
        .isEqualTo("student/" + TEACHER + "/" + SELECTION + "/pretrain");
    ModelResult r = m.result(ModelResult.class);
    assertThat(r.phaseNames()).as("one phase, on the selection's pseudo-labels").containsExactly("pseudo-labels");
    assertTrained("pseudo-labels", r.phase("pseudo-labels"), picks.size(), 1, 32, 2);
    assertThat(m.count("training-examples.pseudo-labels"))
        .as("one example per selected (image, class) row, not per image").isEqualTo(picks.size());
    assertThat(m.inputs()).extracting(StageManifest.Input::name).as("reads prep and the selection")
        .containsExactlyInAnyOrder("prep", "selection/" + TEACHER + "/" + SELECTION);
    StageModel model = assertEvaluatedModel(m);
    assertThat(model.spec().stageWidths()).as("the architecture asked for").containsExactly(8, 16);
    assertThat(prepared.run().fs().exists(prepared.run().layout().work(m.id())))
        .as("the materialized training set is work of the stage, deleted with its commit").isFalse();
  }

  @Test
  @Order(2)
  void finetuneContinuesThePretrainedModelOnTheLabeledSplit() {
    StageId pretrain = RunLayout.pretrain(TEACHER, SELECTION);
    StageManifest m = StageExecution.planAndRun(prepared.run(), spark, new FinetuneStudent(prepared.run(),
        finetuneOptions("teacher", TEACHER, "selection", SELECTION, "epochs", "1", "batch-size", "32",
            "workers", "2", "local-steps", "5")));

    assertThat(m.stage()).isEqualTo("student/" + TEACHER + "/" + SELECTION + "/finetune");
    ModelResult r = m.result(ModelResult.class);
    assertThat(r.phaseNames()).as("one phase, on the labeled split").containsExactly("labeled");
    assertTrained("labeled", r.phase("labeled"), prepared.count(Split.LABELED), 1, 32, 2);
    assertThat(m.count("training-examples.labeled")).as("the labeled split")
        .isEqualTo(prepared.count(Split.LABELED));
    assertEvaluatedModel(m);

    ModelResult pretrained = prepared.run().committed(pretrain).orElseThrow().result(ModelResult.class);
    assertThat(r.model().architecture()).as("the pretrained model's architecture")
        .isEqualTo(pretrained.model().architecture());
    assertThat(StageModel.read(prepared.run(), m.id()).spec())
        .isEqualTo(StageModel.read(prepared.run(), pretrain).spec());
    assertThat(r.model().fingerprint()).as("but weights trained further").isNotEqualTo(pretrained.model().fingerprint());
    assertThat(m.inputs()).extracting(StageManifest.Input::name).as("reads prep and the pretrained model")
        .containsExactlyInAnyOrder("prep", pretrain.path());
  }

  @Test
  @Order(3)
  void finetuneStartsFromThePretrainedWeights() {
    // A "pretrained" model of another architecture, committed without training, fine-tuned with a
    // vanishing learning rate (0 is refused by the trainer): every trained parameter stays the
    // pretrained one, where a fresh initialization would differ by about 0.1.
    ModelSpec spec = ModelSpec.smallResNet(1, 28, 10, 1, 4, 8);
    ModelWeights pretrained = ModelWeights.initial(spec, 11);
    CommittedModels.commit(prepared.run(), RunLayout.pretrain(TEACHER, "lr0"), spec, pretrained);
    StageManifest m = StageExecution.planAndRun(prepared.run(), spark, new FinetuneStudent(prepared.run(),
        finetuneOptions("teacher", TEACHER, "selection", "lr0", "epochs", "1", "batch-size", "32", "workers", "1",
            "learning-rate", "1e-20")));

    StageModel finetuned = StageModel.read(prepared.run(), m.id());
    assertThat(finetuned.spec()).as("the pretrained architecture, not the student's default").isEqualTo(spec);
    ModelWeights w = finetuned.weights();
    List<String> trained = w.names().stream()
        .filter(n -> !n.toLowerCase(Locale.ROOT).contains("running")).toList();
    assertThat(trained).as("convolution, linear and BatchNorm scale/shift parameters")
        .isNotEmpty().hasSizeLessThan(w.names().size());
    for (String name : trained) {
      assertThat(w.values(name)).as("%s: the pretrained values, as the learning rate is 1e-20", name)
          .containsExactly(pretrained.values(name), within(1e-6f));
    }
  }

  @Test
  @Order(4)
  void theBaselineTrainsTheStudentArchitectureFromScratchOnTheLabeledSplit() {
    StageManifest m = StageExecution.planAndRun(prepared.run(), spark, new TrainBaseline(prepared.run(),
        baselineOptions("widths", "8,16", "epochs", "2", "batch-size", "32", "workers", "2", "local-steps", "5")));

    assertThat(m.stage()).isEqualTo("baseline");
    ModelResult r = m.result(ModelResult.class);
    assertThat(r.phaseNames()).as("one phase, on the labeled split").containsExactly("labeled");
    assertTrained("labeled", r.phase("labeled"), prepared.count(Split.LABELED), 2, 32, 2);
    assertThat(m.count("training-examples.labeled")).isEqualTo(prepared.count(Split.LABELED));
    assertThat(m.inputs()).extracting(StageManifest.Input::name).as("reads prep only").containsExactly("prep");
    StageModel model = assertEvaluatedModel(m);
    assertThat(model.spec().stageWidths()).containsExactly(8, 16);
  }

  @Test
  void pretrainRefusesASelectionOfImagesThatAreNotInTheUnlabeledSplit() {
    List<CommittedSelections.Pick> foreign = new ArrayList<>(picks.subList(0, 4));
    foreign.add(new CommittedSelections.Pick("another-prep-00001", 3, 0.9f));
    CommittedSelections.commit(spark, prepared.run(), TEACHER, "foreign", 12, 2, prepared.vocabulary().classes(),
        foreign);
    PretrainStudent stage = new PretrainStudent(prepared.run(), pretrainOptions("teacher", TEACHER,
        "selection", "foreign", "widths", "8,16", "epochs", "1", "batch-size", "32"));
    assertThatThrownBy(() -> StageExecution.planAndRun(prepared.run(), spark, stage))
        .as("training on the 4 found images would hide the lost one")
        .hasMessageContaining("selection/" + TEACHER + "/foreign selected 5 (image, class) pairs but only 4 of them"
            + " have an image in prep/unlabeled");
    assertThat(prepared.run().committed(stage.id())).as("nothing committed").isEmpty();
  }

  /** The selection of {@link #picks} as semiweak committed it before class names: the column {@code class}. */
  static StageId commitFirstLayout(String name) {
    return CommittedSelections.commit(spark, prepared.run(), TEACHER, name, 12, 2, prepared.vocabulary().classes(),
        picks, SelectionSchema.V1).id();
  }

  @Test
  void aSelectionCommittedBeforeClassNamesIsReadWithClassIndexAndItsClassNames() {
    StageId old = commitFirstLayout("k12-p2-first-layout");
    assertThat(spark.read().parquet(prepared.run().stagePath(old).toString()).columns())
        .as("written in the first layout").containsExactly("image_id", "class", "score", "rank");

    SelectionInput input = SelectionInput.require(prepared.run(), old, RunLayout.pretrain(TEACHER, "x"));
    assertThat(input.schemaVersion()).as("its manifest has no schemaVersion: version 1").isEqualTo(SelectionSchema.V1);
    List<Row> rows = input.read(spark).collectAsList();
    assertThat(input.read(spark).columns()).as("read with the columns of today")
        .containsExactly(SelectionSchema.SCHEMA.fieldNames());
    List<String> read = new ArrayList<>();
    for (Row r : rows) {
      read.add(r.getAs(SelectionSchema.IMAGE_ID) + " " + r.getAs(SelectionSchema.CLASS_INDEX) + " "
          + r.getAs(SelectionSchema.CLASS_NAME));
    }
    List<String> expected = new ArrayList<>();
    for (CommittedSelections.Pick p : picks) {
      expected.add(p.imageId() + " " + p.classIndex() + " " + prepared.vocabulary().classes().get(p.classIndex()));
    }
    assertThat(read).as("every pick, its class index from 'class' and the name of that class")
        .containsExactlyInAnyOrderElementsOf(expected);
  }

  @Test
  void pretrainTrainsOnASelectionCommittedBeforeClassNames() {
    StageId old = commitFirstLayout("k12-p2-before-names");
    StageManifest m = StageExecution.planAndRun(prepared.run(), spark, new PretrainStudent(prepared.run(),
        pretrainOptions("teacher", TEACHER, "selection", old.selection(), "widths", "8,16", "epochs", "1",
            "batch-size", "32", "workers", "2", "local-steps", "5")));
    assertThat(m.count("training-examples.pseudo-labels"))
        .as("one example per selected (image, class) row of the old layout").isEqualTo(picks.size());
  }

  @Test
  void planningPretrainAgainstAMissingSelectionNamesIt() {
    PretrainStudent missing = new PretrainStudent(prepared.run(),
        pretrainOptions("teacher", TEACHER, "selection", "k99-p1"));
    assertThatThrownBy(() -> missing.plan(new Upstream(prepared.run())))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("selection/" + TEACHER + "/k99-p1")
        .hasMessageContaining("pretrain needs");
  }

  @Test
  void planningFinetuneWithoutItsPretrainedModelNamesIt() {
    FinetuneStudent missing = new FinetuneStudent(prepared.run(),
        finetuneOptions("teacher", "semi-supervised", "selection", SELECTION));
    assertThatThrownBy(() -> missing.plan(new Upstream(prepared.run())))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("student/semi-supervised/" + SELECTION + "/pretrain")
        .hasMessageContaining("finetune needs");
  }

  @Test
  void theBaselineIsTheStudentArchitectureAndFinetuneHasNoArchitectureOfItsOwn() {
    ModelSpec student = PretrainStudent.TRAINING.modelSpec(pretrainOptions("teacher", "t", "selection", "s"),
        prepared.images());
    ModelSpec baseline = TrainBaseline.TRAINING.modelSpec(baselineOptions(), prepared.images());
    assertThat(baseline).as("by default the baseline is the student's architecture").isEqualTo(student);
    assertThatThrownBy(() -> finetuneOptions("teacher", "t", "selection", "s", "widths", "8,16"))
        .as("finetune keeps the pretrained architecture: it has no widths option")
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("unknown option 'widths'");
  }
}
