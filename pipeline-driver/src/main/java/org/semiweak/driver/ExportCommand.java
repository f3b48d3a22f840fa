package org.semiweak.driver;

import java.io.BufferedOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.ChecksumFileSystem;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.semiweak.config.ConfigException;
import org.semiweak.model.ModelSpec;
import org.semiweak.model.ModelWeights;
import org.semiweak.model.SafetensorsExport;
import org.semiweak.model.StageModel;
import org.semiweak.run.RunDir;
import org.semiweak.run.RunLayout;
import org.semiweak.run.StageId;
import org.semiweak.run.StageManifest;
import org.semiweak.run.StageStatus;
import org.semiweak.run.Versions;
import org.semiweak.run.result.ModelDescription;
import org.semiweak.run.result.ModelResult;
import org.semiweak.stage.PrepInfo;

/**
 * {@code semiweak export RUN_DIR STAGE --output FILE [--format safetensors]}: the committed model of a
 * model stage as a safetensors file for plain PyTorch ({@code deploy/python/semiweak_model.py}).
 * Reads the run directory only: no lease, no Spark, nothing in the run changes.
 */
final class ExportCommand {
  static final String USAGE = "usage: semiweak export RUN_DIR STAGE --output FILE [--format safetensors]";

  static final String HELP = String.join("\n",
      "semiweak export: the committed model of a stage as a file for plain PyTorch",
      "",
      USAGE,
      "",
      "  RUN_DIR              a run directory (local, hdfs://, s3a://)",
      "  STAGE                a committed model stage, as 'semiweak status RUN_DIR' lists it: teacher/RECIPE,",
      "                       student/TEACHER/SELECTION/pretrain|finetune, baseline",
      "  --output FILE        the file to write (atomically: a temporary sibling, then a rename); a path",
      "                       without scheme is a local file, hdfs://... and s3a://... go through Hadoop",
      "  --format safetensors the only format (the default): float32 tensors named as the state_dict of",
      "                       deploy/python/semiweak_model.py (BatchNorm running mean/var included); its",
      "                       __metadata__ holds the architecture, normalization, class names, the",
      "                       semiweak version and the stage's commit id",
      "",
      "In PyTorch, without semiweak (torch only):",
      "  python3 deploy/python/semiweak_model.py FILE          # architecture and classes",
      "  model, meta = semiweak_model.load(FILE)               # eval mode",
      "  logits = model(semiweak_model.preprocess(uint8_nchw, meta))",
      "",
      "Refused (exit code 2): a stage that is not committed, damaged (repair: semiweak rerun RUN_DIR STAGE),",
      "not a model stage, or a TorchScript teacher (its model.pt is already a TorchScript file: torch.jit.load).",
      "");

  private final PrintStream out;
  private final Configuration conf;

  ExportCommand(PrintStream out, Configuration conf) {
    this.out = out;
    this.conf = conf;
  }

  /** What {@link #export} wrote. */
  record Exported(Path file, int tensors, long bytes, String commit) {}

  /** Parses the command line of {@code export} and runs it. */
  int run(SemiweakCli.Args a) {
    if (a.positional.size() != 2) {
      throw new ConfigException(USAGE + ": a run directory and a stage, found " + a.positional);
    }
    if (!a.global.isEmpty() || !a.flags.isEmpty()) {
      List<String> extra = new java.util.ArrayList<>();
      a.global.keySet().forEach(k -> extra.add("--" + k));
      a.flags.forEach(f -> extra.add("--" + f));
      throw new ConfigException("export takes --output and --format only, found " + extra + "\n" + USAGE);
    }
    Map<String, String> options = new LinkedHashMap<>(a.options);
    String output = options.remove("output");
    String format = options.remove("format");
    if (!options.isEmpty()) {
      throw new ConfigException("export: unknown option " + options.keySet().stream().map(k -> "--" + k).toList()
          + "\n" + USAGE);
    }
    if (output == null || output.isBlank()) {
      throw new ConfigException("export needs --output FILE\n" + USAGE);
    }
    if (format != null && !format.equals("safetensors")) {
      throw new ConfigException("export --format: expected safetensors (the only format), found '" + format + "'");
    }
    RunDir run;
    try {
      run = RunDir.openExisting(a.positional.get(0), conf);
    } catch (IllegalArgumentException e) {
      throw new ConfigException(e.getMessage());
    }
    StageId stage;
    try {
      stage = RunLayout.parse(a.positional.get(1));
    } catch (IllegalArgumentException e) {
      throw new ConfigException(e.getMessage());
    }
    Exported e = export(run, stage, output);
    out.printf("semiweak: exported %s (commit %s) to %s: %d tensors, %,d bytes (safetensors)%n", stage,
        e.commit(), e.file(), e.tensors(), e.bytes());
    // Python opens local paths, not Hadoop URIs: a file:/ output is shown as its path; others are copied first.
    boolean local = "file".equals(e.file().toUri().getScheme());
    out.println("semiweak: in PyTorch: python3 deploy/python/semiweak_model.py "
        + (local ? e.file().toUri().getPath() : "FILE (a local copy of " + e.file() + ")"));
    return SemiweakCli.OK;
  }

