package org.semiweak.run;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.semiweak.run.result.Publication;
import org.semiweak.run.result.SelectionResult;

/**
 * On a store without an atomic directory rename (S3), a commit publishes by its manifest: the stage
 * writes into {@code <stage>/_data-<id>/}, the manifest naming that folder is the switch, and the
 * data it supersedes is deleted after. Shown here on a local folder with the mode forced; the
 * same protocol runs on S3 in {@code driver.S3RunDirectoryTest}.
 */
class PublishByManifestTest {
  private static final StageId SELECTION = RunLayout.selection("semi-weak", "k10-p1");

  @TempDir java.nio.file.Path tmp;

  private RunDir open(String mode) {
    Configuration conf = new Configuration();
    conf.set(RunDir.COMMIT_MODE_KEY, mode);
    return RunDir.open(tmp.resolve("run").toUri().toString(), conf);
  }

  @Test
  void objectStoresPublishByManifestAndLocalDisksAndHdfsRename() throws Exception {
    Configuration auto = new Configuration();
    assertThat(RunDir.publishesByManifest(FileSystem.getLocal(auto), auto)).as("file:").isFalse();
    assertThat(open("manifest").publishesByManifest()).isTrue();
    assertThat(open("rename").publishesByManifest()).isFalse();
    assertThatThrownBy(() -> open("copy")).hasMessageContaining(RunDir.COMMIT_MODE_KEY + " is 'copy'");
  }

  @Test
  void theFilesAreWrittenInPlaceAndBecomeVisibleThroughTheManifestThatNamesThem() throws Exception {
    RunDir run = open("manifest");
    StageWriter w = run.begin(SELECTION);
    assertThat(w.tempDir().getParent()).as("written inside the stage folder, not under _tmp")
        .isEqualTo(run.stagePath(SELECTION));
    assertThat(w.tempDir().getName()).startsWith(RunLayout.DATA_PREFIX);
    write(run, w.temp("part-0"), "rows");
    assertThat(run.committed(SELECTION)).as("no manifest yet: not committed").isEmpty();
    assertThat(run.status(SELECTION, false).orElseThrow().state()).isEqualTo(StageStatus.State.LEFTOVER);

    StageManifest m = w.commit(plan(), output());
    assertThat(m.data()).isEqualTo(w.tempDir().getName());
    assertThat(run.dataPath(SELECTION)).isEqualTo(w.tempDir());
    assertThat(read(run, new Path(run.dataPath(SELECTION), "part-0"))).isEqualTo("rows");
    assertThat(run.status(SELECTION, true).orElseThrow().state()).as("files checked in the data folder")
        .isEqualTo(StageStatus.State.COMMITTED);
    assertThat(run.fs().exists(run.layout().tmpRoot())).as("nothing under _tmp").isFalse();
    assertThat(run.planPath(SELECTION)).isEqualTo(new Path(w.tempDir(), RunLayout.PLAN_FILE));
  }

  @Test
  void anAttemptThatDiesBeforeItsCommitChangesNothingReadersSeeAndTheNextCommitRemovesIt() throws Exception {
    RunDir run = open("manifest");
    StageManifest first = commit(run, "part-0", "old rows");
    Path firstData = run.dataPath(SELECTION);

    StageWriter dead = run.begin(SELECTION); // killed after writing: never committed, never closed
    write(run, dead.temp("part-0"), "half");

    assertThat(run.committed(SELECTION).orElseThrow().commit()).isEqualTo(first.commit());
    assertThat(run.dataPath(SELECTION)).isEqualTo(firstData);
    assertThat(read(run, new Path(firstData, "part-0"))).isEqualTo("old rows");
    assertThat(run.status(SELECTION, true).orElseThrow().state()).as("the dead attempt's folder is beside, not in, the data")
        .isEqualTo(StageStatus.State.COMMITTED);

    StageManifest second = commit(run, "part-1", "new rows");
    assertThat(run.committed(SELECTION).orElseThrow().commit()).isEqualTo(second.commit());
    assertThat(read(run, new Path(run.dataPath(SELECTION), "part-1"))).isEqualTo("new rows");
    assertThat(names(run, run.stagePath(SELECTION))).as("the manifest and the new data folder, nothing else")
        .containsExactlyInAnyOrder(RunLayout.MANIFEST, second.data());
  }

  @Test
  void aRunCommittedByRenameIsReadAndReplacedByManifestCommits() throws Exception {
    StageManifest renamed = commit(open("rename"), "part-0", "old rows");
    assertThat(renamed.data()).isNull();

    RunDir run = open("manifest");
    assertThat(run.dataPath(SELECTION)).as("files in the stage folder itself").isEqualTo(run.stagePath(SELECTION));
    assertThat(run.status(SELECTION, true).orElseThrow().state()).isEqualTo(StageStatus.State.COMMITTED);

    StageManifest published = commit(run, "part-1", "new rows");
    assertThat(names(run, run.stagePath(SELECTION))).as("the renamed commit's files are superseded and deleted")
        .containsExactlyInAnyOrder(RunLayout.MANIFEST, published.data());
  }

  @Test
  void aDeletedStageLeavesNothing() throws Exception {
    RunDir run = open("manifest");
    commit(run, "part-0", "rows");
    run.delete(SELECTION);
    assertThat(run.committed(SELECTION)).isEmpty();
    assertThat(run.fs().exists(run.stagePath(SELECTION))).isFalse();
  }

  private static StagePlan plan() {
    return StagePlan.builder(SELECTION, Map.of("k", 10)).publishes(new Publication.Selection(10, 1)).build();
  }

  private static StageOutput output() {
    return new StageOutput(Map.of("in", 3L, "selected", 3L), new SelectionResult(10, 1, null, 0, List.of(), 0, 0));
  }

  private static StageManifest commit(RunDir run, String file, String content) throws Exception {
    StageWriter w = run.begin(SELECTION);
    write(run, w.temp(file), content);
    return w.commit(plan(), output());
  }

  private static void write(RunDir run, Path p, String content) throws Exception {
    try (OutputStream out = run.fs().create(p)) {
      out.write(content.getBytes(StandardCharsets.UTF_8));
    }
  }

  private static String read(RunDir run, Path p) throws Exception {
    try (var in = run.fs().open(p)) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  /** The entries of a folder, without Hadoop's .crc side files. */
  private static List<String> names(RunDir run, Path dir) throws Exception {
    FileStatus[] all = run.fs().listStatus(dir);
    return Arrays.stream(all).map(st -> st.getPath().getName()).filter(n -> !n.endsWith(".crc")).toList();
  }
}
