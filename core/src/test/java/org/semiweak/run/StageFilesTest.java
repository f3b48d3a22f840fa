package org.semiweak.run;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.RawLocalFileSystem;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StageFilesTest {
  @TempDir Path dir;

  /**
   * What an object store shows after a Spark job commit on S3A: a folder is a prefix of keys, and
   * the committer's deleted scratch folder may still be listed under its parent, then be gone.
   */
  static final class ObjectStoreLikeFileSystem extends RawLocalFileSystem {
    @Override
    public FileStatus[] listStatus(org.apache.hadoop.fs.Path f) throws IOException {
      if (f.getName().equals("vanishing")) {
        delete(f, true);
        throw new FileNotFoundException("No such file or directory: " + f);
      }
      return super.listStatus(f);
    }
  }

  @Test
  void committerScratchFoldersAndFoldersThatVanishWhileListedAreNotPartOfTheOutput() throws IOException {
    Files.createDirectories(dir.resolve("quarantine/_temporary/0"));
    Files.writeString(dir.resolve("quarantine/_temporary/0/part-00000.txt"), "an uncommitted task's file");
    Files.createDirectories(dir.resolve("labeled/vanishing"));
    Files.writeString(dir.resolve("labeled/part-00000.txt"), "rows");
    Files.writeString(dir.resolve("notes.txt"), "kept");
    ObjectStoreLikeFileSystem fs = new ObjectStoreLikeFileSystem();
    fs.initialize(java.net.URI.create("file:///"), new Configuration());

    assertThat(StageFiles.list(fs, new org.apache.hadoop.fs.Path(dir.toUri())))
        .extracting(StageFile::path)
        .containsExactly("labeled/part-00000.txt", "notes.txt");
  }
}
