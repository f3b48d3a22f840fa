package org.semiweak.driver;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.Device;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.semiweak.config.Options;
import org.semiweak.data.ImageSchema;
import org.semiweak.model.Classifier;
import org.semiweak.model.ImageTensors;
import org.semiweak.model.Inference;
import org.semiweak.model.ModelSpec;
import org.semiweak.model.ModelWeights;
import org.semiweak.model.StageModel;
import org.semiweak.run.RunDir;
import org.semiweak.run.RunLayout;
import org.semiweak.run.SparkSessions;
import org.semiweak.run.Split;
import org.semiweak.run.StageExecution;
import org.semiweak.run.StageId;
import org.semiweak.run.StageManifest;
import org.semiweak.run.StageOutput;
import org.semiweak.run.StagePlan;
import org.semiweak.run.StageWriter;
import org.semiweak.run.result.ModelResult;
import org.semiweak.stage.PrepInfo;
import org.semiweak.student.TrainBaseline;
import org.semiweak.testing.CommittedModels;
import org.semiweak.testing.FashionMnist;
import org.semiweak.testing.PreparedRuns;
import org.semiweak.testing.TorchScriptModels;
import org.semiweak.util.Fingerprint;
import org.semiweak.util.Json;

/**
 * {@code semiweak export RUN_DIR STAGE --output FILE}: a model trained by semiweak leaves it as a
 * safetensors file that plain PyTorch ({@code deploy/python/semiweak_model.py}, Debian's python3-torch)
 * loads and runs to the same logits as semiweak; stages that hold no exportable model are refused
 * with exit code 2 and a message that says why.
 */
class ModelExportTest {
  /** The test images both sides classify. */
  static final int IMAGES = 24;

  @TempDir static Path tmp;
  static SparkSession spark;
  static RunDir run;
  /** The first test images of the run's prep, as semiweak decodes them: unsigned CHW bytes, back to back. */
  static byte[] pixels;

  /** A baseline (widths 16/32, two epochs) trained by the real stage on a small prepared Fashion-MNIST slice. */
  @BeforeAll
  static void trainABaseline() {
    spark = SparkSessions.getOrCreate("semiweak-export-test", "local[1]");
    run = PreparedRuns.commit(spark, tmp.resolve("run"), new PreparedRuns.Spec(6, 100, IMAGES, 0.7, 0.2, 0.2, 7)).run();
    StageExecution.planAndRun(run, spark, new TrainBaseline(run, Options.parse("baseline", TrainBaseline.OPTIONS,
        Map.of("widths", "16,32", "epochs", "2", "batch-size", "20", "norm-mean", String.valueOf(FashionMnist.MEAN),
            "norm-std", String.valueOf(FashionMnist.STD)))));
    ModelSpec spec = StageModel.read(run, RunLayout.baseline()).spec();
    List<Row> rows = PrepInfo.read(run).read(spark, Split.TEST).orderBy(ImageSchema.IMAGE_ID).limit(IMAGES)
        .collectAsList();
    pixels = new byte[IMAGES * spec.imageValues()];
    for (int i = 0; i < IMAGES; i++) {
      Row r = rows.get(i);
      byte[] p = ImageTensors.decodePixels(r.getAs(ImageSchema.IMAGE), spec, r.getAs(ImageSchema.IMAGE_ID));
      System.arraycopy(p, 0, pixels, i * p.length, p.length);
    }
  }

  static String[] cli(String... args) {
    return PipelineTest.cli(args);
  }

