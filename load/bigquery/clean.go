package bigquery

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"google.golang.org/api/iterator"
	storage "google.golang.org/api/storage/v1"

	"github.com/kycetl/kycetl/load"
)

var _ load.Janitor = (*Warehouse)(nil)

// CleanStaging removes the staging tables (named _kycetl_stage_*) of the
// dataset and the staged load files (under the staging prefix) created
// before before: those of crashed runs, since a run removes its own. A
// staging table also expires by itself a day after it was made; a staged
// object does not. With dryRun it only lists them. It returns one line per
// table (dataset.table) or object (gs:// URI).
func (w *Warehouse) CleanStaging(ctx context.Context, before time.Time, dryRun bool) ([]string, error) {
	tables, err := w.cleanTables(ctx, before, dryRun)
	if err != nil {
		return tables, fmt.Errorf("cleaning staging tables of %s.%s: %w", w.cfg.Project, w.cfg.Dataset, err)
	}
	if w.gcs == nil {
		return tables, nil
	}
	objects, err := w.cleanObjects(ctx, before, dryRun)
	if err != nil {
		return append(tables, objects...), fmt.Errorf("cleaning staged load files of %s: %w", w.cfg.Staging, err)
	}
	return append(tables, objects...), nil
}

func (w *Warehouse) cleanTables(ctx context.Context, before time.Time, dryRun bool) ([]string, error) {
	ds := w.client.Dataset(w.cfg.Dataset)
	var out []string
	it := ds.Tables(ctx)
	for {
		t, err := it.Next()
		if errors.Is(err, iterator.Done) {
			return out, nil
		}
		if isStatus(err, http.StatusNotFound) {
			return out, nil // no dataset, no staging table
		}
		if err != nil {
			return out, errors.New(message(err))
		}
		if !strings.HasPrefix(t.TableID, stagingPrefix) {
			continue
		}
		md, err := t.Metadata(ctx)
		if isStatus(err, http.StatusNotFound) {
			continue // dropped meanwhile
		}
		if err != nil {
			return out, fmt.Errorf("reading %s: %s", t.TableID, message(err))
		}
		if !md.CreationTime.Before(before) {
			continue
		}
		if !dryRun {
			if err := ds.Table(t.TableID).Delete(ctx); err != nil && !isStatus(err, http.StatusNotFound) {
				return out, fmt.Errorf("dropping %s: %s", t.TableID, message(err))
			}
		}
		out = append(out, w.cfg.Dataset+"."+t.TableID)
	}
}

func (w *Warehouse) cleanObjects(ctx context.Context, before time.Time, dryRun bool) ([]string, error) {
	bucket, prefix, err := splitGCS(w.cfg.Staging)
	if err != nil {
		return nil, err
	}
	if prefix != "" {
		prefix += "/"
	}
	var old []string
	err = w.gcs.Objects.List(bucket).Prefix(prefix+stagingPrefix).Pages(ctx, func(page *storage.Objects) error {
		for _, o := range page.Items {
			created, err := time.Parse(time.RFC3339, o.TimeCreated)
			if err != nil {
				return fmt.Errorf("reading the creation time %q of gs://%s/%s: %w", o.TimeCreated, bucket, o.Name, err)
			}
			if created.Before(before) {
				old = append(old, o.Name)
			}
		}
		return nil
	})
	if err != nil {
		return nil, errors.New(message(err))
	}
	var out []string
	for _, name := range old {
		if !dryRun {
			err := w.gcs.Objects.Delete(bucket, name).Context(ctx).Do()
			if err != nil && !isStatus(err, http.StatusNotFound) {
				return out, fmt.Errorf("deleting gs://%s/%s: %s", bucket, name, message(err))
			}
		}
		out = append(out, "gs://"+bucket+"/"+name)
	}
	return out, nil
}
