package org.semiweak.data;

import java.util.HashMap;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.mapreduce.Job;
import org.apache.parquet.hadoop.ParquetOutputFormat;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.execution.datasources.OutputWriterFactory;
import org.apache.spark.sql.execution.datasources.parquet.ParquetFileFormat;
import org.apache.spark.sql.execution.datasources.parquet.ParquetWriteSupport;
import org.apache.spark.sql.types.StructType;

/**
 * Spark's Parquet data source, writing the {@link ParquetKeyValues} options into every file's
 * footer as key-value metadata. Everything else (schema, encodings, compression, reading) is
 * Spark's {@link ParquetFileFormat}. Use it through {@link ParquetKeyValues#save}.
 *
 * <p>It relies on Spark's writer taking its {@code WriteSupport} class from the job configuration
 * that {@code prepareWrite} fills (Spark 3 and 4 do); {@code ParquetKeyValuesTest} checks that the
 * metadata reaches the files.
 */
public class KeyValueParquetFormat extends ParquetFileFormat {
  private static final long serialVersionUID = 1L;

  @Override
  public OutputWriterFactory prepareWrite(SparkSession sparkSession, Job job,
      scala.collection.immutable.Map<String, String> options, StructType dataSchema) {
    OutputWriterFactory factory = super.prepareWrite(sparkSession, job, options, dataSchema);
    ParquetOutputFormat.setWriteSupportClass(job, WriteSupport.class);
    return factory;
  }

  @Override
  public String toString() {
    return "Parquet with key-value metadata";
  }

  /** Spark's row writer, with the {@link ParquetKeyValues#OPTION_PREFIX} options added to the footer. */
  public static class WriteSupport extends ParquetWriteSupport {
    @Override
    public WriteContext init(Configuration configuration) {
      WriteContext spark = super.init(configuration);
      Map<String, String> meta = new HashMap<>(spark.getExtraMetaData());
      // The raw values: Configuration.get would expand "${...}" inside a class name.
      for (Map.Entry<String, String> e : configuration) {
        if (e.getKey().startsWith(ParquetKeyValues.OPTION_PREFIX)) {
          meta.put(e.getKey().substring(ParquetKeyValues.OPTION_PREFIX.length()), e.getValue());
        }
      }
      return new WriteContext(spark.getSchema(), meta);
    }
  }
}
