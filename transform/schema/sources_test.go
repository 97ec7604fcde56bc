package schema_test

import (
	"github.com/kycetl/kycetl/extract/argos"
	"github.com/kycetl/kycetl/extract/fractal"
	"github.com/kycetl/kycetl/transform/schema"
)

// The tables are those of the sources listed in internal/pipeline: register
// ARGOS's and Fractal's. This file is in the external test package
// because extract/argos, which declares them, imports this one.
func init() { schema.Register(append(argos.Tables(), fractal.Tables()...)...) }
