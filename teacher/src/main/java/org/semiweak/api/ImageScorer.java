package org.semiweak.api;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.ml.Transformer;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.param.ParamValidators;
import org.apache.spark.ml.param.StringArrayParam;
import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.ml.util.DefaultParamsWritable;
import org.apache.spark.ml.util.Identifiable$;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.semiweak.data.ImageSchema;
import org.semiweak.data.ScoreSchema;
import org.semiweak.model.StageModel;
import org.semiweak.teacher.ImageScoring;
import org.semiweak.run.JavaSerialized;
import scala.collection.JavaConverters;

/**
 * Scores images with a semiweak model as a Spark ML {@link Transformer}: a DataFrame with a column
 * of encoded image bytes in, the same rows out with each image's top-P classes and probabilities
 * appended, exactly as the {@code score} stage computes them (both run {@link ImageScoring}).
 *
 * <pre>{@code
 * ImageScorer scorer = new ImageScorer()
 *     .setModelPath("hdfs:///runs/demo/teacher/labeled")  // a committed model stage's folder
 *     .setTopP(5);
 * Dataset<Row> scores = scorer.transform(images);          // image_id, image, ..., classes, probs, rejection
 * }</pre>
 *
 * <p>Columns. {@code inputCol} (default {@code image}, binary) holds PNG or JPEG bytes of the size
 * the model expects (data-prep's {@code image} column is); {@code idCol} (default {@code image_id},
 * string) names images in rejection reasons, and is optional: without it an image is named by its
 * partition and position. Appended: {@code classesCol} (default {@code classes}, {@code
 * array<int>}) and {@code probsCol} (default {@code probs}, {@code array<float>}): the top
 * {@code min(topP, classes)} classes by probability descending, ties by class index, as in {@link
 * ScoreSchema}; with {@link #setClassNames} also {@code classNamesCol} ({@code class_names}, the
 * names of those classes); and {@code rejectionCol} (default {@code rejection}, string).
 *
 * <p>A bad image is not dropped, and does not fail the job: its row keeps its input columns, gets
 * null classes and probabilities, and a rejection reason that starts with its id, the same reason
 * the score stage records for the images it leaves out (bytes that are no PNG/JPEG or have the wrong
 * size, or NaN/infinite scores). Filter on {@code rejection IS NULL} before selecting.
 *
 * <p>Saved alone or in a Pipeline ({@code write().save(path)}, {@link #load}), a scorer keeps its
 * params; the model stays where {@code modelPath} says.
 *
 * <p>The model ({@code modelPath}: a model stage's folder in a run, native semiweak or imported
 * TorchScript) is read once on the driver per {@link #transform} call, broadcast, and loaded once per
 * executor JVM; each task opens it on the GPU Spark assigned to the task, if any. DJL must find
 * libtorch without downloading it: see README, "Using semiweak as a library".
 */
public final class ImageScorer extends Transformer implements DefaultParamsWritable {
  private static final long serialVersionUID = 1L;

  private final String uid;
  private final Param<String> modelPath;
  private final Param<String> inputCol;
  private final Param<String> idCol;
  private final Param<String> classesCol;
  private final Param<String> probsCol;
  private final Param<String> classNamesCol;
  private final Param<String> rejectionCol;
  private final IntParam topP;
  private final IntParam batchSize;
  private final StringArrayParam classNames;

  public ImageScorer() {
    this(Identifiable$.MODULE$.randomUID("imageScorer"));
  }

