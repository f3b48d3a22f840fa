package org.semiweak.driver;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorCompletionService;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Supplier;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.SparkSession;
import org.semiweak.config.ConfigException;
import org.semiweak.run.RunDir;
import org.semiweak.run.RunLock;
import org.semiweak.run.Stage;
import org.semiweak.run.StageKind;
import org.semiweak.run.StageExecution;
import org.semiweak.run.StageId;
import org.semiweak.run.StageManifest;
import org.semiweak.run.StagePlan;
import org.semiweak.run.StageStatus;
import org.semiweak.run.StageWriter;
import org.semiweak.run.Upstream;
import org.semiweak.stage.ParquetInput;
import org.semiweak.util.Fingerprint;

/**
 * Runs stages under the run directory's lock: in order, or independent ones side by side with
 * {@link #parallelStages}. First it checks the whole pipeline without any Spark job: every stage's
 * options and external files, then every stage's plan against what the stages before it publish
 * (committed or planned), collecting every problem into one error. Then, stage by stage (a stage
 * once the stages it reads from are done), it skips those whose committed output has the planned fingerprint, replaces
 * outdated ones, runs the rest and commits each (the one commit path), and resumes after a crash
 * (uncommitted output is discarded; training resumes from its checkpoints).
 */
public final class PipelineRunner {
  private final RunDir run;
  private final Supplier<SparkSession> spark;
  private final PrintStream out;
  private RunLock.Options lockOptions = RunLock.Options.defaults();
  private int parallelStages = 1;
  private Supplier<Stage> closing;

  public PipelineRunner(RunDir run, Supplier<SparkSession> spark, PrintStream out) {
    this.run = run;
    this.spark = spark;
    this.out = out;
  }

  /** How {@link #run} takes the run's lease: its timeout, and whether to break a live one. */
  public PipelineRunner lockOptions(RunLock.Options options) {
    this.lockOptions = options;
    return this;
  }

  /**
   * How many stages {@link #run} may run at the same time (default 1: one after another, in list
   * order). A stage starts once every stage of the run it reads from has finished, so independent
   * branches (the teacher recipes, the baseline) overlap; each stage's Spark jobs share the session.
   */
  public PipelineRunner parallelStages(int n) {
    if (n < 1) {
      throw new ConfigException("parallel-stages: at least 1, found " + n);
    }
    this.parallelStages = n;
    return this;
  }

  /**
   * A stage that {@link #run} runs after the others succeeded, under the same lease, planned against
   * what they committed: the run's report. Its failure does not fail the run: it is printed as a
   * warning with the command that writes it again, and the run's other outcomes stand.
   */
  public PipelineRunner finishWith(Supplier<Stage> stage) {
    this.closing = stage;
    return this;
  }

  /**
   * Checks every stage and returns their plans, in order; a {@link ConfigException} listing every
   * problem if any stage does not fit. Runs no Spark job. A stage planned earlier in the list
   * stands for its output in the plans of later stages, whether or not an older output is committed.
   */
  public List<StagePlan> check(List<Stage> stages) {
    List<String> errors = new ArrayList<>();
    for (Stage s : stages) {
      try {
        s.validate();
      } catch (ConfigException | IllegalStateException | UncheckedIOException e) {
        errors.add("[" + s.id() + "] " + e.getMessage());
      }
    }
    List<StagePlan> plans = new ArrayList<>();
    if (errors.isEmpty()) {
      Upstream upstream = new Upstream(run);
      for (Stage s : stages) {
        try {
          StagePlan plan = s.plan(upstream);
          upstream.planned(plan);
          plans.add(plan);
        } catch (IllegalStateException | IllegalArgumentException | UncheckedIOException e) {
          errors.add("[" + s.id() + "] " + e.getMessage());
        }
      }
    }
    if (!errors.isEmpty()) {
      throw new ConfigException("the pipeline is not valid; nothing was run:\n" + String.join("\n", errors));
    }
    return plans;
  }

