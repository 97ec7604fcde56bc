package archive

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"filippo.io/age"
	"fmt"
	"hash"
	"io/fs"
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
	tmp  *os.File // nil while suspended, or before a buffered file is created
	name string   // temporary file's name while suspended
	sum  hash.Hash
	n    int64
	done bool
	// buffered files collect their bytes in buf and create the temporary
	// file at the first flush: a Parquet writer writes a page header, a
	// page and each footer field with a write of its own (0.3 CPU-s of
	// system calls in an import of 3,400 files), and a file that ends up
	// omitted (OmitEmpty) is never created at all.
	buffered bool
	buf      []byte
	// omitEmpty: a Parquet file closed with no rows is dropped (OmitEmpty).
	omitEmpty bool
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

// OmitEmpty makes a Parquet writer closed with no rows leave no file: its
// Close returns a FileInfo with no Path. A day's table with no rows then
// costs no directory and no file (of a 200-day import of core fields,
// 2,200 of 3,400 files were such).
func OmitEmpty() WriterOption { return func(f *atomicFile) { f.omitEmpty = true } }

func createAtomic(path string, opts ...WriterOption) (*atomicFile, error) {
	f := &atomicFile{path: path, sum: sha256.New()}
	for _, o := range opts {
		o(f)
	}
	if f.buffered {
		return f, nil // created at the first flush
	}
	if err := f.create(); err != nil {
		return nil, err
	}
	return f, nil
}

// create makes the file's directory and its temporary file.
func (f *atomicFile) create() error {
	tmp, err := os.OpenFile(TempPath(f.path), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, fs.ErrNotExist) {
		// The directory is new (a new day): made here, once, rather than
		// checked before every file.
		if err := os.MkdirAll(filepath.Dir(f.path), 0o755); err != nil {
			return fmt.Errorf("creating directory for %s: %w", f.path, err)
		}
		tmp, err = os.OpenFile(TempPath(f.path), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	}
	if err != nil {
		return fmt.Errorf("creating temporary file for %s: %w", f.path, err)
	}
	f.tmp = tmp
	return nil
}

// flushAt is the size at which a buffered file's bytes are written out.
const flushAt = 256 << 10

func (f *atomicFile) Write(p []byte) (int, error) {
	if f.buffered {
		f.buf = append(f.buf, p...)
		f.sum.Write(p)
		f.n += int64(len(p))
		if len(f.buf) >= flushAt {
			if err := f.flush(); err != nil {
				return 0, err
			}
		}
		return len(p), nil
	}
	n, err := f.tmp.Write(p)
	f.sum.Write(p[:n])
	f.n += int64(n)
	return n, err
}

// flush writes a buffered file's bytes, creating the file first if need
// be, or reopens a suspended one.
func (f *atomicFile) flush() error {
	var err error
	switch {
	case f.tmp != nil:
	case f.name == "":
		err = f.create()
	default:
		err = f.resume()
	}
	if err != nil {
		return err
	}
	if len(f.buf) == 0 {
		return nil
	}
	_, err = f.tmp.Write(f.buf)
	f.buf = f.buf[:0]
	return err
}

// suspend closes the file handle; resume reopens it for appending.
func (f *atomicFile) suspend() error {
	if len(f.buf) > 0 {
		if err := f.flush(); err != nil {
			return err
		}
	}
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
	if err := f.flush(); err != nil {
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
	f.buf = nil
	if f.tmp != nil {
		f.name = f.tmp.Name()
		_ = f.tmp.Close()
	}
	if f.name != "" {
		_ = os.Remove(f.name)
	}
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