  /** With a given uid: what {@link #copy} and Spark ML's persistence call. */
  public ImageScorer(String uid) {
    this.uid = uid;
    modelPath = new Param<>(this, "modelPath",
        "folder of a committed model stage (model.json + weights.bin, or torchscript.json + model.pt), any Hadoop"
            + " path; required");
    inputCol = new Param<>(this, "inputCol", "column of encoded image bytes (PNG or JPEG, binary)");
    idCol = new Param<>(this, "idCol", "string column naming each image in rejection reasons; optional: without it,"
        + " images are named by partition and position");
    classesCol = new Param<>(this, "classesCol", "output: the top-P class indexes, most probable first");
    probsCol = new Param<>(this, "probsCol", "output: their probabilities");
    classNamesCol = new Param<>(this, "classNamesCol", "output, when classNames is set: the top-P class names");
    rejectionCol = new Param<>(this, "rejectionCol",
        "output: null when the image was scored, else why not (starts with the image's id)");
    topP = new IntParam(this, "topP", "classes kept per image (all of them when the model has fewer); >= 1",
        ParamValidators.gtEq(1));
    batchSize = new IntParam(this, "batchSize", "images per forward pass; 0 (the default) = the model's for the"
        + " task's device: 256 on a GPU; on the CPU 256 for 28 px models, 10 for ResNet-18 at 224 px"
        + " (StageModel.defaultBatchSize)", ParamValidators.gtEq(0));
    classNames = new StringArrayParam(this, "classNames",
        "optional: the model's class names in index order (e.g. the run's vocabulary); adds classNamesCol");
    setDefault(inputCol, ImageSchema.IMAGE);
    setDefault(idCol, ImageSchema.IMAGE_ID);
    setDefault(classesCol, ScoreSchema.CLASSES);
    setDefault(probsCol, ScoreSchema.PROBS);
    setDefault(classNamesCol, "class_names");
    setDefault(rejectionCol, "rejection");
    setDefault(topP, 10);
    setDefault(batchSize, 0);
  }

  @Override
  public String uid() {
    return uid;
  }

  // Spark ML finds a stage's params through its public no-argument methods that return a Param.

  public Param<String> modelPath() {
    return modelPath;
  }

  public Param<String> inputCol() {
    return inputCol;
  }

  public Param<String> idCol() {
    return idCol;
  }

  public Param<String> classesCol() {
    return classesCol;
  }

  public Param<String> probsCol() {
    return probsCol;
  }

  public Param<String> classNamesCol() {
    return classNamesCol;
  }

  public Param<String> rejectionCol() {
    return rejectionCol;
  }

  public IntParam topP() {
    return topP;
  }

  public IntParam batchSize() {
    return batchSize;
  }

  public StringArrayParam classNames() {
    return classNames;
  }

  public ImageScorer setModelPath(String value) {
    set(modelPath, value);
    return this;
  }

  public ImageScorer setInputCol(String value) {
    set(inputCol, value);
    return this;
  }

  public ImageScorer setIdCol(String value) {
    set(idCol, value);
    return this;
  }

  public ImageScorer setClassesCol(String value) {
    set(classesCol, value);
    return this;
  }

  public ImageScorer setProbsCol(String value) {
    set(probsCol, value);
    return this;
  }

  public ImageScorer setClassNamesCol(String value) {
    set(classNamesCol, value);
    return this;
  }

  public ImageScorer setRejectionCol(String value) {
    set(rejectionCol, value);
    return this;
  }

  public ImageScorer setTopP(int value) {
    set(topP, value);
    return this;
  }

  public ImageScorer setBatchSize(int value) {
    set(batchSize, value);
    return this;
  }

  public ImageScorer setClassNames(List<String> value) {
    set(classNames, value.toArray(String[]::new));
    return this;
  }

  public String getModelPath() {
    return isDefined(modelPath) ? getOrDefault(modelPath) : null;
  }

  public int getTopP() {
    return (Integer) getOrDefault(topP);
  }

  public int getBatchSize() {
    return (Integer) getOrDefault(batchSize);
  }

  /** The class names set, or null. */
  public List<String> getClassNames() {
    return isDefined(classNames) ? List.of(getOrDefault(classNames)) : null;
  }

