package org.semiweak.run;

import java.util.regex.Pattern;
import org.apache.hadoop.fs.Path;

/**
 * The one owner of every path in a run directory: the stage folders (built from a {@link StageId}
 * and parsed back into one, side by side below), the files every stage folder holds, the run's own
 * files, and the work and temporary folders. No other class concatenates or splits a run path.
 *
 * <pre>
 * _RUN.json  _LOCK  SUMMARY.md  _tmp/  _work/  _replaced/
 * prep/{labeled,unlabeled,validation,test,quarantine}/  prep/vocabulary.json
 * teacher/&lt;recipe&gt;/
 * scores/&lt;teacher&gt;/
 * selection/&lt;teacher&gt;/&lt;selection&gt;/
 * student/&lt;teacher&gt;/&lt;selection&gt;/{pretrain,finetune}/
 * student/&lt;teacher&gt;/distill-&lt;name&gt;/{distill,finetune}/
 * baseline/   evaluate/{per_class,confusion}/   report/index.html
 * </pre>
 *
 * The files of a stage are in its folder after a commit by rename (local disks, HDFS); on object
 * stores a commit publishes {@code <stage>/_data-<id>/} through its manifest instead, so readers
 * find a stage's files with {@link RunDir#dataPath}, and the file helpers here ({@link #split},
 * {@link #vocabulary}, ...) name the stage-folder layout.
 */
public final class RunLayout {
  /** Written last into a stage folder; a folder without it is not committed and is never read. */
  public static final String MANIFEST = "_MANIFEST.json";
  /** The run directory's format and creator. */
  public static final String RUN_FILE = "_RUN.json";
  /** The lease of the process that runs stages in this directory (holder and heartbeat, {@link RunLock}). */
  public static final String LOCK_FILE = "_LOCK";
  /** The results table of the last command that ran stages here, for people who only see files. */
  public static final String SUMMARY_FILE = "SUMMARY.md";
  /** Stage outputs being written, until their commit. */
  public static final String TMP = "_tmp";
  /** Resumable work of stages (checkpoints, materialized training sets), until their commit. */
  public static final String WORK = "_work";
  /**
   * Checkpoints of training phases kept after their stage commits, so that a rerun of the stage with
   * only its later phases changed resumes them instead of training them again (a self-supervised
   * or weak-tag phase before a fine-tune, say). Deleting it costs nothing but that time.
   */
  public static final String REUSE = "_reuse";
  /**
   * A committed stage's previous output while its replacement is being committed: moved back by the
   * next process if that commit was interrupted, deleted once it completed.
   */
  public static final String REPLACED = "_replaced";
  /**
   * On stores that publish a commit by its manifest (object stores: no atomic rename), a stage's
   * files are written to {@code <stage>/_data-<id>/} and the manifest names that folder.
   */
  public static final String DATA_PREFIX = "_data-";
  /** Beside the manifest: the plan (kind, options, inputs), so that a damaged manifest can be rebuilt by a rerun. */
  public static final String PLAN_FILE = "_PLAN.json";
  /** Under {@code prep/}: the class vocabulary. */
  public static final String VOCABULARY_FILE = "vocabulary.json";
  /** Under {@code prep/}: records that could not be prepared, with the reason. */
  public static final String QUARANTINE = "quarantine";
  /** Under {@code prep/}: exact duplicates that were dropped, each with the image id it duplicated. */
  public static final String DUPLICATES = "duplicates";

  /** Under {@code report/}: the run's report, one self-contained HTML page. */
  public static final String REPORT_PAGE = "index.html";

