package archive

import (
	"os"

	"golang.org/x/sys/unix"
)

// syncFS syncs the whole filesystem holding d: one journal commit for
// every file of the group. Since Linux 5.8 it reports writeback errors
// that happened after d was opened.
func syncFS(d *os.File) error { return unix.Syncfs(int(d.Fd())) }

// startWriteback asks the kernel to start writing f's pages now, without
// waiting, so that a group's Sync mostly finds them written.
func startWriteback(f *os.File) {
	_ = unix.SyncFileRange(int(f.Fd()), 0, 0, unix.SYNC_FILE_RANGE_WRITE)
}
