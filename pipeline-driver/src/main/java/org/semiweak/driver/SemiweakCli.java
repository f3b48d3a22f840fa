package org.semiweak.driver;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.spark.sql.SparkSession;
import org.semiweak.config.ConfigException;
import org.semiweak.config.Options;
import org.semiweak.run.RunDir;
import org.semiweak.run.RunLayout;
import org.semiweak.run.RunLockedException;
import org.semiweak.run.SparkSessions;
import org.semiweak.run.Stage;
import org.semiweak.run.StageKind;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code semiweak} command: one subcommand per stage, {@code run} for the whole pipeline,
 * {@code demo} for the Fashion-MNIST demo and {@code status} for a run directory. Also the
 * {@code spark-submit --class} entry point.
 *
 * <pre>
 * semiweak prep   --run-dir /runs/r1 --source idx --input /usr/share/datasets/fashion-mnist
 * semiweak select --run-dir /runs/r1 --teacher semi-weak --k 2000 --p 5
 * semiweak run    run.yaml --from select --select.k 2000
 * semiweak status /runs/r1
 * semiweak export /runs/r1 baseline --output baseline.safetensors
 * </pre>
 */
public final class SemiweakCli {
  private static final Logger LOG = LoggerFactory.getLogger(SemiweakCli.class);

  /** Exit codes: 0 success, 1 failure while running, 2 bad usage or configuration, 3 run directory locked. */
  public static final int OK = 0;
  public static final int FAILED = 1;
  public static final int USAGE = 2;
  public static final int LOCKED = 3;

  public static final String DEMO_CONFIG = "/org/semiweak/driver/demo.yaml";

  private final PrintStream out;
  private final PrintStream err;
  private SparkSession spark;
  /** The one-line message of the last failure, for {@link #main} in cluster deploy mode. */
  private String failure;

  public SemiweakCli(PrintStream out, PrintStream err) {
    this.out = out;
    this.err = err;
  }

  /**
   * The {@code java} and {@code spark-submit} entry point. In cluster deploy mode (YARN's
   * ApplicationMaster runs this method in its driver thread) it never calls {@code System.exit}:
   * the ApplicationMaster records a return as SUCCEEDED and an exception as FAILED with its message,
   * while {@code System.exit}, even with 0, ends the application as FAILED ("shutdown hook called
   * before final status was reported"). Elsewhere the exit code is the process's.
   *
   * @throws ApplicationFailedException in cluster deploy mode, when the command failed
   */
  public static void main(String[] args) {
    SemiweakCli cli = new SemiweakCli(System.out, System.err);
    int code = cli.execute(args);
    if (isClusterDeployMode()) {
      if (code != OK) {
        throw new ApplicationFailedException(code, cli.failure == null
            ? "semiweak " + String.join(" ", args) + " ended with exit code " + code
            : cli.failure);
      }
      return;
    }
    System.exit(code);
  }

  /** Thrown by {@link #main} in cluster deploy mode instead of a non-zero exit: the application's final failure. */
  public static final class ApplicationFailedException extends RuntimeException {
    private final int exitCode;

    ApplicationFailedException(int exitCode, String message) {
      super(message + " (exit code " + exitCode + ")", null, false, false);
      this.exitCode = exitCode;
    }

    public int exitCode() {
      return exitCode;
    }
  }

  /** Whether {@code spark-submit --deploy-mode cluster} started this driver (YARN, standalone, Kubernetes). */
  static boolean isClusterDeployMode() {
    return "cluster".equals(System.getProperty("spark.submit.deployMode"));
  }

  /** Runs one command line and returns its exit code; never calls System.exit. */
  public int execute(String... args) {
    try {
      return dispatch(args);
    } catch (ConfigException e) {
      return fail(USAGE, "semiweak: " + e.getMessage());
    } catch (RunLockedException e) {
      return fail(LOCKED, "semiweak: " + e.getMessage());
    } catch (Exception | Error e) {
      // Spark rethrows task failures as (checked) SparkException; a full local disk surfaces as
      // Hadoop's FSError, an Error: every way out ends with one line saying what failed.
      LOG.error("semiweak failed", e);
      return fail(FAILED, "semiweak: failed: " + describe(e));
    } finally {
      if (spark != null && !isSparkSubmit()) {
        spark.stop();
      }
    }
  }

