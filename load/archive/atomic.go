package archive

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"filippo.io/age"
	"fmt"
	"hash"
	"os"
	"path/filepath"
)

// FileInfo describes a committed archive file.
type FileInfo struct {
	Path   string
	Rows   int64
	Bytes  int64
	SHA256 string // hex, of the file's final bytes
}

// tempPrefix starts the name of every file still being written, so that
// readers and Verify can tell it from a committed one.
const tempPrefix = ".tmp-"

// atomicFile is written under a temporary name in its final directory and
// renamed into place on commit; it hashes and counts the bytes on the way.
type atomicFile struct {
	path string
	tmp  *os.File // nil while suspended
	name string   // temporary file's name while suspended
	sum  hash.Hash
	n    int64
	done bool
	// group, when set, makes the file durable at its Sync rather than at
	// commit.
	group *SyncGroup
	// recipients, when set, encrypt a raw file (WithRecipients).
	recipients []age.Recipient
}

// WriterOption configures a Parquet or raw archive writer.
type WriterOption func(*atomicFile)

// WithSyncGroup leaves the file's durability to g: Close renames it into
// place without an fsync, and g.Sync makes it durable.
func WithSyncGroup(g *SyncGroup) WriterOption { return func(f *atomicFile) { f.group = g } }

func createAtomic(path string, opts ...WriterOption) (*atomicFile, error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("creating directory for %s: %w", path, err)
	}
	tmp, err := os.OpenFile(TempPath(path), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return nil, fmt.Errorf("creating temporary file for %s: %w", path, err)
	}
	f := &atomicFile{path: path, tmp: tmp, sum: sha256.New()}
	for _, o := range opts {
		o(f)
	}
	return f, nil
}

func (f *atomicFile) Write(p []byte) (int, error) {
	n, err := f.tmp.Write(p)
	f.sum.Write(p[:n])
	f.n += int64(n)
	return n, err
}

// suspend closes the file handle; resume reopens it for appending.
func (f *atomicFile) suspend() error {
	if f.tmp == nil {
		return nil
	}
	err := f.tmp.Close()
	f.name, f.tmp = f.tmp.Name(), nil
	return err
}

func (f *atomicFile) resume() error {
	if f.tmp != nil {
		return nil
	}
	tmp, err := os.OpenFile(f.name, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return err
	}
	f.tmp = tmp
	return nil
}

// commit makes the file durable (or, in a SyncGroup, starts its writeback)
// and renames it into place. On error the temporary file is removed.
func (f *atomicFile) commit(rows int64) (FileInfo, error) {
	if f.done {
		return FileInfo{}, fmt.Errorf("committing %s: file already closed", f.path)
	}
	if err := f.resume(); err != nil {
		f.abort()
		return FileInfo{}, fmt.Errorf("committing %s: %w", f.path, err)
	}
	f.done = true
	var err error
	if f.group != nil {
		startWriteback(f.tmp)
	} else {
		err = f.tmp.Sync()
	}
	if cerr := f.tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.tmp.Name(), f.path)
	}
	if err != nil {
		_ = os.Remove(f.tmp.Name())
		return FileInfo{}, fmt.Errorf("committing %s: %w", f.path, err)
	}
	info := FileInfo{Path: f.path, Rows: rows, Bytes: f.n, SHA256: hex.EncodeToString(f.sum.Sum(nil))}
	if f.group != nil {
		f.group.committed(f.path)
		return info, nil
	}
	// The rename is durable only once the directory is synced; a failure
	// here does not undo the commit, so it is not reported.
	if d, err := os.Open(filepath.Dir(f.path)); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
	return info, nil
}

// abort removes the temporary file; it is safe to call after commit.
func (f *atomicFile) abort() {
	if f.done {
		return
	}
	f.done = true
	if f.tmp != nil {
		f.name = f.tmp.Name()
		_ = f.tmp.Close()
	}
	_ = os.Remove(f.name)
}

// WriteFileAtomic writes data to path atomically: under a temporary name in
// its directory, made durable, then renamed into place; on an error no file
// is left (kycetl report writes its page through it).
func WriteFileAtomic(path string, data []byte) (FileInfo, error) {
	f, err := createAtomic(path)
	if err != nil {
		return FileInfo{}, err
	}
	if _, err := f.Write(data); err != nil {
		f.abort()
		return FileInfo{}, fmt.Errorf("writing %s: %w", path, err)
	}
	return f.commit(0)
}

var errClosed = errors.New("writer already closed")
