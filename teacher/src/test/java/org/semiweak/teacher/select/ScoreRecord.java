package org.semiweak.teacher.select;

import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;

/** One row of scores as plain Java, for building test inputs and the brute-force reference. */
record ScoreRecord(String imageId, int[] classes, float[] probs, int[] tagClasses) {

  Row toRow() {
    return RowFactory.create(imageId, boxed(classes), boxed(probs), tagClasses == null ? null : boxed(tagClasses),
        null, "test-model");
  }

  static List<Integer> boxed(int[] values) {
    if (values == null) {
      return null;
    }
    List<Integer> out = new ArrayList<>();
    for (int v : values) {
      out.add(v);
    }
    return out;
  }

  static List<Float> boxed(float[] values) {
    if (values == null) {
      return null;
    }
    List<Float> out = new ArrayList<>();
    for (float v : values) {
      out.add(v);
    }
    return out;
  }
}
