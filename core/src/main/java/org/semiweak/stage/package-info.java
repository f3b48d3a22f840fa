/** What the pipeline's stages share: reading the prepared dataset, training options, model stages. */
package org.semiweak.stage;
