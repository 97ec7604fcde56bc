package transform

import (
	"sync"

	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/kycetl/kycetl/transform/schema"
)

// Sizes carries each table's batch size from one Flattener to the next, so
// that a partition's builders start at the size of the last batch written
// rather than growing to it by doubling, partition after partition. It
// follows the data: after a large day, the next one starts large, and so on
// as the days go. Safe for concurrent use.
type Sizes struct {
	mu     sync.Mutex
	tables map[string]*batchSize
}

type batchSize struct {
	rows int
	data []int // bytes of each variable-width column
}

// NewSizes makes an empty Sizes.
func NewSizes() *Sizes { return &Sizes{tables: map[string]*batchSize{}} }

// reserve sizes the builders of tbs for the last batch written.
func (s *Sizes) reserve(tbs []*tableBuilder) {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, tb := range tbs {
		if bs := s.tables[tb.t.Name]; bs != nil {
			reserveBatch(tb.rb, bs.rows, bs.data)
		}
	}
}

// record notes a batch of rows rows whose columns held data bytes (-1
// for a column built whole).
func (s *Sizes) record(t *schema.Table, rows int, data []int) {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	bs := s.tables[t.Name]
	if bs == nil {
		bs = &batchSize{data: make([]int, len(data))}
		s.tables[t.Name] = bs
	}
	bs.rows = rows
	copy(bs.data, data)
}

// reserveBatch sizes rb's builders for rows rows, and its variable-width
// builders for data bytes each; a negative size marks a column built whole
// (partitionColumn), left alone.
func reserveBatch(rb *array.RecordBuilder, rows int, data []int) {
	for i, b := range rb.Fields() {
		if data[i] < 0 {
			continue
		}
		b.Reserve(rows)
		if bb, ok := b.(interface{ ReserveData(int) }); ok && data[i] > 0 {
			bb.ReserveData(data[i])
		}
	}
}
