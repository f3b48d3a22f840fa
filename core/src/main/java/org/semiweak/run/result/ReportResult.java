package org.semiweak.run.result;

import java.util.List;

/**
 * What the report stage wrote: one self-contained HTML page about the run's other stages.
 *
 * @param page the page, relative to the run directory ({@code report/index.html})
 * @param bytes its size
 * @param sections the titles of the sections it shows, in page order
 * @param omitted the sections it left out, each with the reason (e.g. no scores committed yet)
 * @param charts inline SVG charts on the page
 * @param stages the stages it reports on, in path order
 */
public record ReportResult(String page, long bytes, List<String> sections, List<String> omitted, int charts,
    List<String> stages) implements StageResult {

  public ReportResult {
    sections = List.copyOf(sections);
    omitted = List.copyOf(omitted);
    stages = List.copyOf(stages);
  }

  @Override
  public Publication.Report publication() {
    return new Publication.Report();
  }
}
