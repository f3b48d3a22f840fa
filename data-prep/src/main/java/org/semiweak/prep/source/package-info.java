/** The raw-image sources of data-prep: each turns its input into candidate rows on Spark executors. */
package org.semiweak.prep.source;
