package transform

import (
	"bytes"
	"errors"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/valyala/fastjson"

	"github.com/kycetl/kycetl/extract/argos"
	"github.com/kycetl/kycetl/transform/schema"
)

// appendValue coerces v to column i's type and appends it. A value that
// cannot be coerced is appended as NULL, counted, and kept in extra under
// its path (hashed or left out when the column's PII action says so).
func (f *Flattener) appendValue(tb *tableBuilder, i int, b array.Builder, v *fastjson.Value) {
	c := &tb.cols[i]
	act := tb.acts[i]
	if f.sensitive > act && c.Path != "" && !c.JSON { // the value, not its coordinates
		act = f.sensitive
	}
	if v == nil || v.Type() == fastjson.TypeNull || act == schema.Drop {
		b.AppendNull()
		return
	}
	var reason string
	switch c.Type {
	case schema.String:
		var text []byte
		replaced := false
		switch {
		case c.JSON:
			text = f.marshalRedacted(v)
			replaced, f.replaced = f.replaced, false
		case v.Type() == fastjson.TypeString:
			text = v.GetStringBytes() // the parser's own bytes: read only
		case v.Type() == fastjson.TypeObject || v.Type() == fastjson.TypeArray:
			reason = "expected text, got " + v.Type().String()
		default:
			text = f.marshal(v)
		}
		if reason == "" {
			sb := b.(*array.StringBuilder)
			switch {
			case act == schema.Hash:
				sb.BinaryBuilder.Append(f.hasher.HashBytes(text)) // the exact bytes, as sent
			case replaced:
				// JSON text already rendered with U+FFFD for bad bytes.
				f.coerced(tb.colPath[i], reasonInvalidUTF8)
				sb.BinaryBuilder.Append(text)
			default:
				sb.BinaryBuilder.Append(f.validText(text, tb.colPath[i]))
			}
		}
	case schema.Int64:
		var n int64
		if n, reason = intOf(v); reason == "" {
			b.(*array.Int64Builder).Append(n)
		}
	case schema.Float64:
		var x float64
		if x, reason = floatOf(v); reason == "" {
			b.(*array.Float64Builder).Append(x)
		}
	case schema.Bool:
		var x bool
		if x, reason = boolOf(v); reason == "" {
			b.(*array.BooleanBuilder).Append(x)
		}
	case schema.Timestamp:
		if isEmptyString(v) {
			b.AppendNull()
			return
		}
		t, err := argos.TimeOf(v)
		if err != nil {
			reason = "not a timestamp"
		} else {
			b.(*array.TimestampBuilder).Append(arrow.Timestamp(t.UnixMicro()))
		}
	case schema.Date:
		if isEmptyString(v) {
			b.AppendNull()
			return
		}
		if v.Type() != fastjson.TypeString {
			reason = "expected a date, got " + v.Type().String()
			break
		}
		s := v.GetStringBytes()
		t, err := argos.ParseDateBytes(s)
		if err != nil {
			if t, err = argos.ParseTimeBytes(s); err != nil {
				reason = "not a date"
				break
			}
		}
		b.(*array.Date32Builder).Append(arrow.Date32FromTime(argos.Day(t)))
	default:
		reason = "unsupported column type " + c.Type.String()
	}
	if reason == "" {
		return
	}
	b.AppendNull()
	f.coerced(tb.colPath[i], reason)
	f.addExtra(tb, tb.colRel[i], v, act)
}

// reasonInvalidUTF8 is the coercion recorded for text that was not UTF-8.
// Parquet, DuckDB and BigQuery all reject such a string, and one would make
// the whole file unreadable; the exact bytes stay in the raw archive.
const reasonInvalidUTF8 = "invalid UTF-8, replaced by U+FFFD"

