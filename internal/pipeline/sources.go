package pipeline

import (
	"github.com/kycetl/kycetl/extract"
	argos "github.com/kycetl/kycetl/extract/argos/source"
)

// Sources are the sources kycetl loads; listing one registers its tables.
// Adding a source is a folder under extract/ and a line here.
var Sources = extract.List(
	argos.Source{},
)

// DefaultSource is the source of a Pipeline without WithSource, and of the
// commands that take no source: ARGOS, the first listed.
var DefaultSource = Sources[0]
