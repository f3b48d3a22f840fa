package org.semiweak.train;

import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.HashPartitioner;
import org.apache.spark.Partitioner;
import org.apache.spark.SparkContext;
import org.apache.spark.SparkEnv;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.Function2;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;
import org.apache.spark.util.CollectionAccumulator;
import org.semiweak.data.ImageSchema;
import org.semiweak.model.ModelSpec;
import org.semiweak.model.ModelWeights;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.Tuple2;
import scala.Tuple5;

/**
 * Trains a model on a Spark cluster by synchronous model averaging (as DL4J's and BigDL's
 * parameter averaging): each round, every worker (one Spark partition) trains {@code
 * localStepsPerRound} SGD steps on its shard from the same broadcast weights, and the resulting
 * weights and momentum buffers are averaged on the executors, slice by slice in a fixed order
 * ({@link SlicedAverage}): the driver receives one averaged copy per round, not one per worker.
 *
 * <p>Input rows need {@code image_id} (string, unique), {@code image} (binary PNG/JPEG of the
 * spec's size) and {@code label} (int, not null). They are repartitioned into {@code workers}
 * shards by a stable hash of the id ({@link ExampleShard#workerOf}), sorted by id, decoded once and
 * cached. With the same seed, the result equals {@link InProcessTrainer}'s on the same shards,
 * whatever the input partitioning and despite task retries.
 *
 * <p>With a checkpoint folder, each round is saved there and a restarted run with the same
 * options, spec and initial weights resumes after the newest checkpoint (see {@link
 * TrainingCheckpoints}); a folder without checkpoints starts fresh quietly.
 *
 * <pre>{@code
 * TrainingResult r = new DistributedTrainer(spark)
 *     .optLabel("pretrain")
 *     .train(rows, spec, ModelWeights.initial(spec, 1), options, new Path(work, "checkpoints"), null);
 * }</pre>
 */
public final class DistributedTrainer {
  private static final Logger LOG = LoggerFactory.getLogger(DistributedTrainer.class);
  private static final String JOB_DESCRIPTION = "spark.job.description";

  private final SparkSession spark;
  private String label = "train";
  private TaskHook taskHook;

  /** Runs inside each training task after its local steps; tests use it to inject failures. */
  interface TaskHook extends Serializable {
    void afterLocalSteps(int round, int worker, int attemptNumber);
  }

  public DistributedTrainer(SparkSession spark) {
    this.spark = spark;
  }

  /** Name used in Spark job descriptions and log lines, e.g. {@code "pretrain"}. */
  public DistributedTrainer optLabel(String label) {
    this.label = label;
    return this;
  }

  DistributedTrainer withTaskHook(TaskHook hook) {
    this.taskHook = hook;
    return this;
  }

  /** Trains from {@code initial} weights without checkpoints. */
  public TrainingResult train(Dataset<Row> rows, ModelSpec spec, ModelWeights initial, TrainOptions options) {
    return train(rows, spec, initial, options, null, null);
  }

