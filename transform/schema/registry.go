package schema

import (
	"fmt"
	"sync"
)

// registry holds the tables of the sources kycetl loads. Sources register
// their tables where they are listed (internal/pipeline), not here: this
// package is imported by every source, so it cannot name them.
var registry struct {
	mu     sync.RWMutex
	tables []*Table
}

// Register adds a source's partitioned tables to All and Partitioned, in
// order. Registering a table again is a no-op; another table under a name
// already taken panics, as two sources writing one table would mix their
// rows.
func Register(tables ...*Table) {
	registry.mu.Lock()
	defer registry.mu.Unlock()
next:
	for _, t := range tables {
		for _, have := range registry.tables {
			if have == t {
				continue next
			}
			if have.Name == t.Name {
				panic(fmt.Sprintf("schema: table %s registered twice by different declarations", t.Name))
			}
		}
		registry.tables = append(registry.tables, t)
	}
}

// Sourced lists the registered sources' tables, in registration order.
func Sourced() []*Table {
	registry.mu.RLock()
	defer registry.mu.RUnlock()
	return append([]*Table(nil), registry.tables...)
}

// All lists every table: the registered sources' tables (Register), then
// the operational tables.
func All() []*Table {
	return append(Sourced(), Quarantine, LoadRuns, CreditRates)
}

// Partitioned lists the tables that are replaced day by day.
func Partitioned() []*Table {
	var out []*Table
	for _, t := range All() {
		if !t.Unpartitioned {
			out = append(out, t)
		}
	}
	return out
}
