package org.semiweak.report.chart;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/**
 * The report's charts: each is one well-formed SVG document, draws one mark per value at its
 * scale, escapes every text it is given, and is the same string for the same input.
 */
class ChartsTest {
  static final List<String> CLASSES = List.of("T-shirt/top", "Trouser", "Pullover");

  /** Parses the chart as XML: any unescaped text or unclosed element fails here. */
  static Document parse(String svg) throws Exception {
    DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
    f.setNamespaceAware(true);
    Document d = f.newDocumentBuilder().parse(new ByteArrayInputStream(svg.getBytes(StandardCharsets.UTF_8)));
    assertThat(d.getDocumentElement().getLocalName()).as("the root element").isEqualTo("svg");
    assertThat(d.getDocumentElement().getNamespaceURI()).isEqualTo("http://www.w3.org/2000/svg");
    return d;
  }

  static List<Element> withClass(Document d, String tag, String cls) {
    NodeList all = d.getElementsByTagName(tag);
    List<Element> out = new ArrayList<>();
    for (int i = 0; i < all.getLength(); i++) {
      Element e = (Element) all.item(i);
      if (e.getAttribute("class").equals(cls)) {
        out.add(e);
      }
    }
    return out;
  }

  static double attr(Element e, String name) {
    return Double.parseDouble(e.getAttribute(name));
  }

  @Test
  void aBarChartDrawsOneBarPerValueScaledToTheAxisAndSkipsMissingValues() throws Exception {
    String svg = new BarChart("accuracy per class", CLASSES).valueAxis("top-1 %", "%").max(100)
        .series("test", new double[] {50, 100, 25})
        .series("validation", new double[] {40, Double.NaN, 20}).toSvg();
    Document d = parse(svg);
    assertThat(d.getDocumentElement().getAttribute("class")).isEqualTo("chart bar-chart");
    List<Element> bars = withClass(d, "rect", "bar");
    assertThat(bars).as("3 classes x 2 series, less the missing value").hasSize(5);
    List<Element> test = bars.stream().filter(b -> b.getAttribute("data-series").equals("0")).toList();
    double full = attr(test.get(1), "height");
    assertThat(attr(test.get(0), "height")).as("50 %% is half of 100 %%").isCloseTo(full / 2, org.assertj.core.data.Offset.offset(0.02));
    assertThat(attr(test.get(2), "height")).as("25 %% is a quarter").isCloseTo(full / 4, org.assertj.core.data.Offset.offset(0.02));
    assertThat(attr(test.get(0), "y") + attr(test.get(0), "height"))
        .as("bars stand on the same baseline").isCloseTo(attr(test.get(1), "y") + full, org.assertj.core.data.Offset.offset(0.02));
    assertThat(svg).contains(">T-shirt/top</text>").contains(">validation</text>").contains(">100%</text>");
  }

  @Test
  void aReferenceLineSitsAtItsValueAndTheAxisMaxIsARoundNumberAboveTheData() throws Exception {
    BarChart chart = new BarChart("selected per class", CLASSES).series("selected", new double[] {4000, 3100, 4000})
        .reference(4000, "K = 4,000");
    assertThat(chart.axisMax()).as("a round number at or above 4,000").isEqualTo(5000);
    Document d = parse(chart.toSvg());
    Element ref = withClass(d, "line", "reference").get(0);
    Element bar = withClass(d, "rect", "bar").get(0);
    assertThat(attr(ref, "y1")).as("the line is at the top of a bar of value K").isCloseTo(attr(bar, "y"),
        org.assertj.core.data.Offset.offset(0.02));
    assertThat(chart.toSvg()).contains(">K = 4,000</text>");
  }

  @Test
  void aHistogramDrawsOneBarPerBinProportionalToItsCount() throws Exception {
    Document d = parse(new Histogram("top-1 probability", 0, 1, new long[] {0, 10, 20, 40}).xTitle("p").toSvg());
    List<Element> bars = withClass(d, "rect", "bar");
    assertThat(bars).hasSize(4);
    assertThat(attr(bars.get(0), "height")).as("an empty bin").isZero();
    assertThat(attr(bars.get(3), "height")).isCloseTo(2 * attr(bars.get(2), "height"), org.assertj.core.data.Offset.offset(0.05));
    assertThat(attr(bars.get(2), "height")).isCloseTo(2 * attr(bars.get(1), "height"), org.assertj.core.data.Offset.offset(0.05));
    assertThat(attr(bars.get(1), "x")).as("bins side by side, left to right").isGreaterThan(attr(bars.get(0), "x"));
    assertThatThrownBy(() -> new Histogram("h", 1, 0, new long[] {1})).hasMessageContaining("lo < hi");
  }

