package stats

import (
	gosql "database/sql"
)

// Dialect is what the readers' queries spell differently on each warehouse
// engine; everything else they write in the SQL both DuckDB and BigQuery
// (GoogleSQL) accept: CAST(... AS STRING) and CAST(... AS BIGINT), UNION
// DISTINCT, SELECT * REPLACE, INTERVAL (n) HOUR, GROUP BY output names, and
// NULLs ordered last by "x IS NULL, x" (the engines' defaults differ).
// Table and view names are bare on both: BigQuery's reader runs each query
// with the warehouse's dataset as the default. load/bigquery's tests parse
// every query of the BigQuery dialect as GoogleSQL.
type Dialect struct {
	name string
	// marker is the prefix of a named query parameter.
	marker string
	// localParts are the ISO weekday (1 Monday .. 7 Sunday) and the hour,
	// as BIGINT, of utc (a TIMESTAMP expression of a UTC time, DuckDB's
	// without a zone) in the time zone of the parameter tz (a marked
	// parameter).
	localParts func(utc, tz string) (weekday, hour string)
}

var (
	// DuckDB is the dialect of the DuckDB warehouse: $name parameters and
	// DuckDB's time-zone functions (ICU).
	DuckDB = Dialect{name: "DuckDB", marker: "$", localParts: func(utc, tz string) (string, string) {
		local := "timezone(" + tz + ", timezone('UTC', " + utc + "))"
		return "CAST(ISODOW(" + local + ") AS BIGINT)", "CAST(EXTRACT(HOUR FROM " + local + ") AS BIGINT)"
	}}
	// BigQuery is the dialect of the BigQuery warehouse: @name parameters
	// and FORMAT_TIMESTAMP with a time zone (%u is the ISO weekday).
	BigQuery = Dialect{name: "BigQuery", marker: "@", localParts: func(utc, tz string) (string, string) {
		return "CAST(FORMAT_TIMESTAMP('%u', " + utc + ", " + tz + ") AS BIGINT)", "CAST(FORMAT_TIMESTAMP('%H', " + utc + ", " + tz + ") AS BIGINT)"
	}}
)

// String names the engine.
func (d Dialect) String() string { return d.name }

// param is the marker of the named parameter name, given with
// gosql.Named(name, ...).
func (d Dialect) param(name string) string { return d.marker + name }

// On pairs a database/sql handle on a warehouse with the dialect of its
// engine.
func (d Dialect) On(db *gosql.DB) DB { return DB{DB: db, Dialect: d} }

// DB is a warehouse the readers read: a database/sql handle on it (DuckDB's
// own connection, or load/bigquery's query jobs) and its engine's dialect.
type DB struct {
	*gosql.DB
	Dialect Dialect
}
