package org.semiweak.run;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.Serializable;
import java.util.List;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Under the Kryo serializer that cluster configurations set, Spark cannot broadcast a Java record;
 * wrapped in {@link JavaSerialized} it can, and executors see the value that was broadcast.
 */
class JavaSerializedTest {
  /** A record, as semiweak's model metadata is (StageModel.TorchScriptInfo). */
  record Shipment(String name, int channels, float[] mean) implements Serializable {}

  static SparkSession spark;
  static JavaSparkContext jsc;

  @BeforeAll
  static void start() {
    spark = SparkSession.builder().master("local[2]").appName("JavaSerializedTest")
        .config("spark.ui.enabled", "false")
        .config("spark.serializer", "org.apache.spark.serializer.KryoSerializer")
        .getOrCreate();
    jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
  }

  @AfterAll
  static void stop() {
    spark.stop();
  }

  @Test
  void kryoCannotBroadcastARecord() {
    Shipment s = new Shipment("teacher", 3, new float[] {0.5f, 0.25f, 0.125f});
    assertThatThrownBy(() -> jsc.broadcast(s))
        .as("why JavaSerialized exists: Spark's Kryo and Java records")
        .hasStackTraceContaining("record");
  }

  @Test
  void aWrappedRecordIsBroadcastAndReadInTasks() {
    Shipment s = new Shipment("teacher", 3, new float[] {0.5f, 0.25f, 0.125f});
    Broadcast<JavaSerialized<Shipment>> shipped = jsc.broadcast(JavaSerialized.of(s));
    try {
      List<String> seen = jsc.parallelize(List.of(1, 2, 3, 4), 4)
          .map(i -> {
            Shipment v = shipped.value().get();
            return v.name() + "/" + v.channels() + "/" + v.mean()[2];
          })
          .collect();
      assertThat(seen).as("every task reads the broadcast record").containsOnly("teacher/3/0.125").hasSize(4);
    } finally {
      shipped.destroy();
    }
  }

  @Test
  void getDeserializesOnceAndKeepsTheValue() {
    JavaSerialized<Shipment> wrapped = JavaSerialized.of(new Shipment("a", 1, new float[] {1f}));
    JavaSerialized<Shipment> copy = roundTrip(wrapped);
    assertThat(copy.get()).as("the same object on every call").isSameAs(copy.get());
    assertThat(copy.get().name()).isEqualTo("a");
    assertThat(copy.size()).isPositive();
  }

  @SuppressWarnings("unchecked")
  private static <T> T roundTrip(T value) {
    try {
      var buffer = new java.io.ByteArrayOutputStream();
      try (var out = new java.io.ObjectOutputStream(buffer)) {
        out.writeObject(value);
      }
      try (var in = new java.io.ObjectInputStream(new java.io.ByteArrayInputStream(buffer.toByteArray()))) {
        return (T) in.readObject();
      }
    } catch (java.io.IOException | ClassNotFoundException e) {
      throw new AssertionError(e);
    }
  }
}