// validText returns text when it is UTF-8, else a copy with every invalid
// sequence replaced by U+FFFD, counted as a coercion of path.
func (f *Flattener) validText(text []byte, path string) []byte {
	if utf8.Valid(text) {
		return text
	}
	f.coerced(path, reasonInvalidUTF8)
	f.scratch = appendValidUTF8(f.scratch[:0], text)
	return f.scratch
}

// appendValidUTF8 appends s with every invalid UTF-8 sequence replaced by
// U+FFFD.
func appendValidUTF8(dst, s []byte) []byte {
	for len(s) > 0 {
		r, n := utf8.DecodeRune(s)
		if r == utf8.RuneError && n == 1 {
			dst = utf8.AppendRune(dst, utf8.RuneError)
		} else {
			dst = append(dst, s[:n]...)
		}
		s = s[n:]
	}
	return dst
}

// marshal renders v as JSON text in f's scratch buffer, valid until the
// next call.
func (f *Flattener) marshal(v *fastjson.Value) []byte {
	f.buf = v.MarshalTo(f.buf[:0])
	return f.buf
}

// marshalRedacted is marshal with the PII policy applied to every key
// inside v (appendRedacted).
func (f *Flattener) marshalRedacted(v *fastjson.Value) []byte {
	f.buf = f.appendRedacted(f.buf[:0], v)
	return f.buf
}

// appendRedacted appends v as JSON text, with the value of every key that
// names a hashed field hashed and of every key that names a dropped field
// left out, at any depth (pii.Policy.KeyAction).
func (f *Flattener) appendRedacted(dst []byte, v *fastjson.Value) []byte {
	switch v.Type() {
	case fastjson.TypeObject:
		obj, _ := v.Object()
		dst = append(dst, '{')
		first := true
		obj.Visit(func(k []byte, e *fastjson.Value) {
			act := f.policy.KeyAction(string(k))
			if act == schema.Drop {
				return
			}
			if !first {
				dst = append(dst, ',')
			}
			first = false
			dst = f.appendJSONText(dst, k)
			dst = append(dst, ':')
			if act == schema.Hash {
				dst = f.appendHashed(dst, e)
				return
			}
			dst = f.appendRedacted(dst, e)
		})
		return append(dst, '}')
	case fastjson.TypeArray:
		arr, _ := v.Array()
		dst = append(dst, '[')
		for i, e := range arr {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = f.appendRedacted(dst, e)
		}
		return append(dst, ']')
	case fastjson.TypeString:
		return f.appendJSONText(dst, v.GetStringBytes())
	}
	return v.MarshalTo(dst) // numbers, true, false, null: ASCII as parsed
}

// appendHashed appends the HMAC of v as a JSON string marked "hmac:". A
// string's own bytes are hashed, as in a hashed column, so the two join; any
// other value is hashed as JSON text. null stays null.
func (f *Flattener) appendHashed(dst []byte, v *fastjson.Value) []byte {
	var sum []byte
	switch v.Type() {
	case fastjson.TypeNull:
		return append(dst, "null"...)
	case fastjson.TypeString:
		sum = f.hasher.HashBytes(v.GetStringBytes())
	default:
		f.scratch = v.MarshalTo(f.scratch[:0])
		sum = f.hasher.HashBytes(f.scratch)
	}
	dst = append(dst, `"hmac:`...)
	dst = append(dst, sum...)
	return append(dst, '"')
}

// addExtra adds "key": value to the row's extra object. The policy reaches
// into extra: a key whose last step names a hashed or dropped field is
// treated like that field, and so is every such key inside the value.
func (f *Flattener) addExtra(tb *tableBuilder, key string, v *fastjson.Value, act schema.PII) {
	if tb.iExtra < 0 {
		// Tables without extra (the zipped ones) keep their odd values in
		// the parent's row: the submission's extra is always there.
		tb = f.subs
	}
	if a := f.policy.KeyAction(key[strings.LastIndexByte(key, '.')+1:]); a > act {
		act = a
	}
	if act == schema.Drop {
		return
	}
	if len(tb.extra) == 0 {
		tb.extra = append(tb.extra, '{')
	} else {
		tb.extra = append(tb.extra, ',')
	}
	tb.extra = f.appendJSONText(tb.extra, []byte(key))
	tb.extra = append(tb.extra, ':')
	if act == schema.Hash {
		tb.extra = f.appendHashed(tb.extra, v)
	} else {
		tb.extra = f.appendRedacted(tb.extra, v)
	}
	if f.replaced {
		f.replaced = false
		f.coerced(key, reasonInvalidUTF8)
	}
}