  /**
   * Checks, then runs the stages under the run's lease, and writes the results table to
   * {@code SUMMARY.md} before releasing it.
   *
   * @param from when not null, committed outputs of this kind and every later kind are replaced
   * @param force rerun every given stage even if it is up to date
   */
  public List<StageOutcome> run(List<Stage> stages, StageKind from, boolean force) {
    List<StagePlan> plans = check(stages);
    List<StageOutcome> outcomes;
    try (RunLock lock = run.lock("semiweak " + stages.get(0).id().kind()
        + (stages.size() > 1 ? " .. " + stages.get(stages.size() - 1).id().kind() : ""), lockOptions)) {
      lock.takeover().ifPresent(line -> out.println("semiweak: " + line));
      run.recoverInterruptedCommits().forEach(line -> out.println("semiweak: " + line));
      cleanTemporaryLeftovers();
      outcomes = runAll(stages, plans, from, force);
      if (closing != null) {
        outcomes = new ArrayList<>(outcomes);
        finish(closing, from, force).ifPresent(outcomes::add);
      }
      run.writeAtomically(run.layout().summaryFile(), Report.summary(run, outcomes));
    }
    return outcomes;
  }

  /**
   * Runs the stages, each once every stage of this list it reads from has finished, at most
   * {@link #parallelStages} at a time, and returns their outcomes in list order. With one at a time
   * this is the list order. After a failure no other stage starts; those running finish (and
   * commit), then the first failure is thrown with the others suppressed in it.
   */
  private List<StageOutcome> runAll(List<Stage> stages, List<StagePlan> plans, StageKind from, boolean force) {
    int n = stages.size();
    List<Set<Integer>> needs = dependencies(stages, plans);
    StageOutcome[] outcomes = new StageOutcome[n];
    boolean[] started = new boolean[n];
    Set<Integer> finished = new HashSet<>();
    ExecutorService pool = parallelStages == 1 ? null : Executors.newFixedThreadPool(parallelStages, r -> {
      Thread t = new Thread(r, "semiweak-stage");
      t.setDaemon(true);
      return t;
    });
    ExecutorCompletionService<Integer> done = pool == null ? null : new ExecutorCompletionService<>(pool);
    RuntimeException failure = null;
    int running = 0;
    try {
      while (finished.size() < n) {
        if (failure == null) {
          for (int i = 0; i < n && running < parallelStages; i++) {
            if (!started[i] && finished.containsAll(needs.get(i))) {
              started[i] = true;
              int index = i;
              Stage s = stages.get(i);
              boolean rerun = force || (from != null && s.id().kind().compareTo(from) >= 0);
              Callable<Integer> task = () -> {
                outcomes[index] = runOne(s, plans.get(index), index + 1, n, rerun);
                return index;
              };
              if (pool == null) {
                try {
                  finished.add(task.call());
                } catch (RuntimeException e) {
                  throw e;
                } catch (Exception e) {
                  throw sneaky(e);
                }
                i = -1; // a stage finished: look for ready ones from the start again
              } else {
                done.submit(task);
                running++;
              }
            }
          }
        }
        if (running == 0) {
          if (failure != null) {
            throw failure;
          }
          if (finished.size() < n) {
            throw new IllegalStateException("stages wait for each other: " + waiting(stages, started) + " (a bug)");
          }
          break;
        }
        try {
          Future<Integer> f = done.take();
          running--;
          try {
            finished.add(f.get());
          } catch (ExecutionException e) {
            RuntimeException cause = e.getCause() instanceof RuntimeException re ? re
                : new IllegalStateException(e.getCause().getMessage(), e.getCause());
            if (failure == null) {
              failure = cause;
              if (running > 0) {
                out.printf("semiweak: a stage failed; waiting for the %d running to finish before stopping%n", running);
              }
            } else {
              failure.addSuppressed(cause);
            }
          }
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException("interrupted while stages ran", e);
        }
        if (failure != null && running == 0) {
          throw failure;
        }
      }
    } finally {
      if (pool != null) {
        pool.shutdownNow();
      }
    }
    return Arrays.asList(outcomes);
  }

  /** The closing stage's outcome, or empty with a warning on {@link #out} when it could not run. */
  private Optional<StageOutcome> finish(Supplier<Stage> supplier, StageKind from, boolean force) {
    String command = "semiweak report --run-dir " + run.root();
    Stage s = null;
    try {
      s = supplier.get();
      command = "semiweak " + s.id().kind().command() + " --run-dir " + run.root();
      s.validate();
      StagePlan plan = s.plan(new Upstream(run));
      boolean rerun = force || (from != null && s.id().kind().compareTo(from) >= 0);
      return Optional.of(runOne(s, plan, 1, 1, rerun));
    } catch (Exception e) { // Spark rethrows task failures as (checked) SparkException
      out.printf("semiweak: WARNING: the %s could not be written: %s%nsemiweak: the run's stages are committed;"
          + " write it again with: %s%n", s == null ? "closing stage" : s.id().kind().command(),
          SemiweakCli.describe(e).replace("\n(the log above has the stack trace)", ""), command);
      org.slf4j.LoggerFactory.getLogger(PipelineRunner.class).warn("closing stage failed", e);
      return Optional.empty();
    }
  }

