//go:build !linux

package archive

import (
	"errors"
	"os"
)

// syncFS: other systems have no syncfs; Sync fsyncs each file instead.
func syncFS(*os.File) error { return errors.ErrUnsupported }

func startWriteback(*os.File) {}
