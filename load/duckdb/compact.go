package duckdb

import (
	"context"
	gosql "database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/kycetl/kycetl/load"
	"github.com/kycetl/kycetl/load/archive"
)

// Compaction. Every partition is one Parquet file per table and day, so a
// year of one project is some 5,800 files of a few KB, and a reader opens
// every one of them (docs/benchmarks.md: stats_daily over a year 2.3–2.9×
// slower than over one file per month). Compact writes, for each table,
// project and month wholly before a cutoff, one file holding the rows of
// the month's current day files, outside the archive (<dir>/compacted/: the
// day files stay the archive's truth, verify and prune never see these),
// and records which day file of which day it holds (compacted_days). The
// views read a month file in place of its day files only while every day
// it holds still has that same current file: a day replaced since (a
// re-run, an import, a rebuild) makes the views read that month's day files
// again, until the month is compacted anew.

// compactedTable records the days each compacted file holds.
const compactedTable = "compacted_days"

const compactedTableDDL = `CREATE TABLE IF NOT EXISTS ` + compactedTable + ` (
  table_name VARCHAR NOT NULL,
  project VARCHAR NOT NULL,
  created_date DATE NOT NULL,
  path VARCHAR NOT NULL,
  compacted VARCHAR NOT NULL
)`

// CompactedDir is the directory, beside the warehouse file, of the
// compacted month files.
const CompactedDir = "compacted"

// compactedVersion labels compacted files in the views' file lists (which
// group files by schema version); a compacted file is read by column name,
// like every list.
const compactedVersion = "compacted"

const (
	viewFilesQuery      = "SELECT table_name, project, CAST(created_date AS VARCHAR), path, schema_version FROM " + filesTable + " ORDER BY table_name, schema_version, project, created_date"
	compactedDaysQuery  = "SELECT table_name, project, CAST(created_date AS VARCHAR), path, compacted FROM " + compactedTable + " ORDER BY compacted, created_date"
	hasCompactedDaysSQL = "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' AND table_name = '" + compactedTable + "'"
)

// stringsQuery runs a query of text columns and returns its rows.
type stringsQuery func(ctx context.Context, query string) ([][]string, error)

// txStrings is stringsQuery over a transaction.
func txStrings(tx *gosql.Tx) stringsQuery {
	return func(ctx context.Context, query string) ([][]string, error) {
		rows, err := tx.QueryContext(ctx, query)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		cols, err := rows.Columns()
		if err != nil {
			return nil, err
		}
		var out [][]string
		for rows.Next() {
			row := make([]string, len(cols))
			dest := make([]any, len(cols))
			for i := range row {
				dest[i] = &row[i]
			}
			if err := rows.Scan(dest...); err != nil {
				return nil, err
			}
			out = append(out, row)
		}
		return out, rows.Err()
	}
}

type dayKey struct{ table, project, day string }

// viewFiles lists the files the table views read: the current day files,
// except those a valid compacted file holds, then the valid compacted
// files. A compacted file is valid while every day it holds still has the
// day file it was made from.
func (w *Warehouse) viewFiles(ctx context.Context, q stringsQuery) ([]currentFile, error) {
	days, err := q(ctx, viewFilesQuery)
	if err != nil {
		return nil, fmt.Errorf("listing the current files: %w", err)
	}
	var held [][]string
	if has, err := q(ctx, hasCompactedDaysSQL); err != nil {
		return nil, fmt.Errorf("looking for table %s: %w", compactedTable, err)
	} else if len(has) > 0 {
		if held, err = q(ctx, compactedDaysQuery); err != nil {
			return nil, fmt.Errorf("listing the compacted files: %w", err)
		}
	}
	current := make(map[dayKey]string, len(days))
	for _, d := range days {
		current[dayKey{d[0], d[1], d[2]}] = d[3]
	}
	valid, covered := validCompacted(held, current)
	var out []currentFile
	for _, d := range days {
		if !covered[dayKey{d[0], d[1], d[2]}] {
			out = append(out, currentFile{table: d[0], version: d[4], path: w.abs(d[3])})
		}
	}
	for _, c := range valid {
		out = append(out, currentFile{table: c.table, version: compactedVersion, path: w.abs(c.path)})
	}
	return out, nil
}

