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
import org.semiweak.run.ManifestBuilder;
import org.semiweak.run.RunDir;
import org.semiweak.run.RunLock;
import org.semiweak.run.Stage;
import org.semiweak.run.StageManifest;
import org.semiweak.stage.ParquetInput;
import org.semiweak.util.Fingerprint;

/**
 * Runs stages in order under the run directory's lock: validates all of them before the first
 * Spark job, skips stages whose committed output has the planned fingerprint, replaces outdated
 * ones, and resumes after a crash (uncommitted output is discarded; training resumes from its
 * checkpoints).
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
   * Runs the stages.
   *
   * @param fromKind when not null, committed outputs of this stage kind and every later kind are
   *     deleted first, so they run again
   * @param force rerun every given stage even if it is up to date
   */
  public List<StageOutcome> run(List<Stage> stages, String fromKind, boolean force) {
    validateAll(stages);
    List<StageOutcome> outcomes = new ArrayList<>();
    try (RunLock lock = run.lock("semiweak " + stages.get(0).kind() + (stages.size() > 1 ? " .. " + stages.get(stages.size() - 1).kind() : ""))) {
      cleanTemporaryLeftovers();
      int fromOrder = fromKind == null ? Integer.MAX_VALUE : StageCatalog.order(fromKind);
      int i = 0;
      for (Stage s : stages) {
        i++;
        boolean rerun = force || StageCatalog.order(s.kind()) >= fromOrder;
        outcomes.add(runOne(s, i, stages.size(), rerun));
      }
    }
    return outcomes;
  }

  private void validateAll(List<Stage> stages) {
    List<String> errors = new ArrayList<>();
    for (Stage s : stages) {
      try {
        s.validate();
      } catch (ConfigException | IllegalStateException | UncheckedIOException e) {
        errors.add("[" + s.path() + "] " + e.getMessage());
      }
    }
    if (!errors.isEmpty()) {
      throw new ConfigException("the pipeline is not valid; nothing was run:\n" + String.join("\n", errors));
    }
  }

  private StageOutcome runOne(Stage s, int index, int total, boolean rerun) {
    String where = String.format(Locale.ROOT, "[%d/%d %s]", index, total, s.path());
    ManifestBuilder plan = s.plan();
    String fp = plan.fingerprint();
    Optional<StageManifest> committed = run.committed(s.path());
    // A forced rerun deletes the committed output only once the stage's plan is valid.
    if (committed.isPresent() && rerun) {
      out.printf("%s deleting the committed output to run it again%n", where);
      run.delete(s.path());
      committed = Optional.empty();
    }
    if (committed.isPresent()) {
      if (committed.get().fingerprint().equals(fp)) {
        out.printf("%s up to date (fingerprint %s), skipped%n", where, Fingerprint.shortForm(fp));
        return new StageOutcome(s.path(), s.kind(), StageOutcome.Action.SKIPPED_UP_TO_DATE, committed.get(), 0);
      }
      if (!s.replaceable()) {
        throw new ConfigException(where + " is committed with other options or inputs (fingerprint "
            + Fingerprint.shortForm(committed.get().fingerprint()) + ", planned " + Fingerprint.shortForm(fp)
            + "). Committed " + s.kind() + " outputs are never overwritten: give this one a new name, or rerun with --from "
            + s.kind() + " to replace it.");
      }
      out.printf("%s inputs or options changed since it was committed: running it again%n", where);
      run.delete(s.path());
    }
    out.printf("%s running%n", where);
    long t0 = System.nanoTime();
    StageManifest m;
    try {
      m = s.execute(spark.get(), plan);
    } catch (Exception e) { // Spark rethrows task failures as (checked) SparkException
      throw explainUnreadableInput(e);
    }
    double secs = (System.nanoTime() - t0) / 1e9;
    out.printf("%s committed in %.1f s: %s%n", where, secs, Report.countsLine(m));
    return new StageOutcome(s.path(), s.kind(), StageOutcome.Action.RAN, m, secs);
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
    Path tmp = new Path(run.root(), RunDir.TMP);
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
