package org.semiweak.teacher;

import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.spark.sql.SparkSession;
import org.semiweak.config.Options;
import org.semiweak.run.SparkSessions;

/** What the stage tests of the teacher module share: the Spark session and option maps. */
final class TeacherFixtures {
  private TeacherFixtures() {}

  /** The one local Spark session of this module's tests. */
  static SparkSession spark() {
    return SparkSessions.getOrCreate("semiweak-teacher-test", "local[2]");
  }

  /** {@code key, value, key, value, ...} as a raw option map. */
  static Map<String, Object> raw(String... keysAndValues) {
    Map<String, Object> m = new LinkedHashMap<>();
    for (int i = 0; i < keysAndValues.length; i += 2) {
      m.put(keysAndValues[i], keysAndValues[i + 1]);
    }
    return m;
  }

  static Options teacherOptions(String... keysAndValues) {
    return Options.parse("train-teacher", TrainTeacher.OPTIONS, raw(keysAndValues));
  }

  static Options scoreOptions(String... keysAndValues) {
    return Options.parse("score", ScoreImages.OPTIONS, raw(keysAndValues));
  }
}