  /** A name inside a stage path: a teacher recipe or a selection. */
  private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9._=-]*");

  private final Path root;

  public RunLayout(Path root) {
    this.root = root;
  }

  public Path root() {
    return root;
  }

  // ---- stage ids: factories, then the path of an id and the id of a path, beside each other ----

  public static StageId prep() {
    return new StageId(StageKind.PREP, null, null);
  }

  public static StageId teacher(String recipe) {
    return new StageId(StageKind.TRAIN_TEACHER, name("teacher", recipe), null);
  }

  public static StageId scores(String teacher) {
    return new StageId(StageKind.SCORE, name("teacher", teacher), null);
  }

  public static StageId selection(String teacher, String selection) {
    return new StageId(StageKind.SELECT, name("teacher", teacher), selectionName(selection));
  }

  public static StageId pretrain(String teacher, String selection) {
    return new StageId(StageKind.PRETRAIN, name("teacher", teacher), selectionName(selection));
  }

  /**
   * A student distilled from every image scored by {@code teacher}, at {@code student/<teacher>/<name>/distill};
   * {@code name} starts with {@link #DISTILL_PREFIX} (e.g. {@code distill-t2}), so that it never names a selection
   * and {@code finetune} of the same name continues it ({@link #pretrained}).
   */
  public static StageId distill(String teacher, String name) {
    String n = name("distillation", name);
    if (!n.startsWith(DISTILL_PREFIX)) {
      throw new IllegalArgumentException("invalid distillation name '" + name + "': it must start with " + DISTILL_PREFIX);
    }
    return new StageId(StageKind.DISTILL, name("teacher", teacher), n);
  }

  /**
   * The fine-tuned student of a selection ({@code student/<teacher>/<selection>/finetune}) or of a
   * distillation ({@code student/<teacher>/distill-.../finetune}).
   */
  public static StageId finetune(String teacher, String selection) {
    return new StageId(StageKind.FINETUNE, name("teacher", teacher), name("selection", selection));
  }

  /**
   * The stage that {@code finetune(teacher, name)} continues: the distilled student when {@code name}
   * starts with {@link #DISTILL_PREFIX}, else the student pretrained on the selection {@code name}.
   */
  public static StageId pretrained(String teacher, String name) {
    return name != null && name.startsWith(DISTILL_PREFIX) ? distill(teacher, name) : pretrain(teacher, name);
  }

  /** Starts every distillation name (a student folder) and no selection name. */
  public static final String DISTILL_PREFIX = "distill-";

  private static String selectionName(String selection) {
    String n = name("selection", selection);
    if (n.startsWith(DISTILL_PREFIX)) {
      throw new IllegalArgumentException("invalid selection name '" + selection + "': names starting with "
          + DISTILL_PREFIX + " are the distilled students' (student/<teacher>/" + DISTILL_PREFIX + "...)");
    }
    return n;
  }

  public static StageId baseline() {
    return new StageId(StageKind.BASELINE, null, null);
  }

  public static StageId evaluate() {
    return new StageId(StageKind.EVALUATE, null, null);
  }

  /** The run's report: a page about every other committed stage, at {@code report/}. */
  public static StageId report() {
    return new StageId(StageKind.REPORT, null, null);
  }

  /** The folder of a stage relative to the run directory. */
  public static String path(StageId id) {
    return switch (id.kind()) {
      case PREP -> "prep";
      case TRAIN_TEACHER -> "teacher/" + id.teacher();
      case SCORE -> "scores/" + id.teacher();
      case SELECT -> "selection/" + id.teacher() + "/" + id.selection();
      case PRETRAIN -> "student/" + id.teacher() + "/" + id.selection() + "/pretrain";
      case DISTILL -> "student/" + id.teacher() + "/" + id.selection() + "/distill";
      case FINETUNE -> "student/" + id.teacher() + "/" + id.selection() + "/finetune";
      case BASELINE -> "baseline";
      case EVALUATE -> "evaluate";
      case REPORT -> "report";
    };
  }

  /** The stage of a relative folder path such as {@code scores/semi-weak}; the inverse of {@link #path}. */
  public static StageId parse(String path) {
    String[] p = path == null ? new String[0] : path.split("/", -1);
    try {
      StageId id = switch (p.length == 0 ? "" : p[0]) {
        case "prep" -> p.length == 1 ? prep() : null;
        case "teacher" -> p.length == 2 ? teacher(p[1]) : null;
        case "scores" -> p.length == 2 ? scores(p[1]) : null;
        case "selection" -> p.length == 3 ? selection(p[1], p[2]) : null;
        case "student" -> p.length == 4 && p[3].equals("pretrain") ? pretrain(p[1], p[2])
            : p.length == 4 && p[3].equals("distill") ? distill(p[1], p[2])
            : p.length == 4 && p[3].equals("finetune") ? finetune(p[1], p[2]) : null;
        case "baseline" -> p.length == 1 ? baseline() : null;
        case "evaluate" -> p.length == 1 ? evaluate() : null;
        case "report" -> p.length == 1 ? report() : null;
        default -> null;
      };
      if (id != null) {
        return id;
      }
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("'" + path + "' is not a stage of a run directory: " + e.getMessage(), e);
    }
    throw new IllegalArgumentException("'" + path + "' is not a stage of a run directory; stages are prep,"
        + " teacher/RECIPE, scores/TEACHER, selection/TEACHER/NAME, student/TEACHER/SELECTION/{pretrain,finetune},"
        + " student/TEACHER/distill-NAME/{distill,finetune}, baseline, evaluate and report");
  }

  private static String name(String what, String value) {
    if (value == null || !NAME.matcher(value).matches()) {
      throw new IllegalArgumentException("invalid " + what + " name '" + value
          + "': use lower-case letters, digits, '.', '_', '=' and '-', starting with a letter or digit");
    }
    return value;
  }

  /** Whether {@code value} may name a teacher or a selection. */
  public static boolean isValidName(String value) {
    return value != null && NAME.matcher(value).matches();
  }

  // ---- paths under this run directory ----

  public Path stage(StageId id) {
    return new Path(root, path(id));
  }

  /** A data folder of a stage that publishes by manifest: {@code <stage>/<name>}, {@code name} = {@code _data-<id>}. */
  public Path data(StageId id, String name) {
    if (!name.startsWith(DATA_PREFIX) || name.contains("/")) {
      throw new IllegalArgumentException("not a data folder name: " + name);
    }
    return new Path(stage(id), name);
  }

  public Path manifest(StageId id) {
    return new Path(stage(id), MANIFEST);
  }

  public Path runFile() {
    return new Path(root, RUN_FILE);
  }

  public Path summaryFile() {
    return new Path(root, SUMMARY_FILE);
  }

  public Path lockFile() {
    return new Path(root, LOCK_FILE);
  }

  public Path tmpRoot() {
    return new Path(root, TMP);
  }

  /** A fresh temporary folder for a stage's output ({@code unique} keeps concurrent attempts apart). */
  public Path temp(StageId id, String unique) {
    return new Path(tmpRoot(), folderName(id) + "-" + unique);
  }

  public Path replacedRoot() {
    return new Path(root, REPLACED);
  }

  /** Where a committed stage's output waits while its replacement is committed. */
  public Path replaced(StageId id, String unique) {
    return new Path(replacedRoot(), folderName(id) + "-" + unique);
  }

  public Path plan(StageId id) {
    return new Path(stage(id), PLAN_FILE);
  }

  public Path workRoot() {
    return new Path(root, WORK);
  }

  /** The resumable work of a stage. */
  public Path work(StageId id) {
    return new Path(workRoot(), folderName(id));
  }

  public Path reuseRoot() {
    return new Path(root, REUSE);
  }

  /** The kept phase checkpoints of a stage (see {@link #REUSE}). */
  public Path reuse(StageId id) {
    return new Path(reuseRoot(), folderName(id));
  }

  /** A stage's path as one folder name ({@code teacher/semi-weak} -> {@code teacher+semi-weak}), for the run's own folders. */
  private static String folderName(StageId id) {
    return path(id).replace('/', '+');
  }

  /** The stage a work folder name belongs to (for status). */
  public static String stageOfWorkFolder(String name) {
    return name.replace('+', '/');
  }

  public Path split(Split split) {
    return new Path(stage(prep()), split.dirName());
  }

  public Path quarantine() {
    return new Path(stage(prep()), QUARANTINE);
  }

  public Path duplicates() {
    return new Path(stage(prep()), DUPLICATES);
  }

  /** The committed report page, {@code report/index.html}. */
  public Path reportPage() {
    return new Path(stage(report()), REPORT_PAGE);
  }

  public Path vocabulary() {
    return new Path(stage(prep()), VOCABULARY_FILE);
  }

  /** The stage whose folder holds {@code absolutePath} (a path below this run directory), if any. */
  public java.util.Optional<String> relative(String absolutePath) {
    String rootPath = root.toUri().getPath();
    if (!absolutePath.startsWith(rootPath + "/")) {
      return java.util.Optional.empty();
    }
    return java.util.Optional.of(absolutePath.substring(rootPath.length() + 1));
  }
}
