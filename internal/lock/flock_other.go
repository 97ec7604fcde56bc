//go:build !unix

package lock

import "os"

// Without flock the lock is advisory only: the pid is written, and
// exclusion is not enforced on this platform.
func tryLock(*os.File) (bool, error)       { return true, nil }
func tryLockShared(*os.File) (bool, error) { return true, nil }
func unlock(*os.File)                      {}
