package org.apache.hadoop.fs;

import java.io.IOException;
import java.io.OutputStream;
import java.net.URI;
import org.apache.hadoop.fs.permission.FsPermission;
import org.apache.hadoop.util.Progressable;

/**
 * The local file system under the scheme {@code fulldisk:}, whose disk fills up when a stage
 * manifest is written: writing it throws Hadoop's {@link FSError}, as {@link RawLocalFileSystem}
 * does for "No space left on device". In this package because FSError's constructor is.
 */
public class FullDiskFileSystem extends RawLocalFileSystem {
  @Override
  public URI getUri() {
    return URI.create("fulldisk:///");
  }

  @Override
  public String getScheme() {
    return "fulldisk";
  }

  @Override
  public FSDataOutputStream create(Path f, FsPermission permission, boolean overwrite, int bufferSize,
      short replication, long blockSize, Progressable progress) throws IOException {
    return isManifest(f) ? full() : super.create(f, permission, overwrite, bufferSize, replication, blockSize, progress);
  }

  @Override
  public FSDataOutputStream create(Path f, boolean overwrite, int bufferSize, short replication, long blockSize,
      Progressable progress) throws IOException {
    return isManifest(f) ? full() : super.create(f, overwrite, bufferSize, replication, blockSize, progress);
  }

  /** The manifest and its temporary name ({@code ._MANIFEST.json.tmp-…}). */
  private static boolean isManifest(Path f) {
    return f.getName().contains("_MANIFEST.json");
  }

  private FSDataOutputStream full() throws IOException {
    OutputStream full = new OutputStream() {
      @Override
      public void write(int b) {
        throw new FSError(new IOException("No space left on device"));
      }

      @Override
      public void write(byte[] b, int off, int len) {
        throw new FSError(new IOException("No space left on device"));
      }
    };
    return new FSDataOutputStream(full, statistics);
  }
}
