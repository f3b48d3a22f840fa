package org.semiweak.testing.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.semiweak.model.ModelSpec;
import org.semiweak.model.ModelWeights;
import org.semiweak.testing.FashionMnist;
import org.semiweak.train.DistributedTrainer;
import org.semiweak.train.TrainOptions;
import org.semiweak.train.TrainingResult;

/**
 * Model averaging of a ResNet-50-sized model (25.9 M parameters) over 4 workers on a standalone
 * cluster: the workers' weights and momentum buffers are averaged on the executors, so the driver
 * receives one averaged copy per round (~210 MB), under a {@code spark.driver.maxResultSize} that
 * the 4 workers' full outcomes (~840 MB) would exceed. (That the sliced average equals the
 * in-process one bit for bit is {@code DistributedTrainerTest}'s and {@code SlicedAverageTest}'s
 * business: on this model the in-process reference would add a minute.)
 */
class LargeModelAveragingTest {
  private static final Path DIR = Path.of("target", "cluster-it", "large-model-" + System.currentTimeMillis());
  /** Half the default (1g): below the 4 workers' outcomes, above one averaged copy. */
  private static final String MAX_RESULT_SIZE = "512m";

  @Test
  void aResNet50SizedModelIsAveragedOverFourWorkersOnTheExecutorsUnderHalfTheDefaultMaxResultSize() {
    // Five stages of one basic block; the last two (512 and 1344 channels) hold nearly all parameters.
    ModelSpec spec = ModelSpec.smallResNet(1, FashionMnist.SIZE, FashionMnist.CLASSES, 1, 16, 32, 64, 512, 1344);
    ModelWeights initial = ModelWeights.initial(spec, 11);
    long parameters = initial.valueCount();
    assertThat(parameters).as("at least ResNet-50's 25.6 M parameters").isGreaterThan(25_600_000L);
    long oneCopy = 2 * parameters * Float.BYTES; // weights and momentum buffers
    assertThat(4 * oneCopy).as("what the driver would receive if it averaged the 4 workers' outcomes itself")
        .isGreaterThan(512L << 20);

    FashionMnist data = FashionMnist.load("train", 64);
    // One round of one step: what is measured is the averaging, not the learning.
    TrainOptions options = TrainOptions.builder().setTotalSteps(1).optLocalStepsPerRound(1).optBatchSize(2)
        .optWorkers(4).optWarmupSteps(0).optBaseLearningRate(0.01).optSeed(5).build();

    Map<Integer, Long> resultBytesByStage = new ConcurrentHashMap<>();
    TrainingResult distributed;
    try (StandaloneCluster cluster = StandaloneCluster.builder(DIR).workers(2).workerCores(2).workerMemory("4g").start()) {
      SparkSession spark = cluster.sessionBuilder("large-model-averaging")
          .config("spark.executor.cores", "2")
          .config("spark.executor.memory", "3g")
          .config("spark.cores.max", "4")
          .config("spark.driver.maxResultSize", MAX_RESULT_SIZE)
          // As the deploy templates: Kryo, with its default 64 MiB buffer limit for one task result.
          .config("spark.serializer", "org.apache.spark.serializer.KryoSerializer")
          .getOrCreate();
      try {
        spark.sparkContext().addSparkListener(new SparkListener() {
          @Override
          public void onTaskEnd(SparkListenerTaskEnd end) {
            if (end.taskMetrics() != null) {
              resultBytesByStage.merge(end.stageId(), end.taskMetrics().resultSize(), Long::sum);
            }
          }
        });
        distributed = new DistributedTrainer(spark).optLabel("large").train(data.toRows(spark), spec, initial, options);
        assertThat(distributed.executors()).as("the 4 workers ran on both executors").hasSize(2);
      } finally {
        spark.stop();
      }
    }

    long largestResult = resultBytesByStage.values().stream().mapToLong(Long::longValue).max().orElse(0);
    System.out.printf("%,d parameters; largest task results of one stage: %,d bytes (one copy: %,d)%n", parameters,
        largestResult, oneCopy);
    assertThat(largestResult).as("the driver received about one averaged copy per round, not one per worker")
        .isGreaterThan(oneCopy).isLessThan(oneCopy + (oneCopy >> 4));

    assertThat(distributed.learningCurve()).hasSize(1);
    assertThat(distributed.learningCurve().get(0).meanLoss()).as("the loss of the 4 workers' 8 images").isFinite();
    assertThat(distributed.examplesSeen()).isEqualTo(8);
    assertThat(distributed.weights().valueCount()).isEqualTo(parameters);
  }
}
