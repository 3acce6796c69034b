// Package vocab holds the words and signs invoices are written with, for the generic
// extractor (worker/extract) and the template engine (worker/extract/templates) alike:
// currencies with their ISO codes, signs and names, and month names in the languages
// both read. One table per concept, so that the two cannot drift apart.
package vocab
