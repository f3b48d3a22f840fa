/**
 * Pseudo-label selection: for every class, the top-K images by teacher score among the images that
 * have the class in their top-P predictions (Yalniz et al. 2019), with {@link
 * org.semiweak.teacher.select.SelectTopK} as the stage and {@link
 * org.semiweak.teacher.select.WindowTopK} as the plain Spark baseline of the same semantics.
 */
package org.semiweak.teacher.select;
