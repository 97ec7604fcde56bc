// Package lock keeps two kycetl processes from writing one warehouse
// directory at once: an exclusive, non-blocking flock on <dir>/kycetl.lock,
// which holds the holder's pid. The kernel drops the lock when the holder
// exits, however it exits, so a lock file left behind by a crash is stale
// and simply taken over.
package lock

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// FileName is the lock file in a warehouse directory.
const FileName = "kycetl.lock"

// ErrLocked is wrapped by the error of Acquire when another process holds
// the lock.
var ErrLocked = errors.New("warehouse directory is locked")

// LockedError says who holds a directory.
type LockedError struct {
	Dir  string // the directory, as given
	Path string // the lock file
	PID  int    // the holder's pid, 0 if it could not be read
}

func (e *LockedError) Error() string {
	who := "another kycetl process"
	if e.PID > 0 {
		who = "kycetl pid " + strconv.Itoa(e.PID)
	}
	return fmt.Sprintf("warehouse directory %s is in use by %s (lock file %s)", e.Dir, who, e.Path)
}

// Unwrap makes errors.Is(err, ErrLocked) true.
func (e *LockedError) Unwrap() error { return ErrLocked }

// Lock is a held lock; Close releases it.
type Lock struct {
	f    *os.File
	path string
}

// Acquire takes the lock of dir, creating dir if needed. When another
// process holds it, the error is a *LockedError (wrapping ErrLocked) naming
// the holder's pid. Open file descriptions lock independently, so a
// second Acquire in the same process is refused too.
func Acquire(dir string) (*Lock, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("locking warehouse directory %s: %w", dir, err)
	}
	path := filepath.Join(dir, FileName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("locking warehouse directory %s: %w", dir, err)
	}
	held, err := tryLock(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("locking %s: %w", path, err)
	}
	if !held {
		pid := readPID(f)
		f.Close()
		return nil, &LockedError{Dir: dir, Path: path, PID: pid}
	}
	// Ours: replace whatever a previous holder left with our pid.
	if err := writePID(f); err != nil {
		unlock(f)
		f.Close()
		return nil, fmt.Errorf("writing pid to %s: %w", path, err)
	}
	return &Lock{f: f, path: path}, nil
}

// Path is the lock file.
func (l *Lock) Path() string { return l.path }

// Close releases the lock. The file stays, emptied, so that no other
// process ever locks a file about to be removed.
func (l *Lock) Close() error {
	if l == nil || l.f == nil {
		return nil
	}
	l.f.Truncate(0)
	unlock(l.f)
	err := l.f.Close()
	l.f = nil
	if err != nil {
		return fmt.Errorf("releasing %s: %w", l.path, err)
	}
	return nil
}

// Holder reports whether a process holds dir's lock, and its pid (0 when
// unreadable). A missing lock file means no holder.
func Holder(dir string) (pid int, held bool, err error) {
	path := filepath.Join(dir, FileName)
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("reading %s: %w", path, err)
	}
	defer f.Close()
	free, err := tryLockShared(f)
	if err != nil {
		return 0, false, fmt.Errorf("testing %s: %w", path, err)
	}
	if free {
		unlock(f)
		return 0, false, nil
	}
	return readPID(f), true, nil
}

func readPID(f *os.File) int {
	buf := make([]byte, 32)
	n, _ := f.ReadAt(buf, 0)
	pid, err := strconv.Atoi(strings.TrimSpace(string(buf[:n])))
	if err != nil || pid <= 0 {
		return 0
	}
	return pid
}

func writePID(f *os.File) error {
	if err := f.Truncate(0); err != nil {
		return err
	}
	_, err := f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	return err
}