  @Test
  void anExportedBaselineGivesInPyTorchTheLogitsSemiweakGives() throws Exception {
    assertThat(TorchScriptModels.torchAvailable())
        .as("this test runs the export in Debian's PyTorch: install python3-torch (apt-get install python3-torch;"
            + " .ci/run does) so that %s can import torch", TorchScriptModels.PYTHON)
        .isTrue();
    Path file = tmp.resolve("exports/baseline.safetensors");
    String[] r = cli("export", run.root().toString(), "baseline", "--output", file.toString());
    assertThat(r[0]).as("exit code; stderr: %s", r[2]).isEqualTo("0");
    StageManifest manifest = run.committed(RunLayout.baseline()).orElseThrow();
    assertThat(r[1]).contains("exported baseline (commit " + manifest.commit() + ") to file:" + file);
    try (Stream<Path> files = Files.list(file.getParent())) {
      assertThat(files.map(p -> p.getFileName().toString()))
          .as("only the file itself: no temporary sibling, no Hadoop .crc side file").containsExactly("baseline.safetensors");
    }

    StageModel model = StageModel.read(run, RunLayout.baseline());
    ModelSpec spec = model.spec();
    ModelWeights weights = model.weights();
    String runningVar = weights.names().stream().filter(n -> n.endsWith("_runningVar")).findFirst().orElseThrow();
    float[] var = weights.values(runningVar);
    boolean moved = false;
    for (float v : var) {
      moved |= v != 1f;
    }
    assertThat(moved).as("training moved the BatchNorm running statistics (%s), so the comparison covers them",
        runningVar).isTrue();

    JsonNode python = runPython(file);
    JsonNode meta = python.get("meta");
    assertThat(meta.get("stem").asText()).isEqualTo("small");
    assertThat(Json.MAPPER.convertValue(meta.get("widths"), int[].class)).containsExactly(16, 32);
    assertThat(meta.get("input_channels").asInt()).isEqualTo(1);
    assertThat(meta.get("input_size").asInt()).isEqualTo(28);
    assertThat(meta.get("norm_mean").get(0).floatValue()).isEqualTo(FashionMnist.MEAN);
    assertThat(meta.get("norm_std").get(0).floatValue()).isEqualTo(FashionMnist.STD);
    assertThat(Json.MAPPER.convertValue(meta.get("classes"), String[].class))
        .as("the class names of the run's prep, in index order").containsExactlyElementsOf(FashionMnist.CLASS_NAMES);
    assertThat(meta.get("commit").asText()).as("the commit of the exported stage").isEqualTo(manifest.commit());
    assertThat(meta.get("stage").asText()).isEqualTo("baseline");
    assertThat(meta.get("semiweak_version").asText()).isEqualTo(manifest.semiweakVersion());

    // semiweak's own outputs for the same pixels: the Inference the model stages evaluate with.
    float[] normalized = new float[IMAGES * spec.imageValues()];
    for (int i = 0; i < IMAGES; i++) {
      byte[] one = new byte[spec.imageValues()];
      System.arraycopy(pixels, i * one.length, one, 0, one.length);
      ImageTensors.normalize(one, spec, normalized, i * one.length);
    }
    float[][] logits;
    try (Inference inference = Inference.open(spec, weights, Device.cpu(), 8)) {
      logits = inference.logits(normalized, IMAGES);
    }
    float[][] probabilities;
    try (Classifier classifier = model.open(Device.cpu(), 8)) {
      probabilities = classifier.probabilities(normalized, IMAGES);
    }
    float[][] pyLogits = Json.MAPPER.convertValue(python.get("logits"), float[][].class);
    float[][] pyProbabilities = Json.MAPPER.convertValue(python.get("probabilities"), float[][].class);
    assertThat(pyLogits).hasDimensions(IMAGES, 10);
    double maxLogit = maxAbsDifference(logits, pyLogits);
    double maxProbability = maxAbsDifference(probabilities, pyProbabilities);
    System.out.printf("ModelExportTest: max |logit difference| %.3g, max |probability difference| %.3g over %d images%n",
        maxLogit, maxProbability, IMAGES);
    assertThat(maxLogit).as("largest logit difference between semiweak and PyTorch").isLessThan(1e-4);
    assertThat(maxProbability).as("largest probability difference (the evaluate stage's Classifier)").isLessThan(1e-4);
    double spread = 0;
    for (float[] row : logits) {
      for (float v : row) {
        spread = Math.max(spread, Math.abs(v - row[0]));
      }
    }
    assertThat(spread).as("the logits differ between classes: the comparison is not of constants").isGreaterThan(1e-2);

    String[] describe = exec(TorchScriptModels.PYTHON, module().toString(), file.toString());
    assertThat(describe[0]).as("python3 semiweak_model.py FILE; output: %s", describe[1]).isEqualTo("0");
    assertThat(describe[1]).contains("stem small, widths [16, 32], blocks [1, 1]").contains("input: 1 x 28 x 28")
        .contains("classes (10):").contains("1 Trouser").contains("commit " + manifest.commit());
  }

