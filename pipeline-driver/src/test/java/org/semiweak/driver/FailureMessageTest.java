package org.semiweak.driver;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** What the CLI prints for a failure: the messages of the exception and its causes, without stack traces. */
class FailureMessageTest {
  @Test
  void stackTracesThatSparkPutsInsideItsMessagesAreLeftToTheLog() {
    // The shape of Spark's message when a task fails with a plain Java exception.
    String spark = "Job aborted due to stage failure: Task 0 in stage 3.0 failed 4 times, most recent failure:"
        + " Lost task 0.3 in stage 3.0 (TID 9) (127.0.0.1 executor driver): java.lang.IllegalStateException:"
        + " image fmnist-7 has 3 channels, expected 1\n"
        + "\tat org.semiweak.model.ImageTensors.decodePixels(ImageTensors.java:41)\n"
        + "\tat org.apache.spark.scheduler.Task.run(Task.scala:147)\n"
        + "\nDriver stacktrace:\n"
        + "\tat org.apache.spark.scheduler.DAGScheduler.failJobAndIndependentStages(DAGScheduler.scala:2856)\n";
    Exception failure = new RuntimeException("score failed", new IllegalStateException(spark,
        new IllegalStateException("image fmnist-7 has 3 channels, expected 1")));

    String printed = SemiweakCli.describe(failure);

    assertThat(printed).as("the messages are kept").startsWith("score failed\n  caused by: Job aborted due to stage failure")
        .contains("image fmnist-7 has 3 channels, expected 1")
        .endsWith("(the log above has the stack trace)");
    assertThat(printed).as("no stack frame, no driver stack trace").doesNotContain("\tat ").doesNotContain("Driver stacktrace");
    assertThat(printed.split("caused by:")).as("a cause already shown in an earlier message is not repeated").hasSize(2);
  }
}
