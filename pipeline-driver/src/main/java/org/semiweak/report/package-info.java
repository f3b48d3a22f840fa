/**
 * The {@code report} stage: one self-contained HTML page about a run ({@code report/index.html}),
 * drawn from what its stages committed, with the inline SVG charts of {@link org.semiweak.report.chart}.
 */
package org.semiweak.report;
