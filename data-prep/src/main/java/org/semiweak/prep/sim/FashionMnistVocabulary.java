package org.semiweak.prep.sim;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.semiweak.data.Vocabulary;

/**
 * The built-in vocabulary of the Fashion-MNIST demo: the dataset's ten classes (in label order, as
 * documented by Zalando Research) and several realistic hashtags per class, so that many tags map to
 * one class as with real weak supervision.
 */
public final class FashionMnistVocabulary {
  /** The value of the {@code vocabulary} option that selects this vocabulary. */
  public static final String BUILTIN = "builtin:fashion-mnist";

  public static final List<String> CLASSES = List.of(
      "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot");

  private static final List<List<String>> HASHTAGS = List.of(
      List.of("#tshirt", "#tee", "#top", "#graphictee"),
      List.of("#trousers", "#pants", "#jeans", "#chinos"),
      List.of("#pullover", "#sweater", "#jumper", "#knitwear"),
      List.of("#dress", "#sundress", "#maxidress", "#gown"),
      List.of("#coat", "#jacket", "#parka", "#trenchcoat"),
      List.of("#sandals", "#sandal", "#flipflops", "#slides"),
      List.of("#shirt", "#buttondown", "#blouse", "#flannel"),
      List.of("#sneakers", "#trainers", "#kicks", "#runningshoes"),
      List.of("#bag", "#handbag", "#purse", "#tote"),
      List.of("#ankleboots", "#boots", "#booties", "#chelseaboots"));

  private FashionMnistVocabulary() {}

  public static Vocabulary vocabulary() {
    Map<String, Integer> tags = new LinkedHashMap<>();
    for (int c = 0; c < HASHTAGS.size(); c++) {
      for (String t : HASHTAGS.get(c)) {
        tags.put(t, c);
      }
    }
    return new Vocabulary(CLASSES, tags);
  }
}