  @Test
  void exportRefusesAStageThatIsNotCommittedOrHoldsNoModel() {
    String[] r = cli("export", run.root().toString(), "teacher/semi-weak", "--output", tmp.resolve("t.st").toString());
    assertThat(r[0]).as("stderr: %s", r[2]).isEqualTo("2");
    assertThat(r[2]).contains("stage teacher/semi-weak is not committed").contains("committed model stages: ").contains("baseline");

    r = cli("export", run.root().toString(), "prep", "--output", tmp.resolve("p.st").toString());
    assertThat(r[0]).as("stderr: %s", r[2]).isEqualTo("2");
    assertThat(r[2]).contains("prep is a prep stage, which holds no model");

    r = cli("export", run.root().toString(), "nonsense/stage", "--output", tmp.resolve("n.st").toString());
    assertThat(r[0]).as("stderr: %s", r[2]).isEqualTo("2");
    assertThat(r[2]).contains("'nonsense/stage' is not a stage of a run directory");

    r = cli("export", tmp.resolve("no-run").toString(), "baseline", "--output", tmp.resolve("b.st").toString());
    assertThat(r[0]).as("stderr: %s", r[2]).isEqualTo("2");
    assertThat(r[2]).contains("is not a semiweak run directory");

    r = cli("export", run.root().toString(), "baseline");
    assertThat(r[0]).isEqualTo("2");
    assertThat(r[2]).contains("export needs --output FILE").contains(ExportCommand.USAGE);
    r = cli("export", run.root().toString(), "baseline", "--output", tmp.resolve("b.onnx").toString(), "--format", "onnx");
    assertThat(r[0]).isEqualTo("2");
    assertThat(r[2]).contains("expected safetensors (the only format), found 'onnx'");
    r = cli("export", run.root().toString(), "baseline", "--output", tmp.resolve("b.st").toString(), "--force");
    assertThat(r[0]).isEqualTo("2");
    assertThat(r[2]).contains("export takes --output and --format only, found [--force]");
    assertThat(tmp.resolve("t.st")).as("a refused export writes nothing").doesNotExist();
    assertThat(tmp.resolve("b.st")).doesNotExist();
  }

  @Test
  void exportRefusesADamagedStageWithItsRepair() throws IOException {
    StageId teacher = RunLayout.teacher("semi-supervised");
    ModelSpec spec = ModelSpec.smallResNet(1, 28, 10, 1, 16, 32);
    CommittedModels.commit(run, teacher, spec, ModelWeights.initial(spec, 1));
    Files.delete(Path.of(run.stagePath(teacher).toUri()).resolve("weights.bin"));

    String[] r = cli("export", run.root().toString(), "teacher/semi-supervised", "--output",
        tmp.resolve("d.st").toString());
    assertThat(r[0]).as("stderr: %s", r[2]).isEqualTo("2");
    assertThat(r[2]).contains("stage teacher/semi-supervised in " + run.root() + " is damaged").contains("weights.bin")
        .contains("Repair it with: semiweak rerun " + run.root() + " teacher/semi-supervised");
    assertThat(tmp.resolve("d.st")).doesNotExist();
  }

  @Test
  void aTorchScriptTeacherIsRefusedItsFileIsAlreadyPyTorch() {
    StageId teacher = RunLayout.teacher("torchscript");
    byte[] file = "not really TorchScript: export never opens it".getBytes(java.nio.charset.StandardCharsets.UTF_8);
    StageModel.TorchScriptInfo info = new StageModel.TorchScriptInfo(1, 28, 10, new float[] {0.5f},
        new float[] {0.5f}, "logits", Fingerprint.of(file), "/models/teacher.pt");
    StageModel model = StageModel.torchScript(teacher.path(), file, info);
    try (StageWriter w = run.begin(teacher)) {
      model.write(run.fs(), w.tempDir());
      w.commit(StagePlan.builder(teacher, Map.of("file", info.sha256())).publishes(model.description().publication())
          .build(), new StageOutput(Map.of(), new ModelResult(model.description(), List.of(), 0, 0, 0)));
    }

    String[] r = cli("export", run.root().toString(), "teacher/torchscript", "--output", tmp.resolve("ts.st").toString());
    assertThat(r[0]).as("stderr: %s", r[2]).isEqualTo("2");
    assertThat(r[2]).contains("teacher/torchscript is a TorchScript teacher (imported from /models/teacher.pt)")
        .contains("already a PyTorch model").contains("teacher/torchscript/model.pt with torch.jit.load");
    assertThat(tmp.resolve("ts.st")).doesNotExist();
  }