  /**
   * The input schema and the appended columns. Fails, before any job runs, naming what is wrong: no
   * model path, a missing or mistyped input or id column, or an output column that already exists.
   */
  @Override
  public StructType transformSchema(StructType schema) {
    List<String> problems = new ArrayList<>();
    if (getModelPath() == null || getModelPath().isBlank()) {
      problems.add("modelPath is not set: give the folder of a committed model stage, e.g. <run>/teacher/labeled");
    }
    String input = getOrDefault(inputCol);
    expect(schema, input, DataTypes.BinaryType, "the encoded images (PNG or JPEG bytes)", true, problems);
    expect(schema, getOrDefault(idCol), DataTypes.StringType, "the image ids", false, problems);
    List<String> outputs = outputColumns();
    for (String out : outputs) {
      if (Arrays.asList(schema.fieldNames()).contains(out)) {
        problems.add("output column '" + out + "' already exists: rename it or set another output column name");
      }
    }
    if (outputs.stream().distinct().count() != outputs.size()) {
      problems.add("the output columns " + outputs + " must have distinct names");
    }
    if (!problems.isEmpty()) {
      throw new IllegalArgumentException("ImageScorer " + uid + ": " + String.join("; ", problems)
          + ". Input schema: " + schema.simpleString());
    }
    StructType out = schema
        .add(getOrDefault(classesCol), DataTypes.createArrayType(DataTypes.IntegerType, false), true)
        .add(getOrDefault(probsCol), DataTypes.createArrayType(DataTypes.FloatType, false), true);
    if (getClassNames() != null) {
      out = out.add(getOrDefault(classNamesCol), DataTypes.createArrayType(DataTypes.StringType, false), true);
    }
    return out.add(getOrDefault(rejectionCol), DataTypes.StringType, true);
  }

  private List<String> outputColumns() {
    List<String> out = new ArrayList<>(List.of(getOrDefault(classesCol), getOrDefault(probsCol)));
    if (getClassNames() != null) {
      out.add(getOrDefault(classNamesCol));
    }
    out.add(getOrDefault(rejectionCol));
    return out;
  }

  private static void expect(StructType schema, String column, DataType type, String what, boolean required,
      List<String> problems) {
    if (!Arrays.asList(schema.fieldNames()).contains(column)) {
      if (required) {
        problems.add("input column '" + column + "' (" + what + ", " + type.simpleString() + ") is missing");
      }
      return;
    }
    DataType found = schema.apply(column).dataType();
    if (!found.equals(type)) {
      problems.add(String.format(Locale.ROOT, "input column '%s' (%s) has type %s, expected %s", column, what,
          found.simpleString(), type.simpleString()));
    }
  }

  /**
   * Appends the scores (lazily: the images are scored when an action runs). Reads the model now, so
   * a missing or unreadable model, or class names that do not fit it, fail here.
   */
  @Override
  public Dataset<Row> transform(Dataset<?> dataset) {
    StructType outSchema = transformSchema(dataset.schema(), true);
    SparkSession spark = dataset.sparkSession();
    StageModel model = readModel(spark, getModelPath());
    int numClasses = model.spec().numClasses();
    List<String> names = getClassNames();
    if (names != null && names.size() != numClasses) {
      throw new IllegalArgumentException("ImageScorer " + uid + ": classNames has " + names.size() + " names but the"
          + " model " + getModelPath() + " predicts " + numClasses + " classes");
    }
    StructType in = dataset.schema();
    int imageIndex = in.fieldIndex(getOrDefault(inputCol));
    int idIndex = Arrays.asList(in.fieldNames()).indexOf(getOrDefault(idCol));
    int p = Math.min(getTopP(), numClasses);
    int batch = getBatchSize(); // 0: each task takes the model's batch for its device
    String[] nameArray = names == null ? null : names.toArray(String[]::new);
    String fingerprint = model.fingerprint();
    Broadcast<JavaSerialized<StageModel>> shipped =
        JavaSparkContext.fromSparkContext(spark.sparkContext()).broadcast(JavaSerialized.of(model));
    // The broadcast lives as long as the returned plan may run again; Spark's cleaner drops it after.
    return dataset.toDF().mapPartitions(
        (MapPartitionsFunction<Row, Row>) rows ->
            scorePartition(rows, fingerprint, shipped, imageIndex, idIndex, p, batch, nameArray),
        Encoders.row(outSchema));
  }

