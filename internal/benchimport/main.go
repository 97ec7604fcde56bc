// Command benchimport measures kycetl's import and rebuild against the peer a
// data engineer would reach for instead: DuckDB's read_json over the same
// NDJSON file, the submissions and three of their child arrays written as
// zstd Parquet, with the Go driver kycetl already uses. Each side runs in its
// own process (so that each peak RSS is its own), the two alternate within
// every round (the machine's disk is noisy), and the ratios are printed per
// round with their spread:
//
//	go build -o /tmp/kycetl ./cmd/kycetl
//	go run ./internal/benchimport -kycetl /tmp/kycetl -rounds 3 corpus.ndjson
//
// A ratio is DuckDB's wall time over kycetl's: above 1, kycetl is faster.
package main

import (
	"context"
	gosql "database/sql"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"
)

// duckdbSide is the flag that makes this program DuckDB's side, in a child
// process of its own.
const duckdbSide = "duckdb-side"

// peerSQL is DuckDB's side: read_json with its type detection over the whole
// file, materialised once, then four tables copied out as zstd Parquet: the
// submissions' scalars and objects, and one row per element of three arrays.
var peerSQL = []string{
	`CREATE TABLE items AS SELECT * FROM read_json('%[1]s', format = 'newline_delimited', sample_size = 20480, maximum_object_size = 67108864)`,
	`COPY (SELECT * EXCLUDE (kyc, signals), kyc.result AS kyc_result FROM items) TO '%[2]s/submissions.parquet' (FORMAT parquet, COMPRESSION zstd)`,
	`COPY (SELECT submission_id, unnest(kyc.attempts, recursive := true) FROM items) TO '%[2]s/kyc_attempts.parquet' (FORMAT parquet, COMPRESSION zstd)`,
	`COPY (SELECT submission_id, unnest(signals.cameraProcessInfo, recursive := true) FROM items) TO '%[2]s/camera_processes.parquet' (FORMAT parquet, COMPRESSION zstd)`,
	`COPY (SELECT submission_id, unnest(signals.faceAge, recursive := true) FROM items) TO '%[2]s/face_age_signals.parquet' (FORMAT parquet, COMPRESSION zstd)`,
}

func main() {
	kycetl := flag.String("kycetl", "", "the kycetl binary to measure")
	rounds := flag.Int("rounds", 3, "rounds; each runs both sides, alternating which goes first")
	side := flag.Bool(duckdbSide, false, "run DuckDB's side (internal): FILE OUTDIR")
	flag.Parse()
	if *side {
		if err := runPeer(flag.Arg(0), flag.Arg(1)); err != nil {
			fmt.Fprintln(os.Stderr, "duckdb side:", err)
			os.Exit(1)
		}
		return
	}
	if *kycetl == "" || flag.NArg() != 1 || *rounds < 1 {
		fmt.Fprintln(os.Stderr, "usage: benchimport -kycetl BINARY [-rounds 3] FILE.ndjson")
		os.Exit(2)
	}
	if err := compare(*kycetl, flag.Arg(0), *rounds); err != nil {
		fmt.Fprintln(os.Stderr, "benchimport:", err)
		os.Exit(1)
	}
}

// runPeer is DuckDB's side, in its own process.
func runPeer(file, out string) error {
	db, err := gosql.Open("duckdb", "")
	if err != nil {
		return err
	}
	defer db.Close()
	for _, q := range peerSQL {
		if _, err := db.ExecContext(context.Background(), fmt.Sprintf(q, file, out)); err != nil {
			return fmt.Errorf("%s: %w", strings.SplitN(q, " ", 4)[:3], err)
		}
	}
	return nil
}

// measurement is one side's run: wall time and the child's peak RSS.
type measurement struct {
	wall time.Duration
	rss  int64 // KB
}