  /**
   * Writes the committed model of {@code stage} to {@code output} as safetensors.
   *
   * @throws ConfigException when the stage is no model stage, not committed, damaged, or a TorchScript teacher
   */
  Exported export(RunDir run, StageId stage, String output) {
    if (!stage.kind().producesModel()) {
      throw new ConfigException("export: " + stage + " is a " + stage.kind().command() + " stage, which holds no"
          + " model; model stages are teacher/RECIPE, student/TEACHER/SELECTION/pretrain|finetune and baseline"
          + modelStagesOf(run));
    }
    StageStatus status = run.status(stage, true).orElse(null);
    if (status == null || status.state() == StageStatus.State.LEFTOVER) {
      throw new ConfigException("export: stage " + stage + " is not committed in " + run.root()
          + (status == null ? "" : " (its folder is the leftover of a run that did not commit)")
          + modelStagesOf(run));
    }
    if (status.state() == StageStatus.State.DAMAGED) {
      throw new ConfigException("export: stage " + stage + " in " + run.root() + " is damaged: "
          + String.join("; ", status.problems()) + ".\nRepair it with: " + status.repair());
    }
    StageManifest manifest = status.manifest();
    if (status.state() == StageStatus.State.STALE) {
      out.println("semiweak: note: " + stage + " is stale (" + String.join("; ", status.problems())
          + "); exporting the model it committed");
    }
    ModelDescription description = manifest.result(ModelResult.class).model();
    if (ModelDescription.EXTERNAL.equals(description.architecture()) || "torchscript".equals(description.type())) {
      throw new ConfigException("export: " + stage + " is a TorchScript teacher (imported from "
          + description.importedFrom() + "): it is already a PyTorch model. Use its TorchScript file "
          + new Path(run.dataPath(stage), StageModel.TORCHSCRIPT_FILE) + " with torch.jit.load; semiweak has no"
          + " weights of its own for it to export");
    }
    StageModel model = StageModel.read(run, stage);
    ModelSpec spec = model.spec();
    ModelWeights weights = model.weights();
    List<String> classes = PrepInfo.read(run).vocabulary().classes();
    if (classes.size() != spec.numClasses()) {
      throw new IllegalStateException("the model of " + stage + " predicts " + spec.numClasses()
          + " classes but the run's prep has " + classes.size() + " (" + classes + "): prep was replaced since;"
          + " rerun the stage (semiweak run CONFIG) before exporting it");
    }
    Map<String, String> metadata = new LinkedHashMap<>();
    metadata.put("classes", SafetensorsExport.json(classes));
    metadata.put("stage", stage.path());
    metadata.put("commit", manifest.commit());
    metadata.put("stage_fingerprint", manifest.fingerprint());
    metadata.put("model_fingerprint", model.fingerprint());
    metadata.put("semiweak_version", manifest.semiweakVersion());
    metadata.put("exported_by", "semiweak " + Versions.semiweak());
    metadata.put("test_top1", Double.toString(manifest.result(ModelResult.class).testTop1()));
    metadata.put("pytorch_module", "deploy/python/semiweak_model.py (SemiweakResNet)");

    Path target = outputPath(output);
    try {
      FileSystem fs = target.getFileSystem(conf);
      // A local file gets no Hadoop .crc side file: it is for PyTorch, not for Hadoop.
      FileSystem writeFs = fs instanceof ChecksumFileSystem c ? c.getRawFileSystem() : fs;
      target = fs.makeQualified(target);
      if (writeFs.exists(target) && writeFs.getFileStatus(target).isDirectory()) {
        throw new ConfigException("export --output " + output + " is a directory; give a file name, e.g. "
            + new Path(target, stage.path().replace('/', '-') + ".safetensors"));
      }
      Path tmp = new Path(target.getParent(), "." + target.getName() + ".tmp-" + UUID.randomUUID());
      try {
        try (OutputStream os = new BufferedOutputStream(writeFs.create(tmp, false), 1 << 20)) {
          SafetensorsExport.write(os, spec, weights, metadata);
        }
        if (writeFs.exists(target) && !writeFs.delete(target, false)) {
          throw new IOException("cannot replace " + target);
        }
        if (!writeFs.rename(tmp, target)) {
          throw new IOException("rename " + tmp + " -> " + target + " returned false");
        }
      } finally {
        if (writeFs.exists(tmp)) {
          writeFs.delete(tmp, false);
        }
      }
      return new Exported(target, weights.size(), writeFs.getFileStatus(target).getLen(), manifest.commit());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + target + ": " + e.getMessage(), e);
    }
  }

  /** A path with a scheme goes through Hadoop as given; one without is a local file, whatever fs.defaultFS says. */
  static Path outputPath(String output) {
    Path p = new Path(output);
    return p.toUri().getScheme() != null ? p : new Path(new File(output).getAbsoluteFile().toURI());
  }

  /** "; committed model stages: baseline, teacher/semi-weak", or why there are none. */
  private static String modelStagesOf(RunDir run) {
    List<String> stages = run.statuses(false).stream().filter(StageStatus::usable)
        .map(StageStatus::stage)
        .filter(s -> {
          try {
            return RunLayout.parse(s).kind().producesModel();
          } catch (IllegalArgumentException e) {
            return false;
          }
        })
        .toList();
    return stages.isEmpty()
        ? "; the run has no committed model stage yet ('semiweak status " + run.root() + "')"
        : "; committed model stages: " + String.join(", ", stages);
  }

  static Optional<String> helpText(String command) {
    return command.equals("export") ? Optional.of(HELP) : Optional.empty();
  }
}