  private int fail(int code, String message) {
    err.println(message);
    failure = message;
    return code;
  }

  static String describe(Throwable e) {
    StringBuilder sb = new StringBuilder(withoutStackTrace(String.valueOf(e.getMessage())));
    Throwable c = e.getCause();
    int depth = 0;
    while (c != null && depth++ < 5) {
      if (c.getMessage() != null) {
        String m = withoutStackTrace(c.getMessage());
        if (!sb.toString().contains(m)) {
          sb.append("\n  caused by: ").append(m);
        }
      }
      c = c.getCause();
    }
    sb.append("\n(the log above has the stack trace)");
    return sb.toString();
  }

  /** Spark puts a failed task's stack trace inside its message; the user reads the message, the log has the trace. */
  static String withoutStackTrace(String message) {
    int cut = message.length();
    for (String marker : List.of("\n\tat ", "\nDriver stacktrace:")) {
      int i = message.indexOf(marker);
      if (i >= 0) {
        cut = Math.min(cut, i);
      }
    }
    return message.substring(0, cut).stripTrailing();
  }

  private static boolean isSparkSubmit() {
    return System.getProperty("spark.submit.deployMode") != null;
  }

  private int dispatch(String[] args) throws IOException {
    if (args.length == 0 || args[0].equals("help") || args[0].equals("--help") || args[0].equals("-h")) {
      if (args.length > 1) {
        return help(args[1]);
      }
      out.print(usage());
      return args.length == 0 ? USAGE : OK;
    }
    String command = args[0];
    if (command.equals("--version") || command.equals("version")) {
      out.println("semiweak " + org.semiweak.run.Versions.semiweak());
      return OK;
    }
    Args a = Args.parse(List.of(args).subList(1, args.length));
    if (a.help) {
      return help(command);
    }
    a.checkFlags(command);
    switch (command) {
      case "status":
        return status(a);
      case "rerun":
        return rerun(a);
      case "export":
        return new ExportCommand(out, SparkSessions.hadoopConfiguration()).run(a);
      case "run":
        return runPipeline(loadConfig(a.configLocation(), a), a);
      case "demo":
        return demo(a);
      default:
        Optional<StageType> type = StageCatalog.byCommand(command);
        if (type.isEmpty()) {
          throw new ConfigException("unknown command '" + command + "'\n" + usage());
        }
        return runStage(type.get(), a);
    }
  }

  private int help(String command) {
    Optional<String> text = ExportCommand.helpText(command);
    if (text.isPresent()) {
      out.print(text.get());
      return OK;
    }
    Optional<StageType> type = StageCatalog.byCommand(command);
    if (type.isEmpty()) {
      out.print(usage());
      return command.equals("run") || command.equals("demo") || command.equals("status") ? OK : USAGE;
    }
    out.printf("semiweak %s: %s%n%nusage: semiweak %s --run-dir DIR [--config run.yaml] [--force] [--OPTION VALUE]...%n%noptions (also the keys of the '%s' section of a run config):%n%s",
        command, type.get().summary(), command, command, Options.usage(type.get().options()));
    out.print(type.get().details());
    return OK;
  }

