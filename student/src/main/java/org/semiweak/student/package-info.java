/** The student: pretraining on pseudo-labels, fine-tuning on the labeled set, the supervised baseline, evaluation. */
package org.semiweak.student;
