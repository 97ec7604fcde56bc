package extract_test

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/kycetl/kycetl/extract"
	"github.com/kycetl/kycetl/internal/window"
	"github.com/kycetl/kycetl/transform"
	"github.com/kycetl/kycetl/transform/schema"
)

// fake is a source with one table, for the list's checks.
type fake struct {
	name   string
	tables []*schema.Table
}

func (f fake) Name() string            { return f.name }
func (f fake) Tables() []*schema.Table { return f.tables }
func (f fake) NewFlattener(string, string, time.Time, transform.Sink, ...transform.Option) (extract.Flattener, error) {
	return nil, nil
}
func (f fake) NewKeyReader() extract.KeyReader { return nil }
func (f fake) Fetcher(context.Context, window.Settings) (extract.Fetcher, extract.Budget, error) {
	return nil, nil, nil
}
func (f fake) Defaults() window.Settings { return window.Settings{} }
func (f fake) Sandbox(context.Context, extract.SandboxOptions) (extract.Fetcher, io.Closer, error) {
	return nil, nil, nil
}

func TestListRegistersTables(t *testing.T) {
	tbl := &schema.Table{Name: "fake_list_rows", Columns: []schema.Column{{Name: "n", Type: schema.Int64}}}
	l := extract.List(fake{name: "fakelist", tables: []*schema.Table{tbl}})
	if s, ok := l.Get("fakelist"); !ok || s.Name() != "fakelist" {
		t.Fatalf("Get(fakelist) = %v, %v", s, ok)
	}
	if _, ok := schema.ByName("fake_list_rows"); !ok {
		t.Error("the listed source's table is not in schema.All")
	}
	if _, ok := l.Get("nosuch"); ok {
		t.Error("Get(nosuch) found a source")
	}
}

func TestListRefuses(t *testing.T) {
	clash := &schema.Table{Name: "fake_clash_rows"}
	extract.List(fake{name: "fakeclash", tables: []*schema.Table{clash}})
	for name, srcs := range map[string][]extract.Source{
		"a name listed twice":       {fake{name: "twice"}, fake{name: "twice"}},
		"a name that is no dir":     {fake{name: "../up"}},
		"a table another one holds": {fake{name: "clasher", tables: []*schema.Table{{Name: "fake_clash_rows"}}}},
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("List accepted %s", name)
				}
			}()
			extract.List(srcs...)
		})
	}
}
