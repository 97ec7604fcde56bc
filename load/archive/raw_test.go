package archive

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// assertOnly fails unless dir holds exactly the named files: no temporary
// file is left behind.
func assertOnly(t *testing.T, dir string, names ...string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	if strings.Join(got, ",") != strings.Join(names, ",") {
		t.Errorf("%s holds %v, want %v", dir, got, names)
	}
}

func TestRawRoundTrip(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "d", "r.ndjson.zst")
	big := `{"submission_id":"big","blob":"` + strings.Repeat("x", 3<<20) + `"}` // longer than the read buffer
	items := []string{`{"submission_id":"a","n":1}`, big, `{}`, `{"s":"tab\there, \"quoted\" é"}`, `{"submission_id":"z"}`}

	w, err := NewRawWriter(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range items {
		if err := w.Write([]byte(it)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("file visible before Close: %v", err)
	}
	fi, err := w.Close()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	if fi.Path != path || fi.Rows != int64(len(items)) || fi.Bytes != int64(len(data)) || fi.SHA256 != hex.EncodeToString(sum[:]) {
		t.Errorf("FileInfo %+v does not describe the file (%d bytes)", fi, len(data))
	}
	assertOnly(t, filepath.Dir(path), "r.ndjson.zst")

	// The file is plain zstd NDJSON that any tool reads.
	plain, err := zstd.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	all, err := plain.DecodeAll(data, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := strings.Join(items, "\n") + "\n"; string(all) != want {
		t.Errorf("decompressed file differs from the items joined by newlines")
	}

	var got []string
	err = ReadRaw(path, func(ordinal int, item []byte) error {
		if ordinal != len(got) {
			t.Errorf("ordinal %d, want %d", ordinal, len(got))
		}
		got = append(got, string(item))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, "\n") != strings.Join(items, "\n") {
		t.Errorf("read back %d items that differ from the %d written", len(got), len(items))
	}

	stop := errors.New("stop")
	n := 0
	if err := ReadRaw(path, func(int, []byte) error { n++; return stop }); err != stop || n != 1 {
		t.Errorf("callback error: got %v after %d items, want stop after 1", err, n)
	}
}

func TestRawEmptyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "e.ndjson.zst")
	w, err := NewRawWriter(path)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := w.Close()
	if err != nil || fi.Rows != 0 {
		t.Fatalf("Close = %+v, %v", fi, err)
	}
	if err := ReadRaw(path, func(int, []byte) error { t.Error("item in an empty file"); return nil }); err != nil {
		t.Fatal(err)
	}
}

func TestRawRejectsNewline(t *testing.T) {
	dir := t.TempDir()
	w, err := NewRawWriter(filepath.Join(dir, "r.ndjson.zst"))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()
	if err := w.Write([]byte("{\"a\":\n1}")); err == nil {
		t.Fatal("an item with a newline was accepted")
	}
	if err := w.Write([]byte(`{"a":1}`)); err != nil {
		t.Fatalf("a refused item spoils the writer: %v", err)
	}
}

func TestRawAbort(t *testing.T) {
	dir := t.TempDir()
	w, err := NewRawWriter(filepath.Join(dir, "r.ndjson.zst"))
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write([]byte(`{"a":1}`)); err != nil {
		t.Fatal(err)
	}
	w.Abort()
	w.Abort()
	assertOnly(t, dir)
	if _, err := w.Close(); err == nil {
		t.Error("Close after Abort succeeded")
	}
	assertOnly(t, dir)
}

func TestReadRawCorrupt(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.ndjson.zst")
	if err := os.WriteFile(path, []byte("not zstd at all\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := ReadRaw(path, func(int, []byte) error { return nil }); err == nil {
		t.Error("ReadRaw accepted a file that is not zstd")
	}
	if err := ReadRaw(filepath.Join(t.TempDir(), "absent"), func(int, []byte) error { return nil }); err == nil {
		t.Error("ReadRaw accepted a missing file")
	}
}

func FuzzReadRaw(f *testing.F) {
	enc, _ := zstd.NewWriter(nil)
	f.Add(enc.EncodeAll([]byte("{\"a\":1}\n{}\n"), nil))
	f.Add(enc.EncodeAll([]byte("no trailing newline"), nil))
	f.Add(enc.EncodeAll([]byte("\n\n"), nil))
	f.Add([]byte{0x28, 0xb5, 0x2f, 0xfd, 0, 0, 0})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		var items int
		err := readRaw(bytes.NewReader(data), "fuzz", func(ordinal int, item []byte) error {
			if ordinal != items || bytes.IndexByte(item, '\n') >= 0 {
				t.Fatalf("item %d (ordinal %d) holds a newline or is out of order", items, ordinal)
			}
			items++
			return nil
		})
		_ = err // any bytes give items or an error, never a panic
	})
}

