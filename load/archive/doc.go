// Package archive is the auditors' view of kycetl's output: the
// raw API items of each day as zstd-compressed NDJSON, one Parquet file per
// table, day and run, and one JSON manifest per run listing every file with
// its rows, bytes and SHA-256. Every file is written under a temporary name
// and renamed into place, so a reader never sees half a file, and a run's
// files are made durable together (SyncGroup) before a manifest names them.
// The archive is append-only, and the current version of a partition is the
// newest run's file that completed (Current). Verify re-checks every file
// against its manifest. Prune deletes superseded versions past a retention
// limit, never a current one, and records what it deleted (pruned/), which
// Verify reads.
//
// Parquet is written with arrow-go's parquet/pqarrow rather than
// parquet-go: Arrow records are the in-memory tables, and pqarrow writes
// them column by column with no conversion to rows and no second Parquet
// implementation in the binary.
package archive
