// Package sql holds the warehouse views, the BI contract: one
// file per view, in the subset of SQL that DuckDB and BigQuery share, with
// every table and view reference written {{table "name"}} so that each
// engine fills in its own names. Every indicator of the statistics page is defined
// once, in the submission_facts view, and the published views aggregate it.
//
// The shared subset: no "::" casts, COUNTIF, SAFE_DIVIDE, FILTER clauses or
// "//"; DATE 'YYYY-MM-DD' literals; CURRENT_DATE without parentheses; "/"
// divides as floating point in both engines.
//
// Beyond the subset's grammar, the views share three idioms: a day
// difference or a weekday comes from calendar_days (the engines write
// DATE_DIFF and the day of the week differently); a median is the mean of
// the values whose ROW_NUMBER rn, of k in their group, has 2 rn between k
// and k + 2; a nearest-rank percentile p is the smallest value with
// 100 rn >= 100p k (the engines share no percentile aggregate).
package sql
