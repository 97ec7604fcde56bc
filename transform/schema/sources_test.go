package schema

// The tables are those of the sources listed in internal/pipeline, which
// this package cannot import: register ARGOS's, the tests' data.
func init() { Register(SubmissionTables()...) }