  /** The model of a stage folder, with a message that names the folder and the parameter. */
  static StageModel readModel(SparkSession spark, String path) {
    Path dir = new Path(path);
    try {
      FileSystem fs = dir.getFileSystem(spark.sparkContext().hadoopConfiguration());
      if (!fs.exists(dir)) {
        throw new IllegalArgumentException("ImageScorer.modelPath: " + path + " does not exist; give the folder of"
            + " a committed model stage, e.g. <run>/teacher/labeled");
      }
      return StageModel.read(fs, dir, path);
    } catch (IOException e) {
      throw new UncheckedIOException("ImageScorer.modelPath: cannot read " + path + ": " + e.getMessage(), e);
    }
  }

  private static Iterator<Row> scorePartition(Iterator<Row> rows, String fingerprint,
      Broadcast<JavaSerialized<StageModel>> model,
      int imageIndex, int idIndex, int topP, int batchSize, String[] classNames) {
    if (!rows.hasNext()) {
      return java.util.Collections.emptyIterator();
    }
    int partition = TaskContext.getPartitionId();
    List<Row> out = new ArrayList<>();
    List<Row> batch = new ArrayList<>();
    List<String> ids = new ArrayList<>();
    List<byte[]> images = new ArrayList<>();
    long position = 0;
    try (ImageScoring scoring = ImageScoring.openForTask(fingerprint, () -> model.value().get(), batchSize)) {
      int size = scoring.batchSize();
      while (rows.hasNext()) {
        Row r = rows.next();
        batch.add(r);
        String id = idIndex >= 0 && !r.isNullAt(idIndex) ? r.getString(idIndex)
            : "row " + position + " of partition " + partition;
        ids.add(id);
        images.add(r.isNullAt(imageIndex) ? null : (byte[]) r.get(imageIndex));
        position++;
        if (batch.size() == size || !rows.hasNext()) {
          List<ImageScoring.Scored> scored = scoring.score(ids, images, topP, false);
          for (int i = 0; i < batch.size(); i++) {
            out.add(withScores(batch.get(i), scored.get(i), classNames));
          }
          batch.clear();
          ids.clear();
          images.clear();
        }
      }
    }
    return out.iterator();
  }

  private static Row withScores(Row in, ImageScoring.Scored s, String[] classNames) {
    int n = in.length();
    Object[] values = new Object[n + (classNames == null ? 3 : 4)];
    for (int i = 0; i < n; i++) {
      values[i] = in.get(i);
    }
    int c = n;
    if (s.isScored()) {
      values[c++] = ImageScoring.seq(s.classes());
      values[c++] = ImageScoring.seq(s.probs());
      if (classNames != null) {
        String[] names = Arrays.stream(s.classes()).mapToObj(k -> classNames[k]).toArray(String[]::new);
        values[c++] = JavaConverters.asScala(List.of(names)).toSeq();
      }
      values[c] = null;
    } else {
      c += classNames == null ? 2 : 3;
      values[c] = s.reason();
    }
    return RowFactory.create(values);
  }

  @Override
  public ImageScorer copy(ParamMap extra) {
    return (ImageScorer) defaultCopy(extra);
  }

  /**
   * Reads a scorer saved with {@code write().save(path)}, or as a stage of a saved Pipeline (which
   * finds this static method by reflection): its params, not the model, which it reads again from
   * {@code modelPath} at {@link #transform}.
   */
  public static MLReader<ImageScorer> read() {
    return new DefaultParamsReader<>();
  }

  public static ImageScorer load(String path) {
    return read().load(path);
  }
}
