// Package transform flattens raw ARGOS submission items into Arrow records,
// one stream of records per table ARGOS declares (argos.Tables), built
// with the machinery of package schema.
//
// The schema's JSON paths are compiled once into a trie per row scope (the
// submission, or one element of a child array). Walking an item visits each
// key once: a declared leaf becomes a column value, a declared array or
// object becomes child rows, and anything undeclared is kept in the row's
// extra column as JSON. A value that cannot be coerced to its column's type
// becomes NULL, is counted by path and reason, and is kept in extra, so
// nothing is lost. An item that is not a submission at all goes to the
// quarantine table with its exact bytes.
package transform
