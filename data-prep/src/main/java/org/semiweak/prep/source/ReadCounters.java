package org.semiweak.prep.source;

import java.io.Serializable;
import org.apache.spark.util.LongAccumulator;

/**
 * What reading tasks report for progress only: records produced and bytes of input read. Shipped in
 * task closures; the driver polls both ({@link org.semiweak.stage.SparkProgress}).
 */
public record ReadCounters(LongAccumulator records, LongAccumulator bytes) implements Serializable {
  /** One record produced, after reading {@code inputBytes} more bytes of input. */
  public void read(long inputBytes) {
    records.add(1);
    if (inputBytes > 0) {
      bytes.add(inputBytes);
    }
  }
}
