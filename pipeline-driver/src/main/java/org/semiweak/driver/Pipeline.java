package org.semiweak.driver;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.semiweak.run.RunDir;
import org.semiweak.run.Stage;
import org.semiweak.run.StageKind;
import org.semiweak.run.StageId;
import org.semiweak.student.DistillStudent;
import org.semiweak.teacher.SelectPseudoLabels;

/**
 * The whole method as an ordered list of stages, built from a run configuration:
 * prep, then per teacher recipe train-teacher, score, select, pretrain, finetune, then the
 * supervised baseline and the evaluation of every model. Stages are ordered by kind, in pipeline
 * order, so {@code --from KIND} reruns that kind and everything after it.
 *
 * <p>With {@code generations: N} (Noisy Student), the student of each generation teaches the next:
 * generation 2 of the recipe {@code semi-weak} scores with its final student into {@code
 * scores/semi-weak-gen2}, and selects, pretrains, (distills) and fine-tunes under that name. Each
 * generation's stages, ordered by kind, follow the previous generation's; evaluate comes last.
 *
 * <p>Opt-in: when the config has a {@code distill} section (even an empty one), every teacher also
 * gets distill (from its scores) and a finetune of the distilled student; evaluate reports both.
 */
public final class Pipeline {
  public static final List<String> DEFAULT_TEACHERS = List.of("semi-weak");

  /** The architecture keys the baseline takes from the student (pretrain) unless its section sets them. */
  static final List<String> ARCHITECTURE_KEYS = List.of("widths", "blocks", "stem", "norm-mean", "norm-std");

  private Pipeline() {}

  public static List<Stage> build(RunConfig config, RunDir run) {
    List<Stage> all = new ArrayList<>();
    List<StageId> models = new ArrayList<>();
    all.add(StageCatalog.PREP.create(run, config.section(StageKind.PREP)));
    // Per recipe, the student that teaches the next generation.
    Map<String, StageId> teaching = new LinkedHashMap<>();
    List<Stage> generation = new ArrayList<>();
    for (String teacher : config.teachers(DEFAULT_TEACHERS)) {
      Map<String, Object> t = config.section(StageKind.TRAIN_TEACHER);
      t.put("recipe", teacher);
      Stage trainTeacher = StageCatalog.TRAIN_TEACHER.create(run, t);
      generation.add(trainTeacher);
      models.add(trainTeacher.id());
      generation.add(score(config, run, teacher, null));
      teaching.put(teacher, students(config, run, teacher, generation, models));
    }
    // The baseline is the student architecture: take it from the pretrain section unless set.
    Map<String, Object> base = withStudentArchitecture(config.section(StageKind.BASELINE), config);
    Stage baseline = StageCatalog.BASELINE.create(run, base);
    generation.add(baseline);
    models.add(baseline.id());
    for (int g = 1; ; g++) {
      // Stable: within a kind, the teachers keep the config's order.
      generation.sort(Comparator.comparing(st -> st.id().kind()));
      all.addAll(generation);
      generation.clear();
      if (g == config.generations()) {
        break;
      }
      for (Map.Entry<String, StageId> recipe : teaching.entrySet()) {
        String teacher = generationName(recipe.getKey(), g + 1);
        generation.add(score(config, run, teacher, recipe.getValue()));
        recipe.setValue(students(config, run, teacher, generation, models));
      }
    }

    Map<String, Object> ev = config.section(StageKind.EVALUATE);
    ev.putIfAbsent("models", String.join(",", models.stream().map(StageId::path).toList()));
    all.add(StageCatalog.EVALUATE.create(run, ev));
    return all;
  }

  /** The score stage of {@code scores/<teacher>}, scoring with {@code model} (null: {@code teacher/<teacher>}). */
  private static Stage score(RunConfig config, RunDir run, String teacher, StageId model) {
    Map<String, Object> s = config.section(StageKind.SCORE);
    s.put("teacher", teacher);
    if (model != null) {
      s.put("model", model.path());
    }
    return StageCatalog.SCORE.create(run, s);
  }

  /**
   * Adds the stages that learn from {@code scores/<teacher>}: select, pretrain and finetune, and with a
   * distill section distill and its finetune; returns the student that teaches the next generation:
   * with a distill section its finetune, or the distilled student itself when it trained jointly on
   * labeled images ({@code labeled-per-batch}); else the fine-tuned student of the selection.
   */
  private static StageId students(RunConfig config, RunDir run, String teacher, List<Stage> out, List<StageId> models) {
    Map<String, Object> sel = config.section(StageKind.SELECT);
    sel.put("teacher", teacher);
    SelectPseudoLabels select = (SelectPseudoLabels) StageCatalog.SELECT.create(run, sel);
    out.add(select);

    Map<String, Object> pre = config.section(StageKind.PRETRAIN);
    pre.put("teacher", teacher);
    pre.put("selection", select.name());
    out.add(StageCatalog.PRETRAIN.create(run, pre));

    StageId next = finetune(config, run, teacher, select.name(), out, models);
    if (config.hasSection(StageKind.DISTILL)) {
      // The distilled student is the student architecture too: take it from pretrain unless set.
      Map<String, Object> dis = withStudentArchitecture(config.section(StageKind.DISTILL), config);
      dis.put("teacher", teacher);
      DistillStudent distill = (DistillStudent) StageCatalog.DISTILL.create(run, dis);
      out.add(distill);
      // Evaluated before and after its finetune: validation chooses between them (docs/ACCURACY.md).
      models.add(distill.id());
      StageId finetuned = finetune(config, run, teacher, distill.name(), out, models);
      // Joint training already learned the labeled images in every batch, as Noisy Student's students
      // do: that student teaches, not its finetune, which validation puts lower (docs/ACCURACY.md).
      next = distill.joint() ? distill.id() : finetuned;
    }
    return next;
  }

  /** Adds the finetune of a selection's or a distillation's student; returns its id. */
  private static StageId finetune(RunConfig config, RunDir run, String teacher, String name, List<Stage> out,
      List<StageId> models) {
    Map<String, Object> fin = config.section(StageKind.FINETUNE);
    fin.put("teacher", teacher);
    fin.put("selection", name);
    Stage finetune = StageCatalog.FINETUNE.create(run, fin);
    out.add(finetune);
    models.add(finetune.id());
    return finetune.id();
  }

  /** The name of the scores, selections and students of generation {@code g} of a recipe: {@code semi-weak-gen2}. */
  static String generationName(String recipe, int g) {
    return g == 1 ? recipe : recipe + GENERATION_SUFFIX + g;
  }

  /** The generation of a stage: 2 and more for the stages of {@code <recipe>-genN}, else 1. */
  static int generation(StageId id) {
    if (id.teacher() == null) {
      return 1;
    }
    java.util.regex.Matcher m = GENERATION.matcher(id.teacher());
    return m.matches() ? Integer.parseInt(m.group(1)) : 1;
  }

  static final String GENERATION_SUFFIX = "-gen";
  private static final java.util.regex.Pattern GENERATION = java.util.regex.Pattern.compile(".*-gen([2-9]|[1-9][0-9]+)");

  /** {@code section} with the architecture keys of the pretrain section that it does not set itself. */
  private static Map<String, Object> withStudentArchitecture(Map<String, Object> section, RunConfig config) {
    Map<String, Object> pre = config.section(StageKind.PRETRAIN);
    for (String key : ARCHITECTURE_KEYS) {
      if (!section.containsKey(key) && pre.containsKey(key)) {
        section.put(key, pre.get(key));
      }
    }
    return section;
  }
}
