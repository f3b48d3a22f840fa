package org.semiweak.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.semiweak.config.Options;
import org.semiweak.data.ImageSchema;
import org.semiweak.data.SelectionSchema;
import org.semiweak.model.ModelSpec;
import org.semiweak.model.ModelWeights;
import org.semiweak.run.RunLayout;
import org.semiweak.run.SparkSessions;
import org.semiweak.run.Split;
import org.semiweak.stage.PrepInfo;
import org.semiweak.teacher.TrainTeacher;
import org.semiweak.testing.CommittedModels;
import org.semiweak.testing.PreparedRuns;

/**
 * The Java example of the README's "Using semiweak as a library": {@link #pseudoLabels} is the code
 * the README shows (a test below checks that the README still shows exactly these lines), and the
 * other test runs it on a prepared run's unlabeled images.
 */
class ReadmeLibraryExampleTest {
  @TempDir static Path tmp;

  // --- The README shows this method, line for line. ---

  /** Pseudo-labels for any images: the top 1,000 images of each class by a teacher's scores. */
  static Dataset<Row> pseudoLabels(Dataset<Row> images, String teacherDir, List<String> classNames) {
    ImageScorer scorer = new ImageScorer()
        .setModelPath(teacherDir)                        // a model stage's folder, e.g. hdfs:///runs/demo/teacher/semi-weak
        .setTopP(10)                                     // reads 'image' (PNG/JPEG bytes) and 'image_id'
        .setClassNames(classNames);
    Dataset<Row> scores = scorer.transform(images)       // + classes, probs, class_names, rejection
        .filter("rejection IS NULL");                    // an image that could not be scored says why there
    return Selections.topKPerClass(scores, classNames, 1000, 10);  // image_id, class_index, class_name, score, rank
  }

  // --- End of the README's example. ---

  @Test
  void theExampleSelectsEveryImageOfEveryClassWhenKAndPCoverThemAll() {
    SparkSession spark = SparkSessions.getOrCreate("semiweak-teacher-test", "local[2]");
    PreparedRuns.Prepared prepared = PreparedRuns.commit(spark, tmp.resolve("run"), PreparedRuns.Spec.small());
    ModelSpec spec = TrainTeacher.LABELED.modelSpec(
        Options.parse("train-teacher", TrainTeacher.OPTIONS, Map.of("widths", "8,16")), prepared.images());
    CommittedModels.commit(prepared.run(), RunLayout.teacher("readme"), spec, ModelWeights.initial(spec, 5));
    Dataset<Row> images = PrepInfo.read(prepared.run()).read(spark, Split.UNLABELED);
    List<String> classNames = prepared.vocabulary().classes();

    Dataset<Row> picks = pseudoLabels(images, prepared.run().stagePath(RunLayout.teacher("readme")).toString(),
        classNames);
    try {
      assertThat(picks.schema()).as("the selection schema").isEqualTo(SelectionSchema.SCHEMA);
      Set<String> ids = new HashSet<>(images.select(ImageSchema.IMAGE_ID).as(org.apache.spark.sql.Encoders.STRING())
          .collectAsList());
      // 10 classes kept of 10 and k = 1000 > images: every image is a candidate of every class, and selected.
      Map<Integer, List<Row>> byClass = new TreeMap<>();
      for (Row r : picks.collectAsList()) {
        byClass.computeIfAbsent(r.<Integer>getAs(SelectionSchema.CLASS_INDEX), c -> new ArrayList<>()).add(r);
      }
      assertThat(byClass.keySet()).as("every class").hasSize(classNames.size());
      byClass.forEach((c, rows) -> {
        rows.sort((a, b) -> Integer.compare(a.getAs(SelectionSchema.RANK), b.getAs(SelectionSchema.RANK)));
        assertThat(rows).as("class %d: every image, once", c).hasSize(ids.size())
            .extracting(r -> (String) r.getAs(SelectionSchema.IMAGE_ID)).containsExactlyInAnyOrderElementsOf(ids);
        for (int i = 0; i < rows.size(); i++) {
          Row r = rows.get(i);
          assertThat((Integer) r.getAs(SelectionSchema.RANK)).as("class %d: ranks 1..n", c).isEqualTo(i + 1);
          assertThat((String) r.getAs(SelectionSchema.CLASS_NAME)).as("class %d: its name", c)
              .isEqualTo(classNames.get(c));
          if (i > 0) {
            assertThat((Float) r.getAs(SelectionSchema.SCORE)).as("class %d: scores descend with rank", c)
                .isLessThanOrEqualTo(rows.get(i - 1).getAs(SelectionSchema.SCORE));
          }
        }
      });
    } finally {
      picks.unpersist();
    }
  }

  @Test
  void theReadmeShowsThisExampleLineForLine() throws IOException {
    List<String> readme = Files.readAllLines(Path.of("..", "README.md"));
    int section = readme.indexOf("## Using semiweak as a library");
    assertThat(section).as("README has the section").isNotNegative();
    List<String> shown = new ArrayList<>();
    boolean inJava = false;
    for (String line : readme.subList(section, readme.size())) {
      if (line.equals("```java")) {
        inJava = true;
      } else if (inJava && line.equals("```")) {
        break;
      } else if (inJava) {
        shown.add(line.strip());
      }
    }
    String source = Files.readString(Path.of("src", "test", "java", "org", "semiweak", "api",
        "ReadmeLibraryExampleTest.java"));
    String example = source.substring(source.indexOf("// --- The README shows this method"),
        source.indexOf("// --- End of the README's example."));
    List<String> tested = example.lines().skip(1).map(String::strip).filter(l -> !l.isEmpty()).toList();
    assertThat(shown.stream().filter(l -> !l.isEmpty() && !l.startsWith("import ")).toList())
        .as("the README's Java example (imports aside) is the code this test runs")
        .isEqualTo(tested);
  }
}