func isEmptyString(v *fastjson.Value) bool {
	return v.Type() == fastjson.TypeString && len(bytes.TrimSpace(v.GetStringBytes())) == 0
}

func intOf(v *fastjson.Value) (int64, string) {
	var x float64
	switch v.Type() {
	case fastjson.TypeNumber:
		if n, err := v.Int64(); err == nil {
			return n, ""
		}
		x, _ = v.Float64()
	case fastjson.TypeString:
		s := strings.TrimSpace(string(v.GetStringBytes()))
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return n, ""
		}
		var err error
		if x, err = strconv.ParseFloat(s, 64); err != nil && !errors.Is(err, strconv.ErrRange) {
			return 0, "not an integer"
		}
	default:
		return 0, "expected an integer, got " + v.Type().String()
	}
	switch {
	case math.IsNaN(x) || x != math.Trunc(x):
		return 0, "not an integer"
	case x < -(1<<63) || x >= 1<<63: // also ±Inf: 1e400
		return 0, "integer does not fit INT64"
	}
	return int64(x), ""
}

func floatOf(v *fastjson.Value) (float64, string) {
	switch v.Type() {
	case fastjson.TypeNumber:
		x, err := v.Float64()
		if err != nil || math.IsInf(x, 0) || math.IsNaN(x) {
			return 0, "not a finite number"
		}
		return x, ""
	case fastjson.TypeString:
		x, err := strconv.ParseFloat(strings.TrimSpace(string(v.GetStringBytes())), 64)
		if err != nil && !errors.Is(err, strconv.ErrRange) {
			return 0, "not a number"
		}
		if err != nil || math.IsInf(x, 0) || math.IsNaN(x) {
			// "NaN", "Infinity" and 1e400 parse, and would turn every
			// average over the column into NaN or Inf.
			return 0, "not a finite number"
		}
		return x, ""
	}
	return 0, "expected a number, got " + v.Type().String()
}

func boolOf(v *fastjson.Value) (bool, string) {
	switch v.Type() {
	case fastjson.TypeTrue:
		return true, ""
	case fastjson.TypeFalse:
		return false, ""
	case fastjson.TypeString:
		switch strings.ToLower(strings.TrimSpace(string(v.GetStringBytes()))) {
		case "true", "yes", "y", "1":
			return true, ""
		case "false", "no", "n", "0":
			return false, ""
		}
		return false, "not a boolean"
	case fastjson.TypeNumber:
		if x, err := v.Float64(); err == nil && (x == 0 || x == 1) {
			return x == 1, ""
		}
		return false, "not a boolean"
	}
	return false, "expected a boolean, got " + v.Type().String()
}

// appendJSONText appends s as a JSON string literal. An invalid UTF-8
// sequence becomes U+FFFD and sets f.replaced, for the caller to count.
func (f *Flattener) appendJSONText(dst []byte, s []byte) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			dst = append(dst, '\\', c)
		case c < 0x20:
			dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		case c < utf8.RuneSelf:
			dst = append(dst, c)
		default:
			r, n := utf8.DecodeRune(s[i:])
			if r == utf8.RuneError && n == 1 {
				f.replaced = true
				dst = utf8.AppendRune(dst, utf8.RuneError)
			} else {
				dst = append(dst, s[i:i+n]...)
			}
			i += n
			continue
		}
		i++
	}
	return append(dst, '"')
}