  @Test
  void aLineChartDrawsOnePolylinePerSeriesThroughEveryPoint() throws Exception {
    Document d = parse(new LineChart("training loss", "round", "loss")
        .series("weak", new double[] {1, 2, 3}, new double[] {2.0, 1.0, 0.5})
        .series("labeled", new double[] {1, 2}, new double[] {0.8, 0.4}).toSvg());
    List<Element> lines = withClass(d, "polyline", "line");
    assertThat(lines).hasSize(2);
    String[] points = lines.get(0).getAttribute("points").split(" ");
    assertThat(points).hasSize(3);
    double y1 = Double.parseDouble(points[0].split(",")[1]);
    double y2 = Double.parseDouble(points[1].split(",")[1]);
    double y3 = Double.parseDouble(points[2].split(",")[1]);
    assertThat(y1).as("a higher loss is drawn higher (smaller y)").isLessThan(y2);
    assertThat(y3 - y2).as("loss 1.0 -> 0.5 drops half as far as 2.0 -> 1.0").isCloseTo((y2 - y1) / 2,
        org.assertj.core.data.Offset.offset(0.05));
    assertThat(withClass(d, "circle", "point")).as("every point marked").hasSize(5);
  }

  @Test
  void aHeatmapDrawsOneCellPerCountShadedByItsShareOfTheRow() throws Exception {
    long[][] confusion = {{8, 2, 0}, {0, 10, 0}, {5, 0, 5}};
    Document d = parse(new Heatmap("confusion", CLASSES, CLASSES, confusion).axes("true", "predicted").toSvg());
    List<Element> cells = withClass(d, "rect", "cell");
    assertThat(cells).hasSize(9);
    assertThat(cells.get(4).getAttribute("fill")).as("a whole row in one cell: the darkest shade")
        .isEqualTo(Heatmap.shade(1));
    assertThat(cells.get(2).getAttribute("fill")).as("an empty cell: white").isEqualTo("#ffffff");
    assertThat(cells.get(6).getAttribute("fill")).as("half of its row").isEqualTo(Heatmap.shade(0.5));
    assertThatThrownBy(() -> new Heatmap("x", CLASSES, CLASSES, new long[][] {{1}}))
        .hasMessageContaining("for 3 row labels");
  }

  @Test
  void everyTextIsEscapedSoThatNoLabelCanBreakThePageOrRunAScript() throws Exception {
    String evil = "<script>alert('x')</script> & \"quoted\"\u0001";
    List<String> names = List.of(evil, "b");
    List<String> svgs = List.of(
        new BarChart(evil, names).series(evil, new double[] {1, 2}).reference(1, evil).toSvg(),
        new Histogram(evil, 0, 1, new long[] {1, 2}).xTitle(evil).toSvg(),
        new LineChart(evil, evil, evil).series(evil, new double[] {1, 2}, new double[] {1, 2}).toSvg(),
        new Heatmap(evil, names, names, new long[][] {{1, 0}, {0, 1}}).axes(evil, evil).toSvg());
    for (String svg : svgs) {
      Document d = parse(svg);
      assertThat(svg).doesNotContain("<script").contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;quoted&quot;");
      assertThat(d.getElementsByTagName("script").getLength()).isZero();
      assertThat(d.getDocumentElement().getElementsByTagName("title").item(0).getTextContent())
          .as("the text reads as given, less the control character").isEqualTo(evil.replace("\u0001", ""));
    }
  }

  @Test
  void theSameInputGivesTheSameSvgOnEveryRun() {
    java.util.function.Supplier<String> chart = () -> new BarChart("a", CLASSES)
        .series("s", new double[] {1 / 3.0, 2 / 3.0, 1}).toSvg()
        + new LineChart("l", "x", "y").series("s", new double[] {0.1, 0.2}, new double[] {Math.PI, Math.E}).toSvg();
    java.util.Locale before = java.util.Locale.getDefault();
    try {
      String english = chart.get();
      java.util.Locale.setDefault(java.util.Locale.GERMANY);
      assertThat(chart.get()).as("no locale's decimal comma").isEqualTo(english);
    } finally {
      java.util.Locale.setDefault(before);
    }
  }

  @Test
  void longCategoryLabelsAreCutAtTheStartKeepingTheEndThatTellsThemApart() {
    String model = "student/semi-supervised/k4000-p2/finetune";
    assertThat(BarChart.label(model)).startsWith("…").endsWith("k4000-p2/finetune").hasSize(BarChart.MAX_LABEL);
    assertThat(BarChart.label("baseline")).isEqualTo("baseline");
    assertThat(new BarChart("t", List.of(model)).series("s", new double[] {1}).toSvg())
        .as("the full name stays in the bar's tooltip").contains(model + ": 1");
  }
}
