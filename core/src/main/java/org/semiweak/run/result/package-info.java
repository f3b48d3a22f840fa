/**
 * What each stage publishes: the typed result in its manifest ({@link org.semiweak.run.result.StageResult}),
 * and what later stages may rely on before it runs ({@link org.semiweak.run.result.Publication}).
 */
package org.semiweak.run.result;
