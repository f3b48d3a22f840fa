package org.semiweak.driver;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
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
import org.semiweak.run.StageManifest;
import org.semiweak.run.StagePlan;
import org.semiweak.run.StageStatus;
import org.semiweak.run.Upstream;
import org.semiweak.stage.ParquetInput;
import org.semiweak.util.Fingerprint;

/**
 * Runs stages in order under the run directory's lock. First it checks the whole pipeline without
 * any Spark job: every stage's options and external files, then every stage's plan against what the
 * stages before it publish (committed or planned), collecting every problem into one error. Then,
 * stage by stage, it skips those whose committed output has the planned fingerprint, replaces
 * outdated ones, runs the rest and commits each (the one commit path), and resumes after a crash
 * (uncommitted output is discarded; training resumes from its checkpoints).
 */
public final class PipelineRunner {
  private final RunDir run;
  private final Supplier<SparkSession> spark;
  private final PrintStream out;

  public PipelineRunner(RunDir run, Supplier<SparkSession> spark, PrintStream out) {
    this.run = run;
    this.spark = spark;
    this.out = out;
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
   * Checks, then runs the stages.
   *
   * @param from when not null, committed outputs of this kind and every later kind are replaced
   * @param force rerun every given stage even if it is up to date
   */
  public List<StageOutcome> run(List<Stage> stages, StageKind from, boolean force) {
    List<StagePlan> plans = check(stages);
    List<StageOutcome> outcomes = new ArrayList<>();
    try (RunLock lock = run.lock("semiweak " + stages.get(0).id().kind()
        + (stages.size() > 1 ? " .. " + stages.get(stages.size() - 1).id().kind() : ""))) {
      run.recoverInterruptedCommits().forEach(line -> out.println("semiweak: " + line));
      cleanTemporaryLeftovers();
      for (int i = 0; i < stages.size(); i++) {
        Stage s = stages.get(i);
        boolean rerun = force || (from != null && s.id().kind().compareTo(from) >= 0);
        outcomes.add(runOne(s, plans.get(i), i + 1, stages.size(), rerun));
      }
    }
    return outcomes;
  }

  private StageOutcome runOne(Stage s, StagePlan plan, int index, int total, boolean rerun) {
    String where = String.format(Locale.ROOT, "[%d/%d %s]", index, total, s.id());
    String fp = plan.fingerprint();
    // A committed output is never deleted before its replacement commits: a rerun that fails leaves it as it was.
    Optional<StageStatus> status = run.status(s.id(), false);
    if (status.isPresent() && status.get().state() == StageStatus.State.DAMAGED) {
      out.printf("%s damaged (%s): running it again%n", where, String.join("; ", status.get().problems()));
    } else if (status.isPresent() && status.get().usable()) {
      StageManifest committed = status.get().manifest();
      if (rerun) {
        out.printf("%s running it again; the committed output stays until the new one commits%n", where);
      } else if (!committed.fingerprint().equals(fp)) {
        if (!s.replaceable()) {
          throw new ConfigException(where + " is committed with other options or inputs (fingerprint "
              + Fingerprint.shortForm(committed.fingerprint()) + ", planned " + Fingerprint.shortForm(fp)
              + "). Committed " + s.id().kind() + " outputs are never overwritten: give this one a new name, or rerun"
              + " with --from " + s.id().kind() + " to replace it.");
        }
        out.printf("%s inputs or options changed since it was committed: running it again%n", where);
      } else if (status.get().state() == StageStatus.State.STALE) {
        out.printf("%s stale (%s): running it again%n", where, String.join("; ", status.get().problems()));
      } else {
        out.printf("%s up to date (fingerprint %s), skipped%n", where, Fingerprint.shortForm(fp));
        return new StageOutcome(s.id(), StageOutcome.Action.SKIPPED_UP_TO_DATE, committed, 0);
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
          + " again: semiweak run CONFIG --from " + kind + " (or semiweak " + kind + " ... --force).", e);
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