  /**
   * Trains from {@code initial} weights.
   *
   * @param checkpointDir folder (any Hadoop file system) for round checkpoints, resumed from when
   *     it holds a checkpoint of the same run; null for none
   * @param listener told after each round; null for none
   *
   * @throws IllegalArgumentException if a column is missing or has the wrong type (before any
   *     job runs)
   * @throws org.apache.spark.SparkException wrapping the first bad record (undecodable image,
   *     wrong size, missing or out-of-range label, duplicate id), naming its image_id
   */
  public TrainingResult train(Dataset<Row> rows, ModelSpec spec, ModelWeights initial, TrainOptions options,
      Path checkpointDir, RoundListener listener) {
    checkSchema(rows.schema());
    SparkContext sc = spark.sparkContext();
    String previousDescription = sc.getLocalProperty(JOB_DESCRIPTION);
    int workers = options.workers();
    List<String> fields = java.util.Arrays.asList(rows.schema().fieldNames());
    List<org.apache.spark.sql.Column> selected = new java.util.ArrayList<>(List.of(
        rows.col(ImageSchema.IMAGE_ID), rows.col(ImageSchema.IMAGE), rows.col(ImageSchema.LABEL)));
    if (fields.contains(ExampleShard.TARGETS)) {
      selected.add(rows.col(ExampleShard.TARGETS));
    }
    if (fields.contains(ExampleShard.DISTRIBUTION)) {
      selected.add(rows.col(ExampleShard.DISTRIBUTION));
    }
    if (fields.contains(ExampleShard.LABELED_POOL)) {
      selected.add(rows.col(ExampleShard.LABELED_POOL));
    }
    Dataset<Row> columns = rows.select(selected.toArray(new org.apache.spark.sql.Column[0]));
    JavaRDD<ExampleShard> shards = columns
        .javaRDD()
        // A Scala tuple, not a Java record: Kryo (spark.serializer on clusters) cannot serialize records.
        .mapToPair(r -> new Tuple2<>(r.getString(0), new Tuple5<>((byte[]) r.get(1), r.isNullAt(2) ? null : r.getInt(2),
            ExampleShard.targetsOf(r), ExampleShard.distributionOf(r), ExampleShard.labeledPoolOf(r))))
        .partitionBy(new WorkerPartitioner(workers))
        .mapPartitions(it -> {
          ExampleShard.Builder b = ExampleShard.builder(spec);
          while (it.hasNext()) {
            Tuple2<String, Tuple5<byte[], Integer, int[], float[], Boolean>> e = it.next();
            Tuple5<byte[], Integer, int[], float[], Boolean> t = e._2();
            if (t._4() != null) {
              b.add(e._1(), t._1(), t._2(), t._4());
            } else if (t._3() != null) {
              b.add(e._1(), t._1(), t._3());
            } else {
              b.add(e._1(), t._1(), t._2());
            }
            if (t._5()) {
              b.markLabeledPool();
            }
          }
          return Collections.singletonList(b.build()).iterator();
        }, true)
        .persist(StorageLevel.MEMORY_AND_DISK());
    try {
      sc.setJobDescription(label + ": decode training images into " + workers + " shards");
      List<Integer> sizes = shards.map(ExampleShard::size).collect();
      long total = sizes.stream().mapToLong(Integer::longValue).sum();
      if (total == 0) {
        throw new IllegalArgumentException(label + ": the training input has no rows");
      }
      long empty = sizes.stream().filter(s -> s == 0).count();
      LOG.info("{}: {} training images in {} shards, sizes {}..{}", label, total, workers,
          sizes.stream().mapToInt(Integer::intValue).min().orElse(0), sizes.stream().mapToInt(Integer::intValue).max().orElse(0));
      if (empty > 0) {
        LOG.warn("{}: {} of {} workers have no images and sit out every round; use fewer workers", label, empty, workers);
      }
      TrainingCheckpoints checkpoints = null;
      if (checkpointDir != null) {
        try {
          FileSystem fs = checkpointDir.getFileSystem(sc.hadoopConfiguration());
          checkpoints = new TrainingCheckpoints(fs, checkpointDir, RoundLoop.runFingerprint(spec, initial, options));
        } catch (IOException e) {
          throw new UncheckedIOException("cannot open checkpoint folder " + checkpointDir + ": " + e.getMessage(), e);
        }
      }
      JavaSparkContext jsc = JavaSparkContext.fromSparkContext(sc);
      // Which executors trained (for the manifest: shows the work really spread over the cluster).
      CollectionAccumulator<String> executors = sc.collectionAccumulator(label + " training executors");
      TrainingResult result = RoundLoop.run(label, spec, initial, options, checkpoints, listener, (round, weights, state) -> {
        Broadcast<byte[]> weightBytes = jsc.broadcast(weights.toBytes());
        Broadcast<byte[]> stateBytes = jsc.broadcast(state.toBytes());
        try {
          sc.setJobDescription(round.describe(label));
          // The workers' outcomes meet on the executors, slice by slice; the driver receives one
          // averaged copy of the weights and momentum buffers, whatever the number of workers.
          int slices = SlicedAverage.slices(weights.valueCount(), workers);
          List<SlicedAverage.AveragedSlice> averaged = JavaPairRDD.fromJavaRDD(shards
              .mapPartitionsWithIndex(new RoundTask(spec, options, round.fromStep(), round.steps(), round.number(),
                  weightBytes, stateBytes, taskHook, executors, slices), true))
              .groupByKey(new HashPartitioner(slices))
              .map(slice -> SlicedAverage.average(slice._1(), slice._2()))
              .collect();
          return SlicedAverage.assemble(averaged, slices, workers, round.describe(label));
        } finally {
          weightBytes.destroy();
          stateBytes.destroy();
        }
      });
      return result.withExecutors(executors.value()).withTrainingSetSize(total);
    } finally {
      shards.unpersist(false);
      sc.setJobDescription(previousDescription);
    }
  }