// compactedFile is one valid compacted file.
type compactedFile struct{ table, path string }

// validCompacted sorts the compacted files (rows of compactedDaysQuery)
// into the valid ones, in order, and the days they cover.
func validCompacted(held [][]string, current map[dayKey]string) ([]compactedFile, map[dayKey]bool) {
	stale := map[string]bool{}
	for _, h := range held {
		if current[dayKey{h[0], h[1], h[2]}] != h[3] {
			stale[h[4]] = true
		}
	}
	covered := map[dayKey]bool{}
	var valid []compactedFile
	for _, h := range held {
		if stale[h[4]] {
			continue
		}
		covered[dayKey{h[0], h[1], h[2]}] = true
		if len(valid) == 0 || valid[len(valid)-1].path != h[4] {
			valid = append(valid, compactedFile{table: h[0], path: h[4]})
		}
	}
	return valid, covered
}

var _ load.Compactor = (*Warehouse)(nil)

// monthFile is a month file written, with the days it holds.
type monthFile struct {
	load.CompactedMonth
	keys []dayKey
}

// Compact writes one file per table, project and month whose days all lie
// before the cutoff day, for the months of at least two day files not
// compacted already (or compacted before one of their days was replaced),
// and points the views at them; readers see them once published. Compacted
// files no view reads any more (made stale by a replaced day and compacted
// anew) are removed first: a reader still holding a catalog published
// before the previous compaction reads them, and must reopen.
func (w *Warehouse) Compact(ctx context.Context, before time.Time) ([]load.CompactedMonth, error) {
	if err := w.writable("compacting"); err != nil {
		return nil, err
	}
	q := func(ctx context.Context, query string) ([][]string, error) {
		tx, err := w.db.BeginTx(ctx, nil)
		if err != nil {
			return nil, err
		}
		defer tx.Rollback() //nolint:errcheck // it only read
		return txStrings(tx)(ctx, query)
	}
	days, err := q(ctx, viewFilesQuery)
	if err != nil {
		return nil, fmt.Errorf("compacting: listing the current files: %w", err)
	}
	held, err := q(ctx, compactedDaysQuery)
	if err != nil {
		return nil, fmt.Errorf("compacting: listing the compacted files: %w", err)
	}
	if err := w.removeStaleCompacted(held); err != nil {
		return nil, err
	}
	current := make(map[dayKey]string, len(days))
	for _, d := range days {
		current[dayKey{d[0], d[1], d[2]}] = d[3]
	}
	_, covered := validCompacted(held, current)

	type monthKey struct{ table, project, month string }
	groups := map[monthKey][]dayKey{}
	var keys []monthKey
	cutoff := before.UTC().Format(time.DateOnly)
	for _, d := range days {
		k := dayKey{d[0], d[1], d[2]}
		m := monthKey{d[0], d[1], d[2][:7]}
		if _, seen := groups[m]; !seen {
			keys = append(keys, m)
		}
		groups[m] = append(groups[m], k)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		return a.table < b.table || a.table == b.table && (a.project < b.project || a.project == b.project && a.month < b.month)
	})
	var written []monthFile
	var errs []error
	for _, m := range keys {
		ks := groups[m]
		start, _ := time.Parse("2006-01", m.month)
		if start.AddDate(0, 1, 0).Format(time.DateOnly) > cutoff || len(ks) < 2 {
			continue // not wholly before the cutoff, or nothing to merge
		}
		all := true
		for _, k := range ks {
			all = all && covered[k]
		}
		if all {
			continue
		}
		if err := ctx.Err(); err != nil {
			errs = append(errs, err)
			break
		}
		c, err := w.writeMonth(ctx, m.table, m.project, m.month, ks, current)
		if err != nil {
			errs = append(errs, fmt.Errorf("compacting %s of project %s, %s: %w", m.table, m.project, m.month, err))
			continue
		}
		written = append(written, c)
	}
	if len(written) == 0 {
		return nil, errors.Join(errs...)
	}
	if err := w.recordCompacted(ctx, written, current); err != nil {
		for _, c := range written {
			_ = os.Remove(c.Path)
		}
		return nil, errors.Join(append(errs, fmt.Errorf("compacting: recording %d month files: %w", len(written), err))...)
	}
	done := make([]load.CompactedMonth, len(written))
	for i, m := range written {
		done[i] = m.CompactedMonth
	}
	return done, errors.Join(errs...)
}