// TestRawSuspendResume writes a file in three sessions (three zstd frames)
// and reads every item back in order, with the sha256 of the whole file.
func TestRawSuspendResume(t *testing.T) {
	w, dir, path := newDayWriter(t)
	var want []string
	for i := 0; i < 9; i++ {
		item := fmt.Sprintf(`{"submission_id":"s%d"}`, i)
		want = append(want, item)
		if err := w.Write([]byte(item)); err != nil {
			t.Fatal(err)
		}
		if i%3 == 2 {
			if err := w.Suspend(); err != nil {
				t.Fatal(err)
			}
			if err := w.Suspend(); err != nil { // idempotent
				t.Fatal(err)
			}
		}
	}
	closeAndReadBack(t, w, path, want)
	assertOnly(t, dir, "day.ndjson.zst")
}

// newDayWriter starts a raw file day.ndjson.zst in a new directory.
func newDayWriter(t *testing.T) (w *RawWriter, dir, path string) {
	t.Helper()
	dir = t.TempDir()
	path = filepath.Join(dir, "day.ndjson.zst")
	w, err := NewRawWriter(path)
	if err != nil {
		t.Fatal(err)
	}
	return w, dir, path
}

// closeAndReadBack closes w and checks that the file at path reads back as
// want and that the FileInfo describes it.
func closeAndReadBack(t *testing.T, w *RawWriter, path string, want []string) {
	t.Helper()
	fi, err := w.Close()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	if err := ReadRaw(path, func(_ int, item []byte) error {
		got = append(got, string(item))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, ",") != strings.Join(want, ",") || fi.Rows != int64(len(want)) {
		t.Fatalf("read back %v (rows %d), want %v", got, fi.Rows, want)
	}
	data, _ := os.ReadFile(path)
	if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) != fi.SHA256 || int64(len(data)) != fi.Bytes {
		t.Error("FileInfo does not describe the file's bytes")
	}
}

// Frames compressed elsewhere mix with items written one by one, across
// suspensions, and read back as one stream in order.
func TestRawFrames(t *testing.T) {
	for _, endWith := range []string{"frame", "item", "suspend"} {
		t.Run(endWith, func(t *testing.T) {
			w, dir, path := newDayWriter(t)
			var want []string
			item := func(i int) []byte {
				s := fmt.Sprintf(`{"submission_id":"s%d"}`, i)
				want = append(want, s)
				return []byte(s)
			}
			frame := func(from, n int) {
				var items [][]byte
				for i := from; i < from+n; i++ {
					items = append(items, item(i))
				}
				f, err := EncodeRawFrame(nil, items)
				if err != nil {
					t.Fatal(err)
				}
				if err := w.WriteFrame(f, n); err != nil {
					t.Fatal(err)
				}
			}
			frame(0, 3)
			if err := w.Write(item(3)); err != nil {
				t.Fatal(err)
			}
			frame(4, 2)
			if err := w.Suspend(); err != nil {
				t.Fatal(err)
			}
			frame(6, 1)
			switch endWith {
			case "item":
				if err := w.Write(item(7)); err != nil {
					t.Fatal(err)
				}
			case "suspend":
				if err := w.Suspend(); err != nil {
					t.Fatal(err)
				}
			}
			closeAndReadBack(t, w, path, want)
			assertOnly(t, dir, "day.ndjson.zst")
		})
	}
	if _, err := EncodeRawFrame(nil, [][]byte{[]byte("{}"), []byte("{\n}")}); !errors.Is(err, ErrNewline) {
		t.Errorf("a frame with a raw newline: %v", err)
	}
	w, err := NewRawWriter(filepath.Join(t.TempDir(), "newline.ndjson.zst"))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()
	if err := w.Write([]byte("{\n}")); !errors.Is(err, ErrNewline) {
		t.Errorf("an item with a raw newline: %v", err)
	}
}
