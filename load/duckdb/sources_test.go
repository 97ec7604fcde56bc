package duckdb

import (
	"github.com/kycetl/kycetl/extract/argos"
	"github.com/kycetl/kycetl/extract/fractal"
	"github.com/kycetl/kycetl/transform/schema"
)

// The tables are those of the sources listed in internal/pipeline, which
// this package's tests do not import: register ARGOS's and Fractal's.
func init() { schema.Register(append(argos.Tables(), fractal.Tables()...)...) }
