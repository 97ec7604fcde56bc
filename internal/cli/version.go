package cli

import (
	"runtime/debug"
	"strings"
)

// Version is kycetl's version as the build recorded it: the module version
// (a release tag, or a pseudo-version) and, when built from a checkout, the
// VCS revision, its time and whether the tree had uncommitted changes. It
// is what `kycetl --version` prints.
func Version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "(unknown version: built without module information)"
	}
	return describeBuild(bi)
}

// describeBuild renders build information as one line, e.g.
// "v1.2.0 (revision 0123abcd4567, 2026-01-02T03:04:05Z, modified) go1.26.0".
func describeBuild(bi *debug.BuildInfo) string {
	version := bi.Main.Version
	if version == "" {
		version = "(devel)"
	}
	var rev, at string
	modified := false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			at = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	var parts []string
	if rev != "" {
		parts = append(parts, "revision "+rev[:min(len(rev), 12)])
	}
	if at != "" {
		parts = append(parts, at)
	}
	if modified {
		parts = append(parts, "modified")
	}
	out := version
	if len(parts) > 0 {
		out += " (" + strings.Join(parts, ", ") + ")"
	}
	if bi.GoVersion != "" {
		out += " " + bi.GoVersion
	}
	return out
}
