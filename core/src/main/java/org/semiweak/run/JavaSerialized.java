package org.semiweak.run;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.ObjectStreamClass;
import java.io.Serializable;
import java.io.UncheckedIOException;

/**
 * A value held as its Java serialization, for what Spark ships with {@code spark.serializer}
 * (broadcasts, parallelized collections, task results). Cluster configurations set that to Kryo
 * (deploy/conf's templates do), and Spark's Kryo cannot serialize Java records ("can't get field
 * offset on a record class"); a byte array it ships under any serializer.
 *
 * <pre>{@code
 * Broadcast<JavaSerialized<StageModel>> shipped = jsc.broadcast(JavaSerialized.of(model));
 * ... in a task: shipped.value().get()
 * }</pre>
 *
 * Spark keeps one deserialized broadcast value per executor, so {@link #get} deserializes once
 * per executor and broadcast, not once per task.
 */
public final class JavaSerialized<T extends Serializable> implements Serializable {
  private static final long serialVersionUID = 1L;

  private final byte[] bytes;
  private transient volatile T value;

  private JavaSerialized(byte[] bytes, T value) {
    this.bytes = bytes;
    this.value = value;
  }

  public static <T extends Serializable> JavaSerialized<T> of(T value) {
    ByteArrayOutputStream buffer = new ByteArrayOutputStream();
    try (ObjectOutputStream out = new ObjectOutputStream(buffer)) {
      out.writeObject(value);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot serialize a " + value.getClass().getName(), e);
    }
    return new JavaSerialized<>(buffer.toByteArray(), value);
  }

  /** The value; deserialized on first use in this JVM (classes from the thread's context class loader). */
  @SuppressWarnings("unchecked")
  public T get() {
    T v = value;
    if (v == null) {
      synchronized (this) {
        v = value;
        if (v == null) {
          try (ObjectInputStream in = new ContextClassLoaderInput(new ByteArrayInputStream(bytes))) {
            v = (T) in.readObject();
          } catch (IOException e) {
            throw new UncheckedIOException("cannot deserialize a shipped value of " + bytes.length + " bytes", e);
          } catch (ClassNotFoundException e) {
            throw new IllegalStateException("a shipped value's class is not on this JVM's classpath: " + e.getMessage(), e);
          }
          value = v;
        }
      }
    }
    return v;
  }

  /** The serialized size, in bytes. */
  public int size() {
    return bytes.length;
  }

  /**
   * Resolves classes with the thread's context class loader: on an executor that is the loader of
   * the application jar, which the default (the nearest user-defined loader on the stack) may not be.
   */
  private static final class ContextClassLoaderInput extends ObjectInputStream {
    ContextClassLoaderInput(InputStream in) throws IOException {
      super(in);
    }

    @Override
    protected Class<?> resolveClass(ObjectStreamClass desc) throws IOException, ClassNotFoundException {
      ClassLoader loader = Thread.currentThread().getContextClassLoader();
      if (loader == null) {
        return super.resolveClass(desc);
      }
      try {
        return Class.forName(desc.getName(), false, loader);
      } catch (ClassNotFoundException e) {
        return super.resolveClass(desc);
      }
    }
  }
}
