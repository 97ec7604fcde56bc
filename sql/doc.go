// Package sql holds the warehouse views, the BI contract: one
// file per view, in the subset of SQL that DuckDB and BigQuery share, with
// every table and view reference written {{table "name"}} so that each
// engine fills in its own names. Every indicator of the statistics page is defined
// once, in the submission_facts view, and the published views aggregate it.
//
// The shared subset: no "::" casts, COUNTIF, SAFE_DIVIDE, FILTER clauses or
// "//"; DATE 'YYYY-MM-DD' literals; CURRENT_DATE without parentheses; "/"
// divides as floating point in both engines.
package sql
