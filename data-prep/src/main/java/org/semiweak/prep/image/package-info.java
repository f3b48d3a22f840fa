/** Image decoding with safety checks (format sniffing, decompression-bomb guard), canonicalization and PNG encoding. */
package org.semiweak.prep.image;