  static String usage() {
    StringBuilder sb = new StringBuilder();
    sb.append("usage: semiweak COMMAND [ARGS]\n\n");
    sb.append("pipeline:\n");
    sb.append("  demo [--run-dir DIR]      the whole pipeline on the Fashion-MNIST demo (embedded Spark)\n");
    sb.append("  run CONFIG.yaml           the whole pipeline; CONFIG is a local file, or a remote one with its\n");
    sb.append("                            scheme (hdfs://nn/conf/run.yaml, s3a://bucket/run.yaml);\n");
    sb.append("                            [--from STAGE] reruns STAGE and later ones;\n");
    sb.append("                            [--until STAGE] stops after STAGE (e.g. select);\n");
    sb.append("                            [--SECTION.OPTION VALUE] overrides the config;\n");
    sb.append("                            [--seeds N|LIST] one run per seed in RUN_DIR/seed-N, then the\n");
    sb.append("                            mean ± std of every model and selection, on test and validation\n"
        + "                            images (RUN_DIR/seeds-summary.txt)\n");
    sb.append("                            [--parallel-stages N] runs up to N independent stages at once (the\n");
    sb.append("                            teacher recipes' branches, the baseline); default 1, config key\n");
    sb.append("                            parallel-stages; the demo's is 2\n");
    sb.append("                            [--generations N] Noisy Student: the final student of each\n");
    sb.append("                            generation scores for the next (scores/RECIPE-gen2, ...); config\n");
    sb.append("                            key generations, default 1\n");
    sb.append("                            [--dry-run] says which stages would run, be skipped or refused,\n");
    sb.append("                            and why, without running anything or creating the run directory;\n");
    sb.append("                            with --seeds, for each seed's directory and options\n");
    sb.append("  status RUN_DIR            every stage: committed, stale, damaged (with the repair) or leftover;\n");
    sb.append("                            [--verify] also checks each file's checksum; [--json] for machines\n");
    sb.append("  rerun RUN_DIR STAGE       runs one committed stage again with the options it was run with\n");
    sb.append("                            (e.g. scores/semi-weak); the repair for a damaged or stale stage\n");
    sb.append("  export RUN_DIR STAGE --output FILE [--format safetensors]\n");
    sb.append("                            the committed model of STAGE (e.g. baseline) as a safetensors file\n");
    sb.append("                            for plain PyTorch (deploy/python/semiweak_model.py); 'help export'\n");
    sb.append("  --version                 the version of semiweak\n\n");
    sb.append("run, demo, rerun and the stages hold a lease on the run directory (RUN_DIR/_LOCK), renewed by a\n");
    sb.append("heartbeat; a lease whose heartbeat is older than its timeout (a killed process) is taken over:\n");
    sb.append("  --lock-timeout DURATION   this process's lease timeout, e.g. 90s, 5m (default 2m; config key\n");
    sb.append("                            lock-timeout)\n");
    sb.append("  --break-lock              take the lease even if its holder renews it (it then stops before\n");
    sb.append("                            its next commit); for a person who knows that process is gone\n");
    sb.append("after every command that ran stages, RUN_DIR/SUMMARY.md holds the results table; run and demo end\n");
    sb.append("by writing RUN_DIR/report/index.html, a self-contained page of charts (semiweak help report)\n\n");
    sb.append("stages (each: --run-dir DIR [--config FILE] [--force] [--OPTION VALUE]...; 'semiweak help STAGE'):\n");
    for (StageType t : StageCatalog.ALL) {
      sb.append(String.format("  %-25s %s%n", t.command(), t.summary()));
    }
    sb.append("\nexit codes: 0 ok, 1 failed, 2 bad usage or configuration, 3 run directory in use\n");
    return sb.toString();
  }

  private int status(Args a) throws IOException {
    if (a.positional.size() > 1) {
      throw new ConfigException("usage: semiweak status RUN_DIR [--json] [--verify]: one run directory, found "
          + a.positional);
    }
    String dir = !a.positional.isEmpty() ? a.positional.get(0) : a.global.get("run-dir");
    if (dir == null) {
      throw new ConfigException("usage: semiweak status RUN_DIR [--json] [--verify]");
    }
    RunDir run;
    try {
      run = RunDir.openExisting(dir, SparkSessions.hadoopConfiguration());
    } catch (IllegalArgumentException e) {
      throw new ConfigException(e.getMessage());
    }
    StatusCommand.Report report = StatusCommand.collect(run, a.flags.contains("verify"));
    if (a.flags.contains("json")) {
      StatusCommand.printJson(report, out);
    } else {
      StatusCommand.print(report, out);
    }
    return OK;
  }