  /** For each stage, the indexes of the stages of this list whose output it reads. */
  private static List<Set<Integer>> dependencies(List<Stage> stages, List<StagePlan> plans) {
    Map<StageId, Integer> index = new HashMap<>();
    for (int i = 0; i < stages.size(); i++) {
      index.put(stages.get(i).id(), i);
    }
    List<Set<Integer>> needs = new ArrayList<>();
    for (StagePlan plan : plans) {
      Set<Integer> own = new HashSet<>();
      plan.inputs().stream().map(StageWriter::stageOf).flatMap(Optional::stream).map(index::get)
          .filter(java.util.Objects::nonNull).forEach(own::add);
      needs.add(own);
    }
    return needs;
  }

  private static String waiting(List<Stage> stages, boolean[] started) {
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < stages.size(); i++) {
      if (!started[i]) {
        ids.add(stages.get(i).id().toString());
      }
    }
    return String.join(", ", ids);
  }

  /**
   * What {@link #run} would do, without doing it: checks the stages like {@link #run} (a
   * {@link ConfigException} when they do not fit), then prints for each whether it would run, be
   * skipped or be refused, and why. Takes no lock, starts no Spark job, creates and changes nothing.
   *
   * @return the decisions, in order
   */
  public List<Decision> dryRun(List<Stage> stages, StageKind from, boolean force) {
    List<StagePlan> plans = check(stages);
    List<Decision> decisions = new ArrayList<>();
    Set<StageId> rebuilt = new HashSet<>();
    for (int i = 0; i < stages.size(); i++) {
      Stage s = stages.get(i);
      boolean rerun = force || (from != null && s.id().kind().compareTo(from) >= 0);
      Decision d = decide(s, plans.get(i), rerun);
      if (d.action() == Decision.Action.SKIP) {
        // Rebuilding an input gives it a new commit: this stage is stale by the time the run reaches it.
        Optional<StageId> input = plans.get(i).inputs().stream().map(StageWriter::stageOf).flatMap(Optional::stream)
            .filter(rebuilt::contains).findFirst();
        if (input.isPresent()) {
          d = new Decision(s.id(), Decision.Action.RUN, "its input '" + input.get() + "' runs before it: it will be"
              + " stale then, and run again", d.found());
        }
      }
      if (d.action() == Decision.Action.RUN) {
        rebuilt.add(s.id());
      }
      decisions.add(d);
      out.printf(Locale.ROOT, "[%d/%d %s] %s: %s%n", i + 1, stages.size(), s.id(), d.action().label(), d.reason());
    }
    return decisions;
  }

  /**
   * What the runner does with one stage and why: the same rules for {@link #run} and {@link #dryRun}.
   *
   * @param found what the stage's folder held when deciding; null when it had none
   */
  public record Decision(StageId stage, Action action, String reason, StageStatus found) {
    /** Run it (replacing any committed output at its commit), keep the committed output, or stop the run. */
    public enum Action {
      RUN("run"),
      SKIP("skip"),
      REFUSE("refused");

      private final String label;

      Action(String label) {
        this.label = label;
      }

      public String label() {
        return label;
      }
    }
  }

  private Decision decide(Stage s, StagePlan plan, boolean rerun) {
    String fp = plan.fingerprint();
    // A committed output is never deleted before its replacement commits: a rerun that fails leaves it as it was.
    Optional<StageStatus> status = run.status(s.id(), false);
    if (status.isEmpty()) {
      return new Decision(s.id(), Decision.Action.RUN, "not committed yet", null);
    }
    StageStatus st = status.get();
    if (st.state() == StageStatus.State.LEFTOVER) {
      return new Decision(s.id(), Decision.Action.RUN, "a leftover without manifest (a crash before its commit)", st);
    }
    if (st.state() == StageStatus.State.DAMAGED) {
      return new Decision(s.id(), Decision.Action.RUN, "damaged (" + String.join("; ", st.problems()) + ")", st);
    }
    StageManifest committed = st.manifest();
    if (rerun) {
      return new Decision(s.id(), Decision.Action.RUN,
          "rerun asked for (--force or --from); the committed output stays until the new one commits", st);
    }
    if (!committed.fingerprint().equals(fp)) {
      if (!s.replaceable()) {
        return new Decision(s.id(), Decision.Action.REFUSE, "committed with other options or inputs (fingerprint "
            + Fingerprint.shortForm(committed.fingerprint()) + ", planned " + Fingerprint.shortForm(fp)
            + "). Committed " + s.id().kind() + " outputs are never overwritten: give this one a new name, or rerun"
            + " with --from " + s.id().kind() + " to replace it.", st);
      }
      return new Decision(s.id(), Decision.Action.RUN, "inputs or options changed since it was committed (fingerprint "
          + Fingerprint.shortForm(committed.fingerprint()) + ", planned " + Fingerprint.shortForm(fp) + ")", st);
    }
    if (st.state() == StageStatus.State.STALE) {
      return new Decision(s.id(), Decision.Action.RUN, "stale (" + String.join("; ", st.problems()) + ")", st);
    }
    return new Decision(s.id(), Decision.Action.SKIP, "up to date (fingerprint " + Fingerprint.shortForm(fp) + ")", st);
  }

  private StageOutcome runOne(Stage s, StagePlan plan, int index, int total, boolean rerun) {
    String where = String.format(Locale.ROOT, "[%d/%d %s]", index, total, s.id());
    Decision d = decide(s, plan, rerun);
    switch (d.action()) {
      case REFUSE -> throw new ConfigException(where + " is " + d.reason());
      case SKIP -> {
        out.printf("%s %s, skipped%n", where, d.reason());
        return new StageOutcome(s.id(), StageOutcome.Action.SKIPPED_UP_TO_DATE, d.found().manifest(), 0);
      }
      case RUN -> {
        if (d.found() != null) {
          out.printf("%s %s: running it again%n", where, d.reason());
        }
      }
    }
    out.printf("%s running%n", where);
    long t0 = System.nanoTime();
    StageManifest m;
    try {
      m = StageExecution.run(run, spark.get(), s, plan);
    } catch (Exception e) { // Spark rethrows task failures as (checked) SparkException
      throw explainUnreadableInput(e);
    }
    double secs = (System.nanoTime() - t0) / 1e9;
    out.printf("%s committed in %.1f s: %s%n", where, secs, Report.countsLine(m));
    return new StageOutcome(s.id(), StageOutcome.Action.RAN, m, secs);
  }

  /**
   * A Spark job that failed reading a file of a committed stage becomes an error naming the file,
   * the stage and how to rerun it; any other failure is rethrown as it is.
   */
  private RuntimeException explainUnreadableInput(Exception e) {
    Optional<String> file = ParquetInput.unreadableFile(e);
    Optional<StageManifest> owner = file.flatMap(run::committedStageOf);
    if (owner.isPresent()) {
      String kind = owner.get().kind();
      return new IllegalStateException("cannot read " + file.get() + " (" + ParquetInput.rootCause(e) + ").\nThe file"
          + " belongs to the committed output of stage '" + owner.get().stage() + "', which is damaged. Run that stage"
          + " again: semiweak rerun " + run.root() + " " + owner.get().stage() + " (with the options it was run with),"
          + " or semiweak run CONFIG --from " + kind + ".", e);
    }
    return e instanceof RuntimeException re ? re : sneaky(e);
  }

  @SuppressWarnings("unchecked")
  private static <T extends Exception> RuntimeException sneaky(Exception e) throws T {
    throw (T) e;
  }

  /** Temporary output of stages that never committed (a crash, a kill): never read, safe to delete. */
  private void cleanTemporaryLeftovers() {
    Path tmp = run.layout().tmpRoot();
    try {
      if (run.fs().exists(tmp)) {
        for (FileStatus st : run.fs().listStatus(tmp)) {
          out.printf("removing uncommitted leftover %s%n", st.getPath().getName());
          run.fs().delete(st.getPath(), true);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot clean " + tmp + ": " + e.getMessage(), e);
    }
  }
}