// measure runs cmd and reads its wall time and peak RSS. It first writes
// out every dirty page of the machine (unmeasured): kycetl makes its files
// durable with one sync of the filesystem, which would otherwise also
// write what the side before it (DuckDB, which syncs nothing) or the
// previous round's clean-up left in memory.
func measure(cmd *exec.Cmd) (measurement, error) {
	var stderr strings.Builder
	cmd.Stderr = &stderr
	syscall.Sync()
	start := time.Now()
	if err := cmd.Run(); err != nil {
		return measurement{}, fmt.Errorf("%s: %w\n%s", strings.Join(cmd.Args, " "), err, tail(stderr.String()))
	}
	m := measurement{wall: time.Since(start)}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		m.rss = ru.Maxrss
	}
	return m, nil
}

func tail(s string) string {
	if len(s) > 2000 {
		return s[len(s)-2000:]
	}
	return s
}

func compare(kycetl, file string, rounds int) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	abs, err := filepath.Abs(file)
	if err != nil {
		return err
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return err
	}
	fmt.Printf("corpus %s, %.1f MB; %d rounds, the sides alternating\n\n", file, float64(fi.Size())/1e6, rounds)
	fmt.Printf("%-6s %-10s %10s %10s %10s %9s %12s %12s\n", "round", "first", "duckdb s", "import s", "rebuild s", "rss MB", "import ×", "rebuild ×")
	var importRatios, rebuildRatios []float64
	// Every round's output is kept until the end: on a filesystem without
	// a journal (this machine's) ext4 skips the inodes freed in the last
	// minute when it makes a new one, so deleting a round's 5,000 files
	// made the next round's kycetl, which creates thousands, pay for the
	// harness's own clean-up (inode allocation took 15% of an import's
	// samples, 13% in recently_deleted; perf record -e cpu-clock).
	base, err := os.MkdirTemp("", "benchimport-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(base)
	for r := 1; r <= rounds; r++ {
		tmp := filepath.Join(base, fmt.Sprint(r))
		if err := os.Mkdir(tmp, 0o755); err != nil {
			return err
		}
		peer := func() (measurement, error) {
			out := filepath.Join(tmp, "duckdb")
			if err := os.Mkdir(out, 0o755); err != nil {
				return measurement{}, err
			}
			return measure(exec.Command(self, "-"+duckdbSide, abs, out))
		}
		dir := filepath.Join(tmp, "kycetl")
		ours := func() (imp, reb measurement, err error) {
			env := append(os.Environ(), "KYCETL_PII_KEY=benchimport-fixed-key-not-a-secret")
			cmd := exec.Command(kycetl, "import", "--project", "bench", "--dir", dir, abs)
			cmd.Env = env
			if imp, err = measure(cmd); err != nil {
				return
			}
			cmd = exec.Command(kycetl, "rebuild", "--dir", dir)
			cmd.Env = env
			reb, err = measure(cmd)
			return
		}
		var d, imp, reb measurement
		first := "duckdb"
		if r%2 == 1 {
			if d, err = peer(); err == nil {
				imp, reb, err = ours()
			}
		} else {
			first = "kycetl"
			if imp, reb, err = ours(); err == nil {
				d, err = peer()
			}
		}
		if err != nil {
			return err
		}
		ri, rr := d.wall.Seconds()/imp.wall.Seconds(), d.wall.Seconds()/reb.wall.Seconds()
		importRatios, rebuildRatios = append(importRatios, ri), append(rebuildRatios, rr)
		fmt.Printf("%-6d %-10s %10.2f %10.2f %10.2f %9s %12.2f %12.2f\n", r, first, d.wall.Seconds(), imp.wall.Seconds(), reb.wall.Seconds(),
			fmt.Sprintf("%d/%d/%d", d.rss>>10, imp.rss>>10, reb.rss>>10), ri, rr)
	}
	fmt.Printf("\nimport:  %.2f× DuckDB (%.2f–%.2f over %d rounds)\nrebuild: %.2f× DuckDB (%.2f–%.2f)\n(rss MB: duckdb/import/rebuild)\n",
		median(importRatios), slices.Min(importRatios), slices.Max(importRatios), rounds, median(rebuildRatios), slices.Min(rebuildRatios), slices.Max(rebuildRatios))
	return nil
}

func median(xs []float64) float64 {
	s := slices.Sorted(slices.Values(xs))
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
