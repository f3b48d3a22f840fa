/** The evaluate stage: every model of a run on the test split, in one table. */
package org.semiweak.evaluate;