// writeMonth writes one month's file, durably, under CompactedDir.
func (w *Warehouse) writeMonth(ctx context.Context, table, project, month string, days []dayKey, current map[dayKey]string) (monthFile, error) {
	dir := filepath.Join(w.base, CompactedDir, table, "project="+project, "month="+month)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return monthFile{}, err
	}
	path := filepath.Join(dir, time.Now().UTC().Format("20060102T150405.000000000Z")+".parquet")
	tmp := archive.TempPath(path)
	list := make([]string, len(days))
	for i, k := range days {
		list[i] = sqlString(w.abs(current[k]))
	}
	// The files are read as they are (time zones included) and by column
	// name: a month may hold days of several schema versions.
	copySQL := "COPY (SELECT * FROM read_parquet([" + strings.Join(list, ", ") + "], union_by_name = true)) TO " + sqlString(tmp) +
		" (FORMAT parquet, COMPRESSION zstd)"
	if _, err := w.db.ExecContext(ctx, copySQL); err != nil {
		_ = os.Remove(tmp)
		return monthFile{}, err
	}
	if err := archive.ReplaceFile(tmp, path); err != nil {
		return monthFile{}, err
	}
	return monthFile{load.CompactedMonth{Table: table, Project: project, Month: month, Days: len(days), Path: path}, days}, nil
}

// recordCompacted records the month files written, in place of what
// compacted_days said of their months, and re-points the views, in one
// transaction; readers see them once it is published.
func (w *Warehouse) recordCompacted(ctx context.Context, months []monthFile, current map[dayKey]string) error {
	err := w.inTx(ctx, func(tx *gosql.Tx) error {
		var rows []dayKey
		for _, m := range months {
			if _, err := tx.ExecContext(ctx, "DELETE FROM "+compactedTable+" WHERE table_name = ? AND project = ? AND strftime(created_date, '%Y-%m') = ?",
				m.Table, m.Project, m.Month); err != nil {
				return err
			}
			rows = append(rows, m.keys...)
		}
		file := map[dayKey]string{}
		for _, m := range months {
			for _, k := range m.keys {
				file[k] = w.relative(m.Path)
			}
		}
		err := inChunks(rows, func(chunk []dayKey) error {
			args := make([]any, 0, 5*len(chunk))
			for _, k := range chunk {
				args = append(args, k.table, k.project, k.day, current[k], file[k])
			}
			_, err := tx.ExecContext(ctx, "INSERT INTO "+compactedTable+" VALUES "+valuesOf("(?, ?, CAST(? AS DATE), ?, ?)", len(chunk)), args...)
			return err
		})
		if err != nil {
			return err
		}
		return w.pointViews(ctx, tx)
	})
	if err != nil {
		return err
	}
	return w.publish(ctx)
}

// removeStaleCompacted removes the files under CompactedDir that no row of
// compacted_days names (held), and unfinished temporary files.
func (w *Warehouse) removeStaleCompacted(held [][]string) error {
	named := map[string]bool{}
	for _, h := range held {
		named[w.abs(h[4])] = true
	}
	root := filepath.Join(w.base, CompactedDir)
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil || d.IsDir() || named[path] {
			return err
		}
		return os.Remove(path)
	})
	if err != nil {
		return fmt.Errorf("compacting: removing compacted files no view reads: %w", err)
	}
	return nil
}