  @Test
  void anOutputWithoutSchemeIsALocalFileWhateverTheDefaultFileSystem() {
    assertThat(ExportCommand.outputPath("models/b.safetensors").toUri().getScheme()).isEqualTo("file");
    assertThat(ExportCommand.outputPath("hdfs://nn:8020/models/b.safetensors").toUri().getScheme()).isEqualTo("hdfs");
    assertThat(ExportCommand.outputPath("s3a://bucket/b.safetensors").toUri().getScheme()).isEqualTo("s3a");
  }

  @Test
  void helpListsExportAndExplainsIt() {
    String[] r = cli("help");
    assertThat(r[1]).contains("export RUN_DIR STAGE --output FILE [--format safetensors]");
    r = cli("help", "export");
    assertThat(r[0]).isEqualTo("0");
    assertThat(r[1]).contains(ExportCommand.USAGE).contains("deploy/python/semiweak_model.py");
  }

  /** Loads the export with deploy/python/semiweak_model.py and runs it on the raw pixels; its JSON output. */
  static JsonNode runPython(Path model) throws Exception {
    Path images = tmp.resolve("images.u8");
    Files.write(images, pixels);
    Path script = tmp.resolve("run_export.py");
    Files.writeString(script, String.join("\n",
        "import json, sys, importlib.util",
        "import torch",
        "spec = importlib.util.spec_from_file_location('semiweak_model', sys.argv[1])",
        "sm = importlib.util.module_from_spec(spec); spec.loader.exec_module(sm)",
        "model, meta = sm.load(sys.argv[2])",
        "assert not model.training, 'load returns the model in eval mode'",
        "c, s = meta['input_channels'], meta['input_size']",
        "raw = open(sys.argv[3], 'rb').read()",
        "images = torch.frombuffer(bytearray(raw), dtype=torch.uint8).reshape(-1, c, s, s)",
        "with torch.no_grad():",
        "    logits = model(sm.preprocess(images, meta))",
        "print(json.dumps({'meta': {k: v for k, v in meta.items()}, 'logits': logits.tolist(),",
        "                  'probabilities': torch.softmax(logits, 1).tolist()}))",
        ""));
    String[] r = exec(TorchScriptModels.PYTHON, script.toString(), module().toString(), model.toString(),
        images.toString());
    assertThat(r[0]).as("python3 loading the export; output: %s", r[1]).isEqualTo("0");
    String[] lines = r[1].strip().split("\n");
    return Json.MAPPER.readTree(lines[lines.length - 1]);
  }

  /** deploy/python/semiweak_model.py of this checkout. */
  static Path module() {
    for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
      Path m = dir.resolve("deploy/python/semiweak_model.py");
      if (Files.isRegularFile(m)) {
        return m;
      }
    }
    throw new IllegalStateException("deploy/python/semiweak_model.py not found above " + Path.of("").toAbsolutePath());
  }

  static String[] exec(String... command) throws Exception {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    if (!p.waitFor(300, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      return new String[] {"timeout", out};
    }
    return new String[] {String.valueOf(p.exitValue()), out};
  }

  static double maxAbsDifference(float[][] a, float[][] b) {
    assertThat(b).hasSameDimensionsAs(a);
    double max = 0;
    for (int i = 0; i < a.length; i++) {
      for (int j = 0; j < a[i].length; j++) {
        max = Math.max(max, Math.abs((double) a[i][j] - b[i][j]));
      }
    }
    return max;
  }
}