  private static void checkSchema(StructType schema) {
    require(schema, ImageSchema.IMAGE_ID, DataTypes.StringType);
    require(schema, ImageSchema.IMAGE, DataTypes.BinaryType);
    require(schema, ImageSchema.LABEL, DataTypes.IntegerType);
    if (java.util.Arrays.asList(schema.fieldNames()).contains(ExampleShard.TARGETS)) {
      DataType t = schema.apply(ExampleShard.TARGETS).dataType();
      if (!(t instanceof org.apache.spark.sql.types.ArrayType a) || !a.elementType().equals(DataTypes.IntegerType)) {
        throw new IllegalArgumentException("column " + ExampleShard.TARGETS + " must be array<int> (the target classes"
            + " of each image), found " + t.simpleString());
      }
    }
    if (java.util.Arrays.asList(schema.fieldNames()).contains(ExampleShard.DISTRIBUTION)) {
      DataType t = schema.apply(ExampleShard.DISTRIBUTION).dataType();
      if (!(t instanceof org.apache.spark.sql.types.ArrayType a) || !a.elementType().equals(DataTypes.FloatType)) {
        throw new IllegalArgumentException("column " + ExampleShard.DISTRIBUTION + " must be array<float> (a target"
            + " distribution over the classes of each image), found " + t.simpleString());
      }
    }
  }


  static void require(StructType schema, String column, DataType type) {
    for (StructField f : schema.fields()) {
      if (f.name().equals(column)) {
        if (!f.dataType().equals(type)) {
          throw new IllegalArgumentException(String.format(Locale.ROOT,
              "column %s must be %s, found %s (input columns: %s)", column, type.simpleString(),
              f.dataType().simpleString(), schema.simpleString()));
        }
        return;
      }
    }
    throw new IllegalArgumentException(String.format(Locale.ROOT,
        "input has no column %s (%s); found %s", column, type.simpleString(), schema.simpleString()));
  }

  /** Sends each image id to {@link ExampleShard#workerOf}. */
  static final class WorkerPartitioner extends Partitioner {
    private final int workers;

    WorkerPartitioner(int workers) {
      this.workers = workers;
    }

    @Override
    public int numPartitions() {
      return workers;
    }

    @Override
    public int getPartition(Object key) {
      return ExampleShard.workerOf((String) key, workers);
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof WorkerPartitioner && ((WorkerPartitioner) o).workers == workers;
    }

    @Override
    public int hashCode() {
      return workers;
    }
  }

  /** One worker's share of a round, run as a Spark task on the partition holding its shard. */
  private static final class RoundTask
      implements Function2<Integer, Iterator<ExampleShard>, Iterator<Tuple2<Integer, SlicedAverage.Piece>>> {
    private final ModelSpec spec;
    private final TrainOptions options;
    private final long fromStep;
    private final int steps;
    private final int round;
    private final Broadcast<byte[]> weights;
    private final Broadcast<byte[]> state;
    private final TaskHook hook;
    private final CollectionAccumulator<String> executors;
    private final int slices;

    RoundTask(ModelSpec spec, TrainOptions options, long fromStep, int steps, int round, Broadcast<byte[]> weights,
        Broadcast<byte[]> state, TaskHook hook, CollectionAccumulator<String> executors, int slices) {
      this.spec = spec;
      this.options = options;
      this.fromStep = fromStep;
      this.steps = steps;
      this.round = round;
      this.weights = weights;
      this.state = state;
      this.hook = hook;
      this.executors = executors;
      this.slices = slices;
    }

    @Override
    public Iterator<Tuple2<Integer, SlicedAverage.Piece>> call(Integer worker, Iterator<ExampleShard> shards) {
      if (!shards.hasNext()) {
        throw new IllegalStateException("worker " + worker + " has no shard");
      }
      ExampleShard shard = shards.next();
      LocalTrainingOutcome outcome = LocalTrainer.trainSteps(spec, ModelWeights.fromBytes(weights.value()),
          ModelWeights.fromBytes(state.value()), shard, fromStep, steps, options, worker);
      if (hook != null) {
        TaskContext task = TaskContext.get();
        hook.afterLocalSteps(round, worker, task == null ? 0 : task.attemptNumber());
      }
      executors.add(SparkEnv.get().executorId());
      return SlicedAverage.cut(worker, outcome, slices).iterator();
    }
  }
}
