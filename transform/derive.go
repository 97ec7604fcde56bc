package transform

import (
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/valyala/fastjson"

	"github.com/kycetl/kycetl/extract/argos"
	"github.com/kycetl/kycetl/transform/schema"
)

// derivers compute the columns the schema declares without a path, keyed
// "table.column". Each is the one definition of that column.
var derivers = map[string]deriver{
	"submissions.kind": func(e *fastjson.Value, b array.Builder) {
		b.(*array.StringBuilder).Append(string(kindOf(e)))
	},
	"submissions.status": func(e *fastjson.Value, b array.Builder) {
		b.(*array.StringBuilder).Append(string(argos.NormalizeStatus(argos.ScalarString(e.Get("kyc", "result")))))
	},
	"submissions.has_aml": func(e *fastjson.Value, b array.Builder) {
		aml := e.Get("aml")
		b.(*array.BooleanBuilder).Append(aml != nil && aml.Type() == fastjson.TypeObject)
	},
	"submissions.attempt_count": func(e *fastjson.Value, b array.Builder) {
		b.(*array.Int64Builder).Append(elements(e.Get("kyc", "attempts")))
	},
	"submissions.aml_match_count": func(e *fastjson.Value, b array.Builder) {
		b.(*array.Int64Builder).Append(elements(e.Get("aml", "matches")))
	},
	"camera_processes.duration_seconds": func(e *fastjson.Value, b array.Builder) {
		start, end := e.Get(processStart), e.Get(processEnd)
		if start == nil || end == nil {
			b.AppendNull()
			return
		}
		s, err1 := argos.TimeOf(start)
		t, err2 := argos.TimeOf(end)
		if err1 != nil || err2 != nil {
			b.AppendNull() // the unreadable time is counted on its own column
			return
		}
		b.(*array.Float64Builder).Append(t.Sub(s).Seconds())
	},
}

// The paths camera_processes.duration_seconds is computed from: those of
// the declared start and end columns.
var processStart, processEnd = declaredPath(argos.CameraProcesses, "process_start_time"), declaredPath(argos.CameraProcesses, "process_end_time")

// declaredPath is the source path of a declared column; it panics at start-up
// when the declaration lacks the column, a programming error.
func declaredPath(t *schema.Table, column string) string {
	c, ok := t.Column(column)
	if !ok || c.Path == "" {
		panic("transform: " + t.Name + " declares no source column " + column)
	}
	return c.Path
}

// kindOf tells the field sets apart: knowledge-based submissions carry an
// SSN or phone number and no ID document type.
func kindOf(e *fastjson.Value) argos.Kind {
	if present(e.Get("data", "idType")) {
		return argos.KindIDDocument
	}
	if present(e.Get("data", "ssnNumber")) || present(e.Get("data", "phoneNumber")) {
		return argos.KindKnowledgeBased
	}
	return argos.KindIDDocument
}

func present(v *fastjson.Value) bool {
	return v != nil && v.Type() != fastjson.TypeNull
}

// elements counts the rows a child array yields: its length, or one for a
// lone object (read as one element).
func elements(v *fastjson.Value) int64 {
	if v == nil {
		return 0
	}
	switch v.Type() {
	case fastjson.TypeArray:
		a, _ := v.Array()
		return int64(len(a))
	case fastjson.TypeObject:
		return 1
	}
	return 0
}
