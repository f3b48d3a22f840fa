package org.semiweak.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.File;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.semiweak.model.ModelSpec;
import org.semiweak.model.ModelWeights;
import org.semiweak.testing.FashionMnist;

/** Model averaging on Spark reproduces the in-process loop, survives task retries and resumes. */
class DistributedTrainerTest {
  static final ModelSpec SPEC = ModelSpec.smallResNet(1, 28, 10, 1, 8, 16)
      .withNormalization(new float[] {FashionMnist.MEAN}, new float[] {FashionMnist.STD});
  static final ModelWeights INITIAL = ModelWeights.initial(SPEC, 5);
  static final AtomicInteger INJECTED_FAILURES = new AtomicInteger();

  static SparkSession spark;
  static FashionMnist data;
  static Dataset<Row> rows;

  @TempDir File tmp;

  @BeforeAll
  static void start() {
    // local[2,2]: two task slots, and a failed task is retried once.
    spark = SparkSession.builder().master("local[2,2]").appName("DistributedTrainerTest")
        .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "4").getOrCreate();
    data = FashionMnist.load("train", 300);
    rows = data.toRows(spark).repartition(3);
  }

  @AfterAll
  static void stop() {
    spark.stop();
  }

  private static TrainingResult undisturbedTwoWorkers;

  /** The reference 2-worker run, computed once for the tests that compare against it. */
  static synchronized TrainingResult undisturbedTwoWorkers() {
    if (undisturbedTwoWorkers == null) {
      undisturbedTwoWorkers = new DistributedTrainer(spark).train(rows, SPEC, INITIAL, options().optWorkers(2).build());
    }
    return undisturbedTwoWorkers;
  }

  static TrainOptions.Builder options() {
    return TrainOptions.builder().setTotalSteps(6).optBatchSize(16).optLocalStepsPerRound(2).optWarmupSteps(1)
        .optCropPadding(2).optHorizontalFlip(true).optSeed(3);
  }

  @Test
  void oneSparkWorkerEqualsTheInProcessTrainerBitForBit() {
    TrainOptions o = options().build();
    TrainingResult spark1 = new DistributedTrainer(spark).train(rows, SPEC, INITIAL, o);
    TrainingResult local = new InProcessTrainer().train(ExampleShard.partition(data.rowList(), SPEC, 1), SPEC, INITIAL, o);
    assertThat(spark1.weights()).as("same weights, same sample order, same arithmetic").isEqualTo(local.weights());
    assertThat(spark1.learningCurve()).extracting(CurvePoint::meanLoss)
        .isEqualTo(local.learningCurve().stream().map(CurvePoint::meanLoss).toList());
    assertThat(spark1.roundsRun()).isEqualTo(3);
    assertThat(spark1.examplesSeen()).isEqualTo(6 * 16);
  }

  @Test
  void aRetriedTaskGivesTheSameWeightsAsAnUndisturbedRun() {
    TrainOptions o = options().optWorkers(2).build();
    TrainingResult undisturbed = undisturbedTwoWorkers();
    INJECTED_FAILURES.set(0);
    TrainingResult retried = new DistributedTrainer(spark)
        .withTaskHook((round, worker, attempt) -> {
          if (round == 2 && worker == 1 && attempt == 0) {
            INJECTED_FAILURES.incrementAndGet();
            throw new IllegalStateException("injected failure of worker 1 in round 2");
          }
        })
        .train(rows, SPEC, INITIAL, o);
    assertThat(INJECTED_FAILURES.get()).as("the first attempt of one task failed").isEqualTo(1);
    assertThat(retried.weights()).as("the retry recomputed the same outcome").isEqualTo(undisturbed.weights());

    TrainingResult local = new InProcessTrainer()
        .train(ExampleShard.partition(data.rowList(), SPEC, 2), SPEC, INITIAL, o);
    assertThat(undisturbed.weights()).as("two Spark workers equal two in-process workers").isEqualTo(local.weights());
    assertThat(undisturbed.learningCurve()).extracting(CurvePoint::trainAccuracy)
        .as("each round's training-batch accuracy: both workers' images classified right, summed on the executors")
        .isEqualTo(local.learningCurve().stream().map(CurvePoint::trainAccuracy).toList())
        .allSatisfy(a -> assertThat(a).isBetween(0.0, 1.0));
  }

  @Test
  void resumesFromTheLastCheckpointAfterACrash() {
    TrainOptions o = options().optWorkers(2).build();
    Path dir = new Path(tmp.toURI().toString(), "checkpoints");
    TrainingResult uninterrupted = undisturbedTwoWorkers();

    assertThatThrownBy(() -> new DistributedTrainer(spark).train(rows, SPEC, INITIAL, o, dir, report -> {
      if (report.point().round() == 2) {
        throw new IllegalStateException("simulated driver crash after round 2");
      }
    })).hasMessageContaining("simulated driver crash");

    List<Integer> rounds = new ArrayList<>();
    TrainingResult resumed = new DistributedTrainer(spark).train(rows, SPEC, INITIAL, o, dir,
        report -> rounds.add(report.point().round()));
    assertThat(resumed.roundsResumed()).as("rounds 1-2 came from the checkpoint").isEqualTo(2);
    assertThat(rounds).as("training continued at round 3").containsExactly(3);
    assertThat(resumed.weights()).as("same final weights as without the crash").isEqualTo(uninterrupted.weights());
    assertThat(resumed.learningCurve()).as("the learning curve has all rounds, restored ones included")
        .extracting(CurvePoint::round, CurvePoint::globalStep, CurvePoint::meanLoss, CurvePoint::trainAccuracy)
        .isEqualTo(uninterrupted.learningCurve().stream()
            .map(p -> org.assertj.core.groups.Tuple.tuple(p.round(), p.globalStep(), p.meanLoss(), p.trainAccuracy()))
            .toList());
    assertThat(new File(tmp, "checkpoints").list((d, n) -> n.startsWith("round-")))
        .as("the last two checkpoints are kept").containsExactlyInAnyOrder("round-000002", "round-000003");
  }

  @Test
  void sparkEvaluationEqualsInProcessEvaluation() {
    Evaluator.Evaluation distributed = Evaluator.evaluate(rows, SPEC, INITIAL, 64);
    Evaluator.Evaluation local = Evaluator.evaluate(ExampleShard.partition(data.rowList(), SPEC, 1).get(0), SPEC, INITIAL);
    assertThat(distributed.count()).isEqualTo(300);
    assertThat(distributed).as("same counts and confusion matrix").isEqualTo(local);
    assertThat(distributed.classCounts()).as("rows of the confusion matrix count the true classes")
        .containsExactly(classCounts(data));
    assertThat(Evaluator.evaluate(rows.limit(0), SPEC, INITIAL).count()).as("no rows, no images").isZero();
  }

  @Test
  void rejectsBadInputBeforeOrWhileDecodingNamingTheImage() {
    assertThatThrownBy(() -> new DistributedTrainer(spark).train(rows.drop("label"), SPEC, INITIAL, options().build()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("input has no column label (int)");
    Dataset<Row> unlabeled = spark.createDataFrame(
        List.of(RowFactory.create("fmnist-x-1", data.png(0), null)), FashionMnist.ROW_SCHEMA);
    assertThatThrownBy(() -> new DistributedTrainer(spark).train(unlabeled, SPEC, INITIAL, options().build()))
        .hasStackTraceContaining("image fmnist-x-1 has no label");
  }

  static long[] classCounts(FashionMnist d) {
    long[] n = new long[10];
    for (int i = 0; i < d.size(); i++) {
      n[d.label(i)]++;
    }
    return n;
  }
}
