/**
 * Real-cluster test fixtures: a Spark standalone master and workers as separate JVMs on loopback,
 * an in-JVM HDFS, and {@code spark-submit} against them.
 *
 * <p>How application classes reach executors: the cluster's {@code SPARK_HOME/jars} holds links to
 * the library jars of the test classpath (Spark, Hadoop, Scala, DJL ...), like a cluster with those
 * installed. semiweak's own classes (class directories such as {@code target/classes}, and
 * {@code semiweak-*.jar} module jars) are not installed: a driver in the test JVM ships them with
 * {@code spark.jars = cluster.applicationJarsConf()}, and {@code spark-submit} ships the
 * application jar, as on a real cluster.
 */
package org.semiweak.testing.cluster;
