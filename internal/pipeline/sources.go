package pipeline

import (
	"fmt"
	"strings"

	"github.com/kycetl/kycetl/extract"
	argos "github.com/kycetl/kycetl/extract/argos/source"
	fractal "github.com/kycetl/kycetl/extract/fractal/source"
)

// Sources are the sources kycetl loads; listing one registers its tables.
// Adding a source is a folder under extract/ and a line here.
var Sources = extract.List(
	argos.Source{},
	fractal.Source{},
)

// DefaultSource is the source of a Pipeline without WithSource, and of the
// commands that take no source: ARGOS, the first listed.
var DefaultSource = Sources[0]

// UnknownSourceError names a source that is not listed, and those that are.
type UnknownSourceError struct {
	Name  string
	Known []string
}

func (e *UnknownSourceError) Error() string {
	return fmt.Sprintf("unknown source %q: the sources are %s", e.Name, strings.Join(e.Known, ", "))
}

// SourceNamed returns the listed source named name, or an
// *UnknownSourceError.
func SourceNamed(name string) (extract.Source, error) {
	if s, ok := Sources.Get(name); ok {
		return s, nil
	}
	return nil, &UnknownSourceError{Name: name, Known: Sources.Names()}
}
