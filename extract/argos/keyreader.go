package argos

import "github.com/valyala/fastjson"

// KeyReader reads submissions' identities with ScanKey and ReadKey, reusing
// its parser; it is not safe for concurrent use. The zero value is ready.
type KeyReader struct{ p fastjson.Parser }

// Scan is ScanKey.
func (r *KeyReader) Scan(item []byte) (Key, error) { return ScanKey(&r.p, item) }

// Read is ReadKey.
func (r *KeyReader) Read(item []byte) (Key, error) { return ReadKey(&r.p, item) }
