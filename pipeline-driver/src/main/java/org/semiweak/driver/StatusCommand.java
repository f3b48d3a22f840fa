package org.semiweak.driver;

import java.io.IOException;
import java.io.PrintStream;
import java.util.Locale;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.Path;
import org.semiweak.run.RunDir;
import org.semiweak.run.RunLayout;
import org.semiweak.run.StageManifest;
import org.semiweak.prep.PrepSummary;
import org.semiweak.util.Fingerprint;

/** {@code semiweak status RUN_DIR}: the committed stages, leftovers of crashed ones, and the lock. */
final class StatusCommand {
  private StatusCommand() {}

  static void print(RunDir run, PrintStream out) throws IOException {
    out.println("run directory " + run.root());
    Path lock = run.layout().lockFile();
    if (run.fs().exists(lock)) {
      out.println("locked by " + run.readString(lock).replaceAll("\\s+", " "));
    }
    out.printf(Locale.ROOT, "%-44s %-14s %-13s %8s  %s%n", "stage", "kind", "fingerprint", "wall s", "counts");
    for (StageManifest m : run.listCommitted()) {
      out.printf(Locale.ROOT, "%-44s %-14s %-13s %8.1f  %s%n", m.stage(), m.kind(),
          Fingerprint.shortForm(m.fingerprint()), m.seconds(), Report.countsLine(m));
    }
    printPrepSummary(run, out);
    Path tmp = run.layout().tmpRoot();
    if (run.fs().exists(tmp)) {
      for (FileStatus st : run.fs().listStatus(tmp)) {
        out.println("uncommitted (in progress or crashed): " + st.getPath().getName());
      }
    }
    Path work = run.layout().workRoot();
    if (run.fs().exists(work)) {
      for (FileStatus st : run.fs().listStatus(work)) {
        out.println("resumable work (checkpoints): " + RunLayout.stageOfWorkFolder(st.getPath().getName()));
      }
    }
  }

  /** Under the table: what the committed prep holds (splits, classes, tags, quarantine, inputs). */
  private static void printPrepSummary(RunDir run, PrintStream out) {
    run.committed(RunLayout.prep()).ifPresent(prep -> out.print("\nprep\n" + PrepSummary.text(prep)));
  }
}
