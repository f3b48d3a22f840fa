import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.File;

/**
 * Parses each YAML file named on the command line (every document in it) with jackson-dataformat-yaml
 * and checks that each document is a Kubernetes object; check.sh's fallback when PyYAML is missing.
 * Run as a single source file: java -cp "$(cat deploy/target/classpath.txt)" CheckYaml.java FILE...
 */
public class CheckYaml {
  public static void main(String[] args) throws Exception {
    ObjectMapper yaml = new ObjectMapper(new YAMLFactory());
    int bad = 0;
    for (String path : args) {
      int docs = 0;
      try (MappingIterator<JsonNode> it = yaml.readerFor(JsonNode.class).readValues(new File(path))) {
        while (it.hasNext()) {
          JsonNode doc = it.next();
          if (doc == null || doc.isNull() || doc.isMissingNode()) {
            continue;
          }
          docs++;
          if (!doc.has("apiVersion") || !doc.has("kind")) {
            System.out.println(path + ": document " + docs + " is not a Kubernetes object (no apiVersion/kind)");
            bad++;
          }
        }
      } catch (Exception e) {
        System.out.println(path + ": " + e.getMessage());
        bad++;
        continue;
      }
      System.out.println(path + ": " + docs + " document(s)");
    }
    System.exit(bad == 0 ? 0 : 1);
  }
}
