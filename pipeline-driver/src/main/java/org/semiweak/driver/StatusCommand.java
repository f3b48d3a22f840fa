package org.semiweak.driver;

import java.io.IOException;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.Path;
import org.semiweak.run.RunDir;
import org.semiweak.run.RunLayout;
import org.semiweak.run.StageManifest;
import org.semiweak.run.StageStatus;
import org.semiweak.prep.PrepSummary;
import org.semiweak.util.Fingerprint;
import org.semiweak.util.Json;

/**
 * {@code semiweak status RUN_DIR}: every stage folder as committed, stale, damaged (with the reason
 * and the command that repairs it) or leftover; interrupted commits, crashed leftovers, resumable
 * work, kept training phases and the lock. One damaged stage never makes the whole report fail.
 */
final class StatusCommand {
  private StatusCommand() {}

  /** What status reports, as text or as JSON ({@code --json}). */
  record Report(String runDir, String lockedBy, List<Stage> stages, List<String> interruptedCommits,
      List<String> uncommitted, List<String> resumableWork, List<String> keptPhases, String prepSummary) {}

  /** One stage folder in the report. */
  record Stage(String stage, String state, String kind, String fingerprint, Double seconds,
      Map<String, Long> counts, List<String> problems, String repair) {}

  static Report collect(RunDir run, boolean checksums) throws IOException {
    Path lock = run.layout().lockFile();
    String lockedBy = run.fs().exists(lock) ? run.readString(lock).replaceAll("\\s+", " ") : null;
    List<Stage> stages = new ArrayList<>();
    for (StageStatus st : run.statuses(checksums)) {
      StageManifest m = st.manifest();
      stages.add(new Stage(st.stage(), st.state().label(), m == null ? null : m.kind(),
          m == null ? null : m.fingerprint(), m == null ? null : m.seconds(),
          m == null ? Map.of() : new LinkedHashMap<>(m.counts()), st.problems(), st.repair()));
    }
    return new Report(run.root().toString(), lockedBy, stages, names(run, run.layout().replacedRoot(), false),
        names(run, run.layout().tmpRoot(), false), names(run, run.layout().workRoot(), true), keptPhases(run),
        prepSummary(run));
  }

  /** The training phases kept for reuse ({@link RunLayout#REUSE}), as {@code stage: phase folder}. */
  private static List<String> keptPhases(RunDir run) throws IOException {
    List<String> out = new ArrayList<>();
    for (String stageFolder : names(run, run.layout().reuseRoot(), false)) {
      Path dir = new Path(run.layout().reuseRoot(), stageFolder);
      for (String phase : names(run, dir, false)) {
        out.add(RunLayout.stageOfWorkFolder(stageFolder) + ": " + phase);
      }
    }
    return out;
  }

  /** What the committed prep holds (splits, classes, tags, quarantine, inputs); null when prep is not usable. */
  private static String prepSummary(RunDir run) {
    return run.status(RunLayout.prep(), false).filter(StageStatus::usable)
        .map(st -> PrepSummary.text(st.manifest())).orElse(null);
  }

  private static List<String> names(RunDir run, Path dir, boolean stagePaths) throws IOException {
    List<String> out = new ArrayList<>();
    if (run.fs().exists(dir)) {
      for (FileStatus st : run.fs().listStatus(dir)) {
        String name = st.getPath().getName();
        out.add(stagePaths ? RunLayout.stageOfWorkFolder(name) : name);
      }
    }
    return out;
  }

  static void printJson(Report report, PrintStream out) {
    out.println(Json.write(report));
  }

  static void print(Report report, PrintStream out) {
    out.println("run directory " + report.runDir());
    if (report.lockedBy() != null) {
      out.println("locked by " + report.lockedBy());
    }
    out.printf(Locale.ROOT, "%-44s %-10s %-14s %-13s %8s  %s%n", "stage", "state", "kind", "fingerprint", "wall s",
        "counts");
    for (Stage s : report.stages()) {
      out.printf(Locale.ROOT, "%-44s %-10s %-14s %-13s %8s  %s%n", s.stage(), s.state(),
          s.kind() == null ? "?" : s.kind(), s.fingerprint() == null ? "?" : Fingerprint.shortForm(s.fingerprint()),
          s.seconds() == null ? "" : String.format(Locale.ROOT, "%.1f", s.seconds()),
          s.counts().isEmpty() ? "" : org.semiweak.driver.Report.countsLine(s.counts()));
      for (String problem : s.problems()) {
        out.println("    " + problem);
      }
      if (s.repair() != null) {
        out.println("    repair: " + s.repair());
      }
    }
    if (report.prepSummary() != null) {
      out.print("\nprep\n" + report.prepSummary());
    }
    for (String name : report.interruptedCommits()) {
      out.println("interrupted commit (put right by the next run): " + RunLayout.REPLACED + "/" + name);
    }
    for (String name : report.uncommitted()) {
      out.println("uncommitted (in progress or crashed): " + name);
    }
    for (String stage : report.resumableWork()) {
      out.println("resumable work (checkpoints): " + stage);
    }
    for (String phase : report.keptPhases()) {
      out.println("kept for reuse (" + RunLayout.REUSE + "/, delete to free space): " + phase);
    }
  }
}