  /**
   * {@code semiweak rerun RUN_DIR STAGE}: the stage again, with the options recorded in its manifest
   * (or, when the manifest is damaged, in the plan beside it), replacing the committed output only
   * when the new one commits.
   */
  private int rerun(Args a) throws IOException {
    if (a.positional.size() != 2) {
      throw new ConfigException("usage: semiweak rerun RUN_DIR STAGE (a stage path such as scores/semi-weak, as"
          + " 'semiweak status RUN_DIR' lists them); found " + a.positional);
    }
    if (!a.options.isEmpty()) {
      throw new ConfigException("rerun takes the options the stage was run with; to change them, run the stage"
          + " command (semiweak help STAGE) with --force, or 'semiweak run CONFIG'. Found " + a.options.keySet());
    }
    RunDir run;
    try {
      run = RunDir.openExisting(a.positional.get(0), SparkSessions.hadoopConfiguration());
    } catch (IllegalArgumentException e) {
      throw new ConfigException(e.getMessage());
    }
    org.semiweak.run.StageId id;
    try {
      id = RunLayout.parse(a.positional.get(1));
    } catch (IllegalArgumentException e) {
      throw new ConfigException(e.getMessage());
    }
    Map<String, Object> options = RecordedOptions.of(run, id);
    StageType type = StageCatalog.byCommand(id.kind().command()).orElseThrow();
    Stage stage = type.create(run, options);
    if (!stage.id().equals(id)) {
      throw new IllegalStateException("the recorded options of " + id + " make stage " + stage.id() + " (a bug)");
    }
    String master = a.global.getOrDefault("spark-master", null);
    PipelineRunner runner = new PipelineRunner(run, () -> spark(master), out)
        .lockOptions(lockOptions(new RunConfig(), a));
    out.print(Report.table(runner.run(List.of(stage), null, true)));
    return OK;
  }

  private RunConfig loadConfig(String location, Args a) {
    RunConfig cfg = location == null ? new RunConfig() : RunConfig.load(location, StageCatalog.commands());
    applyOverrides(cfg, a);
    return cfg;
  }

  private static void applyOverrides(RunConfig cfg, Args a) {
    if (a.global.containsKey("run-dir")) {
      cfg.set(RunConfig.RUN_DIR, a.global.get("run-dir"));
    }
    if (a.global.containsKey("spark-master")) {
      cfg.set(RunConfig.SPARK_MASTER, a.global.get("spark-master"));
    }
    if (a.global.containsKey("teachers")) {
      cfg.set(RunConfig.TEACHERS, a.global.get("teachers"));
    }
    if (a.global.containsKey(RunConfig.GENERATIONS)) {
      cfg.set(RunConfig.GENERATIONS, a.global.get(RunConfig.GENERATIONS));
    }
    for (Map.Entry<String, String> e : a.options.entrySet()) {
      int dot = e.getKey().indexOf('.');
      if (dot <= 0) {
        throw new ConfigException("--" + e.getKey() + ": for run and demo, override stage options as --STAGE.OPTION VALUE, e.g. --select.k 2000");
      }
      String section = e.getKey().substring(0, dot);
      if (StageCatalog.byCommand(section).isEmpty()) {
        throw new ConfigException("--" + e.getKey() + ": unknown stage '" + section + "'; stages are " + StageCatalog.commands());
      }
      cfg.set(section, e.getKey().substring(dot + 1), e.getValue());
    }
  }

  private int demo(Args a) throws IOException {
    if (!a.positional.isEmpty() || a.global.containsKey("config")) {
      throw new ConfigException("demo runs its built-in config; it takes no config file (found "
          + (a.positional.isEmpty() ? a.global.get("config") : a.positional) + "): use 'semiweak run CONFIG' for your own");
    }
    String yaml;
    try (InputStream in = SemiweakCli.class.getResourceAsStream(DEMO_CONFIG)) {
      yaml = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    RunConfig cfg = RunConfig.parse(yaml, "built-in demo config", StageCatalog.commands());
    applyOverrides(cfg, a);
    String data = String.valueOf(cfg.section(StageKind.PREP).getOrDefault("input", ""));
    if (data.startsWith("/") && !new java.io.File(data).isDirectory()) {
      throw new ConfigException("the demo needs Fashion-MNIST in " + data
          + ": install it with 'sudo apt-get install -y dataset-fashion-mnist' (Debian/Ubuntu), or pass --prep.input DIR");
    }
    return runPipeline(cfg, a);
  }

  private int runPipeline(RunConfig cfg, Args a) {
    if (a.global.containsKey("seeds")) {
      List<Long> seeds = parseSeeds(a.global.get("seeds"));
      return a.flags.contains("dry-run") ? dryRunSeeds(cfg, a, seeds) : runSeeds(cfg, a, seeds);
    }
    if (a.flags.contains("dry-run")) {
      return dryRun(cfg, a);
    }
    List<StageOutcome> outcomes = runOnce(cfg, a);
    out.print(Report.table(outcomes));
    printReportLocation(cfg.runDir(), outcomes);
    return OK;
  }

  /** The last line of run and demo: where the report is, when it was written or is up to date. */
  private void printReportLocation(String runDir, List<StageOutcome> outcomes) {
    if (outcomes.stream().anyMatch(o -> o.id().kind() == StageKind.REPORT)) {
      out.println("semiweak: report: " + reportLocation(RunDir.open(runDir, SparkSessions.hadoopConfiguration())));
    }
  }

  /** The report page of a run: a plain path on a local file system (what a browser opens), else its URI. */
  static String reportLocation(RunDir run) {
    java.net.URI uri = new org.apache.hadoop.fs.Path(run.dataPath(RunLayout.report()), RunLayout.REPORT_PAGE).toUri();
    return uri.getScheme() == null || uri.getScheme().equals("file") ? uri.getPath() : uri.toString();
  }

  private List<StageOutcome> runOnce(RunConfig cfg, Args a) {
    RunDir run = RunDir.open(cfg.runDir(), SparkSessions.hadoopConfiguration());
    List<Stage> stages = pipelineStages(cfg, a, run);
    out.printf("semiweak: pipeline of %d stages in %s%n", stages.size(), run.root());
    PipelineRunner runner = new PipelineRunner(run, () -> spark(cfg.sparkMaster()), out).lockOptions(lockOptions(cfg, a))
        .parallelStages(a.global.containsKey(RunConfig.PARALLEL_STAGES)
            ? RunConfig.parsePositiveInt("--" + RunConfig.PARALLEL_STAGES, a.global.get(RunConfig.PARALLEL_STAGES))
            : cfg.parallelStages());
    // The report closes every run; a bad report option is refused now, before any stage runs.
    Stage report = StageCatalog.REPORT.create(run, cfg.section(StageKind.REPORT));
    report.validate();
    runner.finishWith(() -> report);
    List<StageOutcome> outcomes = runner.run(stages, from(a), a.flags.contains("force"));
    out.println();
    return outcomes;
  }

  /** The stages of the pipeline, cut after {@code --until}: "--until select" stops after every select stage. */
  private static List<Stage> pipelineStages(RunConfig cfg, Args a, RunDir run) {
    List<Stage> stages = Pipeline.build(cfg, run);
    String until = a.global.get("until");
    if (until != null) {
      StageKind last = StageKind.parse(until);
      // A later generation is taught by the finetune of the one before: without it, it cannot run.
      boolean laterGenerations = last.compareTo(StageKind.FINETUNE) >= 0;
      stages = stages.stream().filter(s -> s.id().kind().compareTo(last) <= 0)
          .filter(s -> laterGenerations || Pipeline.generation(s.id()) == 1).toList();
    }
    return stages;
  }

  private static StageKind from(Args a) {
    return a.global.containsKey("from") ? StageKind.parse(a.global.get("from")) : null;
  }

  /**
   * {@code run --dry-run}: the checks of a real run, then what each stage would do and why; no lock,
   * no Spark, nothing created. Exit code 2 when the run would be refused.
   */
  private int dryRun(RunConfig cfg, Args a) {
    lockOptions(cfg, a); // a bad --lock-timeout is refused here as it would be by the run
    cfg.parallelStages(); // and a bad parallel-stages
    RunDir run = RunDir.open(cfg.runDir(), SparkSessions.hadoopConfiguration());
    List<Stage> stages = pipelineStages(cfg, a, run);
    out.printf("semiweak: dry run of a pipeline of %d stages in %s (nothing runs, nothing is created or changed)%n",
        stages.size(), run.root());
    if (!run.exists()) {
      out.println("semiweak: the run directory does not exist yet; the run creates it");
    }
    List<PipelineRunner.Decision> decisions =
        new PipelineRunner(run, () -> {
          throw new IllegalStateException("a dry run starts no Spark job (a bug)");
        }, out).dryRun(stages, from(a), a.flags.contains("force"));
    long running = decisions.stream().filter(d -> d.action() == PipelineRunner.Decision.Action.RUN).count();
    List<PipelineRunner.Decision> refused = decisions.stream()
        .filter(d -> d.action() == PipelineRunner.Decision.Action.REFUSE).toList();
    if (!refused.isEmpty()) {
      err.println("semiweak: the run would be refused at " + refused.get(0).stage() + ": " + refused.get(0).reason());
      return USAGE;
    }
    out.printf("semiweak: %d of %d stages would run, %d would be skipped%n", running, decisions.size(),
        decisions.size() - running);
    return OK;
  }

  /** The lease settings of a command that runs stages: {@code --lock-timeout} (or the config's) and {@code --break-lock}. */
  private static org.semiweak.run.RunLock.Options lockOptions(RunConfig cfg, Args a) {
    java.time.Duration timeout = a.global.containsKey("lock-timeout")
        ? RunConfig.parseDuration("--lock-timeout", a.global.get("lock-timeout"))
        : cfg.lockTimeout();
    return new org.semiweak.run.RunLock.Options(timeout, a.flags.contains("break-lock"));
  }

  /** {@code --seeds 3} is seeds 1, 2, 3; {@code --seeds 7,8} is seeds 7 and 8. */
  static List<Long> parseSeeds(String value) {
    try {
      if (!value.contains(",")) {
        int n = Integer.parseInt(value.strip());
        if (n < 1 || n > 100) {
          throw new ConfigException("--seeds: expected a count from 1 to 100 or a list such as 1,2,3, found '" + value + "'");
        }
        return java.util.stream.LongStream.rangeClosed(1, n).boxed().toList();
      }
      return java.util.Arrays.stream(value.split(",")).map(String::strip).map(Long::valueOf).distinct().toList();
    } catch (NumberFormatException e) {
      throw new ConfigException("--seeds: expected a count such as 3 or a list such as 1,2,3, found '" + value + "'");
    }
  }

  /** The folder that holds one run directory per seed: the config's run directory, itself not a run. */
  private static String seedsRoot(RunConfig cfg) {
    String root = cfg.runDir();
    if (root == null || root.isBlank()) {
      throw new ConfigException("--seeds needs a run directory (run-dir in the config or --run-dir)");
    }
    org.apache.hadoop.fs.Path runFile = new org.apache.hadoop.fs.Path(root, RunLayout.RUN_FILE);
    try {
      if (runFile.getFileSystem(SparkSessions.hadoopConfiguration()).exists(runFile)) {
        throw new ConfigException("--seeds writes one run directory per seed under " + root + ", which is itself a"
            + " run directory; give it a folder of its own, e.g. --run-dir " + root + "-seeds");
      }
    } catch (IOException e) {
      throw new java.io.UncheckedIOException("cannot check " + runFile + ": " + e.getMessage(), e);
    }
    return root;
  }

  /**
   * Points the config at seed N's run directory, {@code ROOT/seed-N}, with the seed of every model stage
   * (initialization, order and augmentation) set to N; the data preparation stays the same.
   */
  private static void useSeed(RunConfig cfg, String root, long seed) {
    cfg.set(RunConfig.RUN_DIR, new org.apache.hadoop.fs.Path(root, "seed-" + seed).toString());
    for (StageKind kind : List.of(StageKind.TRAIN_TEACHER, StageKind.PRETRAIN, StageKind.FINETUNE,
        StageKind.BASELINE)) {
      cfg.set(kind.command(), "seed", seed);
    }
    if (cfg.hasSection(StageKind.DISTILL)) {
      // Only when asked for: setting an option creates the section, which turns distillation on.
      cfg.set(StageKind.DISTILL.command(), "seed", seed);
    }
    cfg.set(StageKind.TRAIN_TEACHER.command(), "weak-seed", seed);
  }

  /**
   * {@code run --seeds N --dry-run}: the dry run of each seed's directory with that seed's options (a dry
   * run of {@code --run-dir ROOT/seed-N} alone would plan the config's seed and call every stage stale).
   * Exit code 2 when any seed's run would be refused.
   */
  private int dryRunSeeds(RunConfig cfg, Args a, List<Long> seeds) {
    String root = seedsRoot(cfg);
    int code = OK;
    for (long seed : seeds) {
      useSeed(cfg, root, seed);
      out.printf("semiweak: seed %d of %s%n", seed, seeds);
      code = Math.max(code, dryRun(cfg, a));
    }
    return code;
  }

  /**
   * The pipeline once per seed, each in its own run directory {@code RUN_DIR/seed-N} with the seed of
   * every model stage (initialization, order and augmentation) set to N; the data preparation stays
   * the same. Prints and writes {@code RUN_DIR/seeds-summary.txt}: mean ± std of every row.
   */
  private int runSeeds(RunConfig cfg, Args a, List<Long> seeds) {
    String root = seedsRoot(cfg);
    Map<Long, List<StageOutcome>> runs = new LinkedHashMap<>();
    for (long seed : seeds) {
      useSeed(cfg, root, seed);
      out.printf("semiweak: seed %d of %s%n", seed, seeds);
      runs.put(seed, runOnce(cfg, a));
    }
    String table = SeedSummary.of(runs).table();
    out.print(table);
    org.apache.hadoop.fs.Path summary = new org.apache.hadoop.fs.Path(root, "seeds-summary.txt");
    try {
      org.semiweak.util.HadoopFiles.writeAtomically(summary.getFileSystem(SparkSessions.hadoopConfiguration()), summary, table);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException("cannot write " + summary + ": " + e.getMessage(), e);
    }
    out.println("semiweak: summary written to " + summary);
    for (long seed : seeds) {
      RunDir seedRun = RunDir.open(new org.apache.hadoop.fs.Path(root, "seed-" + seed).toString(),
          SparkSessions.hadoopConfiguration());
      if (seedRun.committed(RunLayout.report()).isPresent()) {
        out.println("semiweak: report of seed " + seed + ": " + reportLocation(seedRun));
      }
    }
    return OK;
  }

  private int runStage(StageType type, Args a) {
    if (!a.positional.isEmpty()) {
      throw new ConfigException("'" + type.command() + "' takes no positional arguments (found " + a.positional
          + "); give a config file with --config FILE and options as --OPTION VALUE");
    }
    for (String pipelineOnly : List.of("from", "until", "teachers", "seeds", "parallel-stages",
        RunConfig.GENERATIONS)) {
      if (a.global.containsKey(pipelineOnly)) {
        throw new ConfigException("--" + pipelineOnly + " applies to 'semiweak run' and 'semiweak demo', not to a single"
            + " stage such as '" + type.command() + "'");
      }
    }
    RunConfig cfg = a.global.containsKey("config")
        ? RunConfig.load(a.global.get("config"), StageCatalog.commands())
        : new RunConfig();
    if (a.global.containsKey("run-dir")) {
      cfg.set(RunConfig.RUN_DIR, a.global.get("run-dir"));
    }
    if (a.global.containsKey("spark-master")) {
      cfg.set(RunConfig.SPARK_MASTER, a.global.get("spark-master"));
    }
    Map<String, Object> raw = cfg.section(type.command());
    raw.putAll(a.options);
    org.semiweak.run.RunLock.Options lockOptions = lockOptions(cfg, a);
    // Opening creates nothing: the run directory appears with the lease, after every check passed.
    RunDir run = RunDir.open(cfg.runDir(), SparkSessions.hadoopConfiguration());
    Stage stage = type.create(run, raw);
    PipelineRunner runner = new PipelineRunner(run, () -> spark(cfg.sparkMaster()), out).lockOptions(lockOptions);
    List<StageOutcome> outcomes = runner.run(List.of(stage), null, a.flags.contains("force"));
    out.print(Report.table(outcomes));
    printReportLocation(cfg.runDir(), outcomes);
    return OK;
  }

  private SparkSession spark(String master) {
    if (spark == null) {
      spark = SparkSessions.getOrCreate("semiweak", master);
    }
    return spark;
  }

  /** Parsed command line: global settings, stage options, flags and positional arguments. */
  static final class Args {
    static final List<String> GLOBAL =
        List.of("run-dir", "config", "spark-master", "from", "until", "teachers", "seeds", "lock-timeout",
            "parallel-stages", RunConfig.GENERATIONS);
    static final List<String> FLAGS = List.of("force", "json", "verify", "dry-run", "break-lock");

    final Map<String, String> global = new LinkedHashMap<>();
    final Map<String, String> options = new LinkedHashMap<>();
    final List<String> flags = new ArrayList<>();
    final List<String> positional = new ArrayList<>();
    boolean help;

    static Args parse(List<String> args) {
      Args a = new Args();
      for (int i = 0; i < args.size(); i++) {
        String arg = args.get(i);
        if (arg.equals("--help") || arg.equals("-h")) {
          a.help = true;
          continue;
        }
        if (!arg.startsWith("--")) {
          a.positional.add(arg);
          continue;
        }
        String key = arg.substring(2);
        String value = null;
        int eq = key.indexOf('=');
        if (eq >= 0) {
          value = key.substring(eq + 1);
          key = key.substring(0, eq);
        }
        if (FLAGS.contains(key) && value == null) {
          if (a.flags.contains(key)) {
            throw new ConfigException("--" + key + " is given twice");
          }
          a.flags.add(key);
          continue;
        }
        if (value == null) {
          if (i + 1 >= args.size()) {
            throw new ConfigException("--" + key + " needs a value");
          }
          value = args.get(++i);
        }
        Map<String, String> target = GLOBAL.contains(key) ? a.global : a.options;
        if (target.containsKey(key)) {
          throw new ConfigException("--" + key + " is given twice ('" + target.get(key) + "' and '" + value
              + "'): give it once");
        }
        target.put(key, value);
      }
      a.checkRange();
      return a;
    }

    /** {@code --from} must not come after {@code --until} in the pipeline's order. */
    private void checkRange() {
      if (global.containsKey("from") && global.containsKey("until")) {
        StageKind from = StageKind.parse(global.get("from"));
        StageKind until = StageKind.parse(global.get("until"));
        if (from.compareTo(until) > 0) {
          throw new ConfigException("--from " + global.get("from") + " comes after --until " + global.get("until")
              + " in the pipeline: nothing would run");
        }
      }
    }

    /** The config file of {@code run}: the positional argument or {@code --config}, not both, at most one. */
    String configLocation() {
      if (positional.size() > 1) {
        throw new ConfigException("run takes one config file, found " + positional.size() + ": " + positional);
      }
      if (!positional.isEmpty() && global.containsKey("config")) {
        throw new ConfigException("run takes one config file, found " + positional.get(0) + " and --config "
            + global.get("config"));
      }
      return positional.isEmpty() ? global.get("config") : positional.get(0);
    }

    /** Flags only some commands read are refused elsewhere instead of silently ignored. */
    void checkFlags(String command) {
      for (String flag : List.of("json", "verify")) {
        if (flags.contains(flag) && !command.equals("status")) {
          throw new ConfigException("--" + flag + " applies to 'semiweak status' only");
        }
      }
      if (flags.contains("force") && (command.equals("status") || command.equals("rerun"))) {
        throw new ConfigException("--force does not apply to '" + command + "'");
      }
      if (flags.contains("dry-run") && !command.equals("run") && !command.equals("demo")) {
        throw new ConfigException("--dry-run applies to 'semiweak run' and 'semiweak demo'");
      }
      if ((flags.contains("break-lock") || global.containsKey("lock-timeout")) && command.equals("status")) {
        throw new ConfigException("status takes no lock: --break-lock and --lock-timeout do not apply to it");
      }
    }
  }
}
