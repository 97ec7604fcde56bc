// Package bqfake is an in-process BigQuery endpoint for tests: an HTTP
// server speaking the part of the BigQuery REST v2 API (and of the Cloud
// Storage JSON API) that cloud.google.com/go/bigquery and kycetl use. It is
// injected with option.WithEndpoint, records every request, and answers as
// BigQuery does: datasets and tables are kept with their definitions, load
// jobs read their Parquet (uploaded or from the fake's GCS objects) and check
// it against the destination table's schema, and every job is DONE at once.
//
// A query job is recorded and run: CREATE OR REPLACE VIEW defines a view
// as BigQuery would; the load_runs rows of kycetl's RecordRuns are kept,
// and its ledger queries answered by their exact text (ledger.go); the
// DELETE and INSERT statements of a Replace's transaction and the credit
// rates' seed are applied, and any other SELECT of a dataset is answered,
// by an in-memory DuckDB holding the dataset's rows and views, after the
// few rewrites of GoogleSQL that sql.go lists. Any other statement fails
// the job, naming it. Tests assert the statements kycetl sends and read
// the answers back.
package bqfake

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	bq "google.golang.org/api/bigquery/v2"
	"google.golang.org/api/option"
)

// Request is one HTTP request the fake received.
type Request struct {
	Method string
	Path   string
	Query  url.Values
	// Body is the JSON body; for a media upload, the metadata part.
	Body []byte
	// Media is the number of media bytes that came with the request.
	Media int
}

// Server is the fake endpoint.
type Server struct {
	srv *httptest.Server

	mu       sync.Mutex
	datasets map[string]*bq.Dataset // "project/dataset"
	tables   map[string]*table      // "project/dataset/table"
	jobs     map[string]*bq.Job     // "project/jobID"
	jobOrder []string
	jobData  map[string][][]byte // "project/jobID" → the files a load job read
	objects  map[string][]byte   // "gs://bucket/name"
	created  map[string]int64    // "gs://bucket/name" → creation time, Unix ms
	uploads  map[string]*upload
	requests []Request
	fail     func(*bq.Job) *bq.ErrorProto
	clock    int64
	ledgers  map[string][]ledgerRow // "project/dataset" → load_runs rows; see ledger.go
	answers  map[string]string      // ledger query text (normalized) → its name
	results  map[string]*result     // "project/jobID" → a query's rows
	// gen counts the changes to tables, views and rows: the DuckDB of
	// the last SELECT (selected, of generation selectedGen) serves the
	// next one while gen stays.
	gen         int
	selected    *dataset
	selectedGen int
}

type table struct {
	meta  bq.Table
	blobs [][]byte // Parquet files, in load order
	rows  int64
	etag  int
}

// upload is a resumable upload session in progress.
type upload struct {
	meta   []byte
	media  bytes.Buffer
	finish func(meta, media []byte) (any, *apiError)
}

// New starts a fake on loopback; Close stops it.
func New() *Server {
	s := &Server{
		datasets: map[string]*bq.Dataset{},
		tables:   map[string]*table{},
		jobs:     map[string]*bq.Job{},
		jobData:  map[string][][]byte{},
		objects:  map[string][]byte{},
		created:  map[string]int64{},
		uploads:  map[string]*upload{},
		ledgers:  map[string][]ledgerRow{},
		results:  map[string]*result{},
		clock:    time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli(),
	}
	mux := http.NewServeMux()
	const v2 = "/bigquery/v2/projects/{project}"
	mux.HandleFunc("GET "+v2+"/datasets/{dataset}", s.getDataset)
	mux.HandleFunc("POST "+v2+"/datasets", s.insertDataset)
	mux.HandleFunc("GET "+v2+"/datasets/{dataset}/tables/{table}", s.getTable)
	mux.HandleFunc("POST "+v2+"/datasets/{dataset}/tables", s.insertTable)
	mux.HandleFunc("PATCH "+v2+"/datasets/{dataset}/tables/{table}", s.patchTable)
	mux.HandleFunc("DELETE "+v2+"/datasets/{dataset}/tables/{table}", s.deleteTable)
	mux.HandleFunc("GET "+v2+"/datasets/{dataset}/tables", s.listTables)
	mux.HandleFunc("POST "+v2+"/jobs", s.insertJob)
	mux.HandleFunc("POST /upload"+v2+"/jobs", s.uploadJob)
	mux.HandleFunc("GET "+v2+"/jobs/{job}", s.getJob)
	mux.HandleFunc("GET "+v2+"/queries/{job}", s.getQueryResults)
	mux.HandleFunc("POST /upload/storage/v1/b/{bucket}/o", s.uploadObject)
	mux.HandleFunc("DELETE /storage/v1/b/{bucket}/o/{object...}", s.deleteObject)
	mux.HandleFunc("GET /storage/v1/b/{bucket}/o", s.listObjects)
	mux.HandleFunc("POST /upload/session/{id}", s.uploadChunk)
	mux.HandleFunc("PUT /upload/session/{id}", s.uploadChunk)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, &apiError{http.StatusNotImplemented, "notImplemented", "the fake does not implement " + r.Method + " " + r.URL.Path})
	})
	s.srv = httptest.NewServer(mux)
	return s
}

// Close stops the server.
func (s *Server) Close() {
	s.srv.Close()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.selected != nil {
		s.selected.close()
		s.selected = nil
	}
}

// URL is the server's root URL.
func (s *Server) URL() string { return s.srv.URL }

// ClientOptions point a BigQuery client at the fake.
func (s *Server) ClientOptions() []option.ClientOption {
	return []option.ClientOption{option.WithEndpoint(s.srv.URL + "/bigquery/v2/"), option.WithoutAuthentication(), option.WithHTTPClient(s.srv.Client())}
}

// StorageOptions point a Cloud Storage JSON API client at the fake.
func (s *Server) StorageOptions() []option.ClientOption {
	return []option.ClientOption{option.WithEndpoint(s.srv.URL + "/storage/v1/"), option.WithoutAuthentication(), option.WithHTTPClient(s.srv.Client())}
}

// FailJobs makes every job for which fn returns an error end DONE with that
// error as its errorResult, changing nothing, as a failed BigQuery job does.
// fn sees the job as inserted; nil clears it.
func (s *Server) FailJobs(fn func(*bq.Job) *bq.ErrorProto) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail = fn
}

// Requests lists the requests received so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Jobs lists the jobs inserted so far, in order, as the fake answered them.
func (s *Server) Jobs() []*bq.Job {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*bq.Job, len(s.jobOrder))
	for i, k := range s.jobOrder {
		out[i] = s.jobs[k]
	}
	return out
}

// Dataset returns a dataset's definition.
func (s *Server) Dataset(project, dataset string) (*bq.Dataset, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.datasets[project+"/"+dataset]
	return d, ok
}

// Table returns a table's (or view's) definition.
func (s *Server) Table(project, dataset, name string) (*bq.Table, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tables[project+"/"+dataset+"/"+name]
	if !ok {
		return nil, false
	}
	return t.resource(), true
}

// TableNames lists the tables and views of a dataset, sorted.
func (s *Server) TableNames(project, dataset string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	prefix := project + "/" + dataset + "/"
	for k := range s.tables {
		if name, ok := strings.CutPrefix(k, prefix); ok {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// Rows decodes the rows a table holds from load jobs, as JSON objects.
func (s *Server) Rows(project, dataset, name string) ([]map[string]any, error) {
	s.mu.Lock()
	t, ok := s.tables[project+"/"+dataset+"/"+name]
	var blobs [][]byte
	if ok {
		blobs = append(blobs, t.blobs...)
	}
	s.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("no table %s.%s.%s", project, dataset, name)
	}
	return decodeRows(blobs)
}

// LoadedRows decodes the rows a successful load job read, as JSON objects.
func (s *Server) LoadedRows(job *bq.Job) ([]map[string]any, error) {
	s.mu.Lock()
	blobs, ok := s.jobData[job.JobReference.ProjectId+"/"+job.JobReference.JobId]
	s.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("job %s loaded nothing", job.Id)
	}
	return decodeRows(blobs)
}

// decodeRows reads Parquet files as JSON objects, one per row.
func decodeRows(blobs [][]byte) ([]map[string]any, error) {
	var rows []map[string]any
	for _, b := range blobs {
		tbl, err := pqarrow.ReadTable(context.Background(), bytes.NewReader(b), nil, pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
		if err != nil {
			return nil, err
		}
		tr := array.NewTableReader(tbl, 1024)
		for tr.Next() {
			var buf bytes.Buffer
			if err = array.RecordToJSON(tr.RecordBatch(), &buf); err != nil {
				break
			}
			dec := json.NewDecoder(&buf)
			for err == nil && dec.More() {
				var row map[string]any
				if err = dec.Decode(&row); err == nil {
					rows = append(rows, row)
				}
			}
			if err != nil {
				break
			}
		}
		tr.Release()
		tbl.Release()
		if err != nil {
			return nil, err
		}
	}
	return rows, nil
}

// Objects lists the GCS objects held, as gs:// URIs, sorted.
func (s *Server) Objects() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for k := range s.objects {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func (t *table) resource() *bq.Table {
	r := t.meta
	r.Etag = strconv.Itoa(t.etag)
	if r.Type == "TABLE" {
		r.NumRows = uint64(t.rows)
		r.NumBytes = t.bytes()
	}
	return &r
}

func (t *table) bytes() int64 {
	var n int64
	for _, b := range t.blobs {
		n += int64(len(b))
	}
	return n
}

// apiError is an error answer of the REST API.
type apiError struct {
	code    int
	reason  string
	message string
}

func writeError(w http.ResponseWriter, e *apiError) {
	status := map[int]string{400: "INVALID_ARGUMENT", 404: "NOT_FOUND", 409: "ALREADY_EXISTS", 412: "FAILED_PRECONDITION", 501: "UNIMPLEMENTED"}[e.code]
	writeJSON(w, e.code, map[string]any{"error": map[string]any{
		"code": e.code, "message": e.message, "status": status,
		"errors": []map[string]string{{"message": e.message, "domain": "global", "reason": e.reason}},
	}})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func notFound(what string) *apiError { return &apiError{404, "notFound", "Not found: " + what} }

// record reads a request's JSON body and logs the request.
func (s *Server) record(r *http.Request, body []byte, media int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Body: body, Media: media})
}

func (s *Server) readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	body, err := io.ReadAll(r.Body)
	s.record(r, body, 0)
	if err == nil && len(body) > 0 {
		err = json.Unmarshal(body, v)
	}
	if err != nil {
		writeError(w, &apiError{400, "invalid", "reading the request body: " + fmt.Sprint(err)})
		return false
	}
	return true
}

func (s *Server) getDataset(w http.ResponseWriter, r *http.Request) {
	s.record(r, nil, 0)
	p, d := r.PathValue("project"), r.PathValue("dataset")
	s.mu.Lock()
	ds, ok := s.datasets[p+"/"+d]
	s.mu.Unlock()
	if !ok {
		writeError(w, notFound("Dataset "+p+":"+d))
		return
	}
	writeJSON(w, 200, ds)
}

func (s *Server) insertDataset(w http.ResponseWriter, r *http.Request) {
	var ds bq.Dataset
	if !s.readJSON(w, r, &ds) {
		return
	}
	p := r.PathValue("project")
	if ds.DatasetReference == nil || ds.DatasetReference.DatasetId == "" {
		writeError(w, &apiError{400, "invalid", "Dataset reference is missing"})
		return
	}
	d := ds.DatasetReference.DatasetId
	ds.DatasetReference.ProjectId = p
	ds.Id = p + ":" + d
	if ds.Location == "" {
		ds.Location = "US"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.datasets[p+"/"+d]; ok {
		writeError(w, &apiError{409, "duplicate", "Already Exists: Dataset " + p + ":" + d})
		return
	}
	s.datasets[p+"/"+d] = &ds
	writeJSON(w, 200, &ds)
}

func (s *Server) getTable(w http.ResponseWriter, r *http.Request) {
	s.record(r, nil, 0)
	key, name := tableKey(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tables[key]
	if !ok {
		writeError(w, notFound("Table "+name))
		return
	}
	writeJSON(w, 200, t.resource())
}

func tableKey(r *http.Request) (key, name string) {
	p, d, t := r.PathValue("project"), r.PathValue("dataset"), r.PathValue("table")
	return p + "/" + d + "/" + t, p + ":" + d + "." + t
}

func (s *Server) insertTable(w http.ResponseWriter, r *http.Request) {
	var t bq.Table
	if !s.readJSON(w, r, &t) {
		return
	}
	p, d := r.PathValue("project"), r.PathValue("dataset")
	if t.TableReference == nil || t.TableReference.TableId == "" {
		writeError(w, &apiError{400, "invalid", "Table reference is missing"})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.datasets[p+"/"+d]; !ok {
		writeError(w, notFound("Dataset "+p+":"+d))
		return
	}
	name := t.TableReference.TableId
	if _, ok := s.tables[p+"/"+d+"/"+name]; ok {
		writeError(w, &apiError{409, "duplicate", "Already Exists: Table " + p + ":" + d + "." + name})
		return
	}
	if e := checkTable(&t); e != nil {
		writeError(w, e)
		return
	}
	s.putTable(p, d, name, t)
	writeJSON(w, 200, s.tables[p+"/"+d+"/"+name].resource())
}

// putTable stores a table definition (the caller holds mu).
func (s *Server) putTable(p, d, name string, t bq.Table) {
	t.TableReference = &bq.TableReference{ProjectId: p, DatasetId: d, TableId: name}
	t.Id = p + ":" + d + "." + name
	t.Kind = "bigquery#table"
	t.Type = "TABLE"
	if t.View != nil {
		t.Type = "VIEW"
	}
	t.CreationTime = s.tick()
	t.LastModifiedTime = uint64(t.CreationTime)
	s.tables[p+"/"+d+"/"+name] = &table{meta: t, etag: 1}
	s.gen++
}

var fieldTypes = map[string]string{
	"STRING": "STRING", "BYTES": "BYTES", "INTEGER": "INTEGER", "INT64": "INTEGER", "FLOAT": "FLOAT", "FLOAT64": "FLOAT",
	"BOOLEAN": "BOOLEAN", "BOOL": "BOOLEAN", "TIMESTAMP": "TIMESTAMP", "DATE": "DATE", "DATETIME": "DATETIME", "TIME": "TIME",
	"NUMERIC": "NUMERIC", "BIGNUMERIC": "BIGNUMERIC", "JSON": "JSON", "GEOGRAPHY": "GEOGRAPHY",
}

// checkTable rejects definitions BigQuery rejects: bad types, duplicate
// names, and a partitioning or clustering column that is not a top-level
// column of a suitable type.
func checkTable(t *bq.Table) *apiError {
	if t.Schema == nil {
		if t.TimePartitioning != nil || t.Clustering != nil {
			return &apiError{400, "invalid", "Partitioning and clustering need a schema"}
		}
		return nil
	}
	types := map[string]*bq.TableFieldSchema{}
	for _, f := range t.Schema.Fields {
		if _, ok := fieldTypes[f.Type]; !ok {
			return &apiError{400, "invalid", "Invalid field type " + f.Type + " for field " + f.Name}
		}
		lower := strings.ToLower(f.Name)
		if _, dup := types[lower]; dup {
			return &apiError{400, "invalid", "Field " + f.Name + " already exists in schema"}
		}
		types[lower] = f
	}
	if tp := t.TimePartitioning; tp != nil {
		if tp.Field != "" {
			f, ok := types[strings.ToLower(tp.Field)]
			if !ok {
				return &apiError{400, "invalid", "The field specified for partitioning cannot be found in the schema: " + tp.Field}
			}
			if t := fieldTypes[f.Type]; f.Mode == "REPEATED" || (t != "DATE" && t != "TIMESTAMP" && t != "DATETIME") {
				return &apiError{400, "invalid", "The field specified for time partitioning can only be of type TIMESTAMP, DATE or DATETIME. The type found is: " + f.Type}
			}
		}
		if tp.Type != "DAY" && tp.Type != "HOUR" && tp.Type != "MONTH" && tp.Type != "YEAR" {
			return &apiError{400, "invalid", "Invalid time partitioning type " + tp.Type}
		}
	}
	if c := t.Clustering; c != nil {
		if len(c.Fields) > 4 {
			return &apiError{400, "invalid", "Too many clustering fields: " + strconv.Itoa(len(c.Fields)) + ", only 4 are allowed"}
		}
		for _, name := range c.Fields {
			f, ok := types[strings.ToLower(name)]
			if !ok || f.Mode == "REPEATED" {
				return &apiError{400, "invalid", "The field specified for clustering cannot be found in the schema: " + name}
			}
		}
	}
	return nil
}

func (s *Server) patchTable(w http.ResponseWriter, r *http.Request) {
	var patch bq.Table
	if !s.readJSON(w, r, &patch) {
		return
	}
	key, name := tableKey(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tables[key]
	if !ok {
		writeError(w, notFound("Table "+name))
		return
	}
	if m := r.Header.Get("If-Match"); m != "" && m != strconv.Itoa(t.etag) {
		writeError(w, &apiError{412, "conditionNotMet", "Precondition check failed."})
		return
	}
	next := t.meta
	if patch.Schema != nil {
		// Columns may be added, never dropped or retyped.
		old := map[string]*bq.TableFieldSchema{}
		if next.Schema != nil {
			for _, f := range next.Schema.Fields {
				old[f.Name] = f
			}
		}
		kept := 0
		for _, f := range patch.Schema.Fields {
			if o, ok := old[f.Name]; ok {
				kept++
				if fieldTypes[o.Type] != fieldTypes[f.Type] || o.Mode != f.Mode {
					writeError(w, &apiError{400, "invalid", "Provided Schema does not match Table " + name + ". Field " + f.Name + " has changed type from " + o.Type + " to " + f.Type})
					return
				}
			}
		}
		if kept != len(old) {
			writeError(w, &apiError{400, "invalid", "Provided Schema does not match Table " + name + ". Cannot drop fields."})
			return
		}
		next.Schema = patch.Schema
	}
	if patch.Description != "" {
		next.Description = patch.Description
	}
	if patch.View != nil {
		next.View = patch.View
	}
	if e := checkTable(&next); e != nil {
		writeError(w, e)
		return
	}
	next.LastModifiedTime = uint64(s.tick())
	t.meta = next
	s.gen++
	t.etag++
	writeJSON(w, 200, t.resource())
}

// listTables is tables.list, in one page.
func (s *Server) listTables(w http.ResponseWriter, r *http.Request) {
	s.record(r, nil, 0)
	p, d := r.PathValue("project"), r.PathValue("dataset")
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.datasets[p+"/"+d]; !ok {
		writeError(w, notFound("Dataset "+p+":"+d))
		return
	}
	var names []string
	for key := range s.tables {
		if name, ok := strings.CutPrefix(key, p+"/"+d+"/"); ok {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	list := &bq.TableList{Kind: "bigquery#tableList", TotalItems: int64(len(names))}
	for _, name := range names {
		t := s.tables[p+"/"+d+"/"+name].meta
		list.Tables = append(list.Tables, &bq.TableListTables{Kind: "bigquery#table", Id: t.Id, TableReference: t.TableReference,
			Type: t.Type, CreationTime: t.CreationTime, ExpirationTime: t.ExpirationTime})
	}
	writeJSON(w, 200, list)
}

func (s *Server) deleteTable(w http.ResponseWriter, r *http.Request) {
	s.record(r, nil, 0)
	key, name := tableKey(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.tables[key]; !ok {
		writeError(w, notFound("Table "+name))
		return
	}
	delete(s.tables, key)
	s.gen++
	w.WriteHeader(http.StatusNoContent)
}

// tick is the fake's clock in Unix milliseconds; it advances on each use
// so that times are distinct and deterministic (the caller holds mu).
func (s *Server) tick() int64 {
	s.clock++
	return s.clock
}

func (s *Server) insertJob(w http.ResponseWriter, r *http.Request) {
	var job bq.Job
	if !s.readJSON(w, r, &job) {
		return
	}
	s.runJob(w, r.PathValue("project"), &job, nil)
}

// uploadJob is jobs.insert with media: a multipart request (metadata and
// file in one) or the start of a resumable upload.
func (s *Server) uploadJob(w http.ResponseWriter, r *http.Request) {
	project := r.PathValue("project")
	s.upload(w, r, func(meta, media []byte) (any, *apiError) {
		var job bq.Job
		if err := json.Unmarshal(meta, &job); err != nil {
			return nil, &apiError{400, "invalid", "reading the job: " + err.Error()}
		}
		return s.startJob(project, &job, media)
	})
}

// upload serves the two media upload protocols of Google's APIs.
func (s *Server) upload(w http.ResponseWriter, r *http.Request, finish func(meta, media []byte) (any, *apiError)) {
	switch r.URL.Query().Get("uploadType") {
	case "multipart":
		meta, media, err := readMultipart(r)
		s.record(r, meta, len(media))
		if err != nil {
			writeError(w, &apiError{400, "invalid", "reading the multipart upload: " + err.Error()})
			return
		}
		res, e := finish(meta, media)
		if e != nil {
			writeError(w, e)
			return
		}
		writeJSON(w, 200, res)
	case "resumable":
		meta, err := io.ReadAll(r.Body)
		s.record(r, meta, 0)
		if err != nil {
			writeError(w, &apiError{400, "invalid", err.Error()})
			return
		}
		id := randomID()
		s.mu.Lock()
		s.uploads[id] = &upload{meta: meta, finish: finish}
		s.mu.Unlock()
		w.Header().Set("Location", s.srv.URL+"/upload/session/"+id)
		w.WriteHeader(200)
	default:
		s.record(r, nil, 0)
		writeError(w, &apiError{400, "invalid", "the fake takes uploadType multipart or resumable"})
	}
}

// uploadChunk takes one chunk of a resumable upload. Chunks must arrive in
// order; the last one (whose Content-Range names the total) finishes it.
func (s *Server) uploadChunk(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	data, err := io.ReadAll(r.Body)
	s.record(r, nil, len(data))
	s.mu.Lock()
	u, ok := s.uploads[id]
	s.mu.Unlock()
	if !ok || err != nil {
		writeError(w, notFound("upload session "+id))
		return
	}
	var first, last int64
	var total string
	cr := r.Header.Get("Content-Range")
	if n, _ := fmt.Sscanf(cr, "bytes %d-%d/%s", &first, &last, &total); n == 3 {
		if first != int64(u.media.Len()) || last-first+1 != int64(len(data)) {
			writeError(w, &apiError{400, "invalid", "out-of-order chunk " + cr})
			return
		}
		u.media.Write(data)
	} else if _, err := fmt.Sscanf(cr, "bytes */%s", &total); err != nil {
		writeError(w, &apiError{400, "invalid", "bad Content-Range " + cr})
		return
	}
	if total == "*" {
		w.Header().Set("X-Http-Status-Code-Override", "308")
		w.Header().Set("Range", fmt.Sprintf("bytes=0-%d", u.media.Len()-1))
		w.WriteHeader(200)
		return
	}
	s.mu.Lock()
	delete(s.uploads, id)
	s.mu.Unlock()
	res, e := u.finish(u.meta, u.media.Bytes())
	if e != nil {
		writeError(w, e)
		return
	}
	writeJSON(w, 200, res)
}

func readMultipart(r *http.Request) (meta, media []byte, err error) {
	_, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil {
		return nil, nil, err
	}
	mr := multipart.NewReader(r.Body, params["boundary"])
	for i := 0; i < 2; i++ {
		p, err := mr.NextPart()
		if err != nil {
			return nil, nil, err
		}
		b, err := io.ReadAll(p)
		if err != nil {
			return nil, nil, err
		}
		if i == 0 {
			meta = b
		} else {
			media = b
		}
	}
	return meta, media, nil
}

func (s *Server) runJob(w http.ResponseWriter, project string, job *bq.Job, media []byte) {
	res, e := s.startJob(project, job, media)
	if e != nil {
		writeError(w, e)
		return
	}
	writeJSON(w, 200, res)
}

// startJob inserts a job and runs it to its end.
func (s *Server) startJob(project string, job *bq.Job, media []byte) (*bq.Job, *apiError) {
	if job.Configuration == nil || (job.Configuration.Query == nil) == (job.Configuration.Load == nil) {
		return nil, &apiError{400, "invalid", "the fake runs query and load jobs only"}
	}
	if job.JobReference == nil {
		job.JobReference = &bq.JobReference{}
	}
	ref := job.JobReference
	ref.ProjectId = project
	if ref.JobId == "" {
		ref.JobId = "job_" + randomID()
	}
	if ref.Location == "" {
		ref.Location = "US"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	key := project + "/" + ref.JobId
	if _, dup := s.jobs[key]; dup {
		return nil, &apiError{409, "duplicate", "Already Exists: Job " + project + ":" + ref.Location + "." + ref.JobId}
	}
	job.Id = project + ":" + ref.Location + "." + ref.JobId
	job.Kind = "bigquery#job"
	job.Statistics = &bq.JobStatistics{CreationTime: s.tick(), StartTime: s.tick()}
	var fail *bq.ErrorProto
	if s.fail != nil {
		fail = s.fail(job)
	}
	if fail == nil {
		if job.Configuration.Load != nil {
			fail = s.load(job, media)
		} else {
			fail = s.query(job)
		}
	}
	if q := job.Configuration.Query; q == nil || q.DefaultDataset == nil {
		s.gen++ // a load or a statement may change rows; a read does not
	}
	job.Statistics.EndTime = s.tick()
	job.Status = &bq.JobStatus{State: "DONE"}
	if fail != nil {
		job.Status.ErrorResult = fail
		job.Status.Errors = []*bq.ErrorProto{fail}
	}
	s.jobs[key] = job
	s.jobOrder = append(s.jobOrder, key)
	return job, nil
}

// load runs a load job (the caller holds mu).
func (s *Server) load(job *bq.Job, media []byte) *bq.ErrorProto {
	lc := job.Configuration.Load
	dst := lc.DestinationTable
	if dst == nil {
		return &bq.ErrorProto{Reason: "invalid", Message: "Load configuration must specify destination table"}
	}
	if dst.ProjectId == "" {
		dst.ProjectId = job.JobReference.ProjectId
	}
	name := dst.ProjectId + ":" + dst.DatasetId + "." + dst.TableId
	t, ok := s.tables[dst.ProjectId+"/"+dst.DatasetId+"/"+dst.TableId]
	if !ok {
		if lc.CreateDisposition == "CREATE_NEVER" {
			return &bq.ErrorProto{Reason: "notFound", Message: "Not found: Table " + name}
		}
		return &bq.ErrorProto{Reason: "invalid", Message: "the fake loads into existing tables only: " + name}
	}
	if t.meta.Type != "TABLE" {
		return &bq.ErrorProto{Reason: "invalid", Message: "Cannot load into " + name + ": it is a view"}
	}
	if lc.SourceFormat != "PARQUET" {
		return &bq.ErrorProto{Reason: "invalid", Message: "the fake reads only PARQUET, not " + strconv.Quote(lc.SourceFormat)}
	}
	var blobs [][]byte
	switch {
	case media != nil && len(lc.SourceUris) > 0:
		return &bq.ErrorProto{Reason: "invalid", Message: "Source URIs and an upload were both given"}
	case media != nil:
		blobs = [][]byte{media}
	case len(lc.SourceUris) == 0:
		return &bq.ErrorProto{Reason: "invalid", Message: "No source URIs and no upload"}
	}
	for _, uri := range lc.SourceUris {
		b, ok := s.objects[uri]
		if !ok {
			return &bq.ErrorProto{Reason: "notFound", Message: "Not found: URI " + uri}
		}
		blobs = append(blobs, b)
	}
	var rows, in int64
	for _, b := range blobs {
		n, err := checkParquet(b, t.meta.Schema, name)
		if err != nil {
			return err
		}
		rows += n
		in += int64(len(b))
	}
	switch lc.WriteDisposition {
	case "WRITE_TRUNCATE":
		t.blobs, t.rows = nil, 0
	case "WRITE_EMPTY":
		if t.rows > 0 {
			return &bq.ErrorProto{Reason: "duplicate", Message: "Already Exists: Table " + name}
		}
	case "", "WRITE_APPEND":
	default:
		return &bq.ErrorProto{Reason: "invalid", Message: "Invalid write disposition " + lc.WriteDisposition}
	}
	t.blobs = append(t.blobs, blobs...)
	t.rows += rows
	s.jobData[job.JobReference.ProjectId+"/"+job.JobReference.JobId] = blobs
	t.etag++
	job.Statistics.Load = &bq.JobStatistics3{InputFiles: int64(len(blobs)), InputFileBytes: in, OutputRows: rows, OutputBytes: in}
	return nil
}

// parquetTypes maps the Arrow types a Parquet file reads as to BigQuery's.
var parquetTypes = map[arrow.Type]string{
	arrow.STRING: "STRING", arrow.LARGE_STRING: "STRING", arrow.BINARY: "BYTES", arrow.LARGE_BINARY: "BYTES",
	arrow.INT32: "INTEGER", arrow.INT64: "INTEGER", arrow.FLOAT32: "FLOAT", arrow.FLOAT64: "FLOAT", arrow.BOOL: "BOOLEAN",
	arrow.TIMESTAMP: "TIMESTAMP", arrow.DATE32: "DATE",
}

// checkParquet reads a Parquet file and checks its columns against the
// destination schema as a load into an existing table does: every column
// must exist there with a compatible type. It returns the row count.
func checkParquet(b []byte, sc *bq.TableSchema, table string) (int64, *bq.ErrorProto) {
	pf, err := file.NewParquetReader(bytes.NewReader(b))
	if err != nil {
		return 0, &bq.ErrorProto{Reason: "invalid", Message: "Error while reading data, error message: Failed to read a Parquet file: " + err.Error()}
	}
	defer pf.Close()
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
	if err != nil {
		return 0, &bq.ErrorProto{Reason: "invalid", Message: "Error while reading data, error message: " + err.Error()}
	}
	asc, err := fr.Schema()
	if err != nil {
		return 0, &bq.ErrorProto{Reason: "invalid", Message: "Error while reading data, error message: " + err.Error()}
	}
	fields := map[string]*bq.TableFieldSchema{}
	if sc != nil {
		for _, f := range sc.Fields {
			fields[strings.ToLower(f.Name)] = f
		}
	}
	for _, f := range asc.Fields() {
		dst, ok := fields[strings.ToLower(f.Name)]
		if !ok {
			return 0, &bq.ErrorProto{Reason: "invalid", Message: "Provided Schema does not match Table " + table + ". Cannot add fields (field: " + f.Name + ")"}
		}
		typ, mode := f.Type, "NULLABLE"
		if l, ok := typ.(*arrow.ListType); ok {
			typ, mode = l.Elem(), "REPEATED"
		}
		got := parquetTypes[typ.ID()]
		want, wantMode := fieldTypes[dst.Type], dst.Mode
		if wantMode == "" {
			wantMode = "NULLABLE"
		}
		if got != want || (mode == "REPEATED") != (wantMode == "REPEATED") {
			return 0, &bq.ErrorProto{Reason: "invalid", Message: fmt.Sprintf("Provided Schema does not match Table %s. Field %s has changed type from %s to %s", table, dst.Name, dst.Type, typ)}
		}
	}
	// BigQuery reads every value of a load; a STRING that is not UTF-8
	// fails the whole job.
	rr, err := fr.GetRecordReader(context.Background(), nil, nil)
	if err != nil {
		return 0, &bq.ErrorProto{Reason: "invalid", Message: "Error while reading data, error message: " + err.Error()}
	}
	defer rr.Release()
	for rr.Next() {
		rec := rr.RecordBatch()
		for i, col := range rec.Columns() {
			if err := array.ValidateFull(col); err != nil {
				return 0, &bq.ErrorProto{Reason: "invalid", Message: fmt.Sprintf("Error while reading data, error message: column %s: %v", rec.ColumnName(i), err)}
			}
		}
	}
	if err := rr.Err(); err != nil {
		return 0, &bq.ErrorProto{Reason: "invalid", Message: "Error while reading data, error message: " + err.Error()}
	}
	return pf.NumRows(), nil
}

// CheckParquet checks a Parquet file as a load job into an existing table
// of schema sc does: the columns and their types, and every value readable
// (STRING values UTF-8). Tests of what kycetl writes use it directly.
func CheckParquet(b []byte, sc *bq.TableSchema, table string) error {
	if _, e := checkParquet(b, sc, table); e != nil {
		return fmt.Errorf("%s: %s", e.Reason, e.Message)
	}
	return nil
}

var (
	createView = regexp.MustCompile("(?s)^\\s*CREATE OR REPLACE VIEW `([^`]+)` AS\\s*\\n(.*)$")
	tableRef   = regexp.MustCompile("`([^`.]+)\\.([^`.]+)\\.([^`.]+)`")
)

// query runs a query job (see the package's doc) and reports the bytes of
// the tables a statement without a default dataset names (the caller holds
// mu).
func (s *Server) query(job *bq.Job) *bq.ErrorProto {
	q := job.Configuration.Query
	if q.UseLegacySql == nil || *q.UseLegacySql {
		return &bq.ErrorProto{Reason: "invalid", Message: "the fake runs GoogleSQL only: set useLegacySql to false"}
	}
	if q.DefaultDataset != nil {
		if _, ok := s.answers[normalize(q.Query)]; ok {
			return s.answerLedger(job)
		}
		return s.selectRows(job)
	}
	stats := &bq.JobStatistics2{StatementType: "SELECT"}
	if m := insertRuns.FindStringSubmatch(q.Query); m != nil {
		if e := s.recordRuns(m[1], m[2], q.QueryParameters); e != nil {
			return e
		}
	}
	isScript, e := s.script(q.Query, q.QueryParameters)
	if e != nil {
		return e
	}
	if m := createView.FindStringSubmatch(q.Query); m != nil {
		parts := strings.Split(m[1], ".")
		if len(parts) != 3 {
			return &bq.ErrorProto{Reason: "invalid", Message: "Table name " + m[1] + " missing dataset while no default dataset is set in the request."}
		}
		if _, ok := s.datasets[parts[0]+"/"+parts[1]]; !ok {
			return &bq.ErrorProto{Reason: "notFound", Message: "Not found: Dataset " + parts[0] + ":" + parts[1]}
		}
		if old, ok := s.tables[parts[0]+"/"+parts[1]+"/"+parts[2]]; ok && old.meta.Type != "VIEW" {
			return &bq.ErrorProto{Reason: "invalid", Message: "Not a view: " + m[1]}
		}
		s.putTable(parts[0], parts[1], parts[2], bq.Table{View: &bq.ViewDefinition{Query: m[2]}})
		stats.StatementType = "CREATE_VIEW"
		stats.DdlOperationPerformed = "REPLACE"
	} else {
		if !isScript && insertRuns.FindStringSubmatch(q.Query) == nil {
			return &bq.ErrorProto{Reason: "invalidQuery", Message: "the fake does not run this statement without a default dataset (see sql.go): " + q.Query}
		}
		stats.StatementType = "SCRIPT"
		seen := map[string]bool{}
		for _, m := range tableRef.FindAllStringSubmatch(q.Query, -1) {
			key := m[1] + "/" + m[2] + "/" + m[3]
			if t, ok := s.tables[key]; ok && !seen[key] {
				seen[key] = true
				stats.TotalBytesProcessed += t.bytes()
			}
		}
	}
	job.Statistics.Query = stats
	job.Statistics.TotalBytesProcessed = stats.TotalBytesProcessed
	return nil
}

func (s *Server) getJob(w http.ResponseWriter, r *http.Request) {
	s.record(r, nil, 0)
	p, id := r.PathValue("project"), r.PathValue("job")
	s.mu.Lock()
	job, ok := s.jobs[p+"/"+id]
	s.mu.Unlock()
	if !ok {
		writeError(w, notFound("Job "+p+":"+id))
		return
	}
	writeJSON(w, 200, job)
}

// getQueryResults answers that a query is complete; for a failed job it
// answers with the job's error, as BigQuery does.
func (s *Server) getQueryResults(w http.ResponseWriter, r *http.Request) {
	s.record(r, nil, 0)
	p, id := r.PathValue("project"), r.PathValue("job")
	s.mu.Lock()
	job, ok := s.jobs[p+"/"+id]
	s.mu.Unlock()
	if !ok || job.Configuration.Query == nil {
		writeError(w, notFound("Job "+p+":"+id))
		return
	}
	if e := job.Status.ErrorResult; e != nil {
		writeError(w, &apiError{400, e.Reason, e.Message})
		return
	}
	res := &bq.GetQueryResultsResponse{
		Kind: "bigquery#getQueryResultsResponse", JobReference: job.JobReference, JobComplete: true,
		TotalBytesProcessed: job.Statistics.TotalBytesProcessed, Schema: &bq.TableSchema{},
	}
	s.mu.Lock()
	if rs, ok := s.results[p+"/"+id]; ok {
		// All rows in one page, from startIndex on; maxResults=0 asks
		// for none (the client waiting for the job).
		res.Schema.Fields, res.TotalRows = rs.fields, uint64(len(rs.rows))
		start, _ := strconv.Atoi(r.URL.Query().Get("startIndex"))
		if r.URL.Query().Get("maxResults") != "0" && start < len(rs.rows) {
			for _, row := range rs.rows[start:] {
				tr := &bq.TableRow{}
				for _, v := range row {
					tr.F = append(tr.F, cell(v))
				}
				res.Rows = append(res.Rows, tr)
			}
		}
	}
	s.mu.Unlock()
	writeJSON(w, 200, res)
}

// uploadObject is the Cloud Storage objects.insert upload.
func (s *Server) uploadObject(w http.ResponseWriter, r *http.Request) {
	bucket := r.PathValue("bucket")
	queryName := r.URL.Query().Get("name")
	s.upload(w, r, func(meta, media []byte) (any, *apiError) {
		var obj struct {
			Name string `json:"name"`
		}
		if len(meta) > 0 {
			if err := json.Unmarshal(meta, &obj); err != nil {
				return nil, &apiError{400, "invalid", "reading the object: " + err.Error()}
			}
		}
		if obj.Name == "" {
			obj.Name = queryName
		}
		if obj.Name == "" {
			return nil, &apiError{400, "required", "Required object name"}
		}
		s.mu.Lock()
		s.objects["gs://"+bucket+"/"+obj.Name] = append([]byte(nil), media...)
		s.created["gs://"+bucket+"/"+obj.Name] = s.tick()
		s.mu.Unlock()
		return map[string]any{"kind": "storage#object", "bucket": bucket, "name": obj.Name, "size": strconv.Itoa(len(media))}, nil
	})
}

func (s *Server) deleteObject(w http.ResponseWriter, r *http.Request) {
	s.record(r, nil, 0)
	uri := "gs://" + r.PathValue("bucket") + "/" + r.PathValue("object")
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.objects[uri]; !ok {
		writeError(w, notFound(uri))
		return
	}
	delete(s.objects, uri)
	delete(s.created, uri)
	w.WriteHeader(http.StatusNoContent)
}

// listObjects is objects.list, with prefix, in one page.
func (s *Server) listObjects(w http.ResponseWriter, r *http.Request) {
	s.record(r, nil, 0)
	bucket, prefix := r.PathValue("bucket"), r.URL.Query().Get("prefix")
	s.mu.Lock()
	defer s.mu.Unlock()
	items := []map[string]any{}
	for uri, data := range s.objects {
		name, ok := strings.CutPrefix(uri, "gs://"+bucket+"/")
		if !ok || !strings.HasPrefix(name, prefix) {
			continue
		}
		items = append(items, map[string]any{"kind": "storage#object", "bucket": bucket, "name": name, "size": strconv.Itoa(len(data)),
			"timeCreated": time.UnixMilli(s.created[uri]).UTC().Format(time.RFC3339Nano)})
	}
	sort.Slice(items, func(i, j int) bool { return items[i]["name"].(string) < items[j]["name"].(string) })
	writeJSON(w, 200, map[string]any{"kind": "storage#objects", "items": items})
}

// SetClock sets the fake's clock, which dates tables and objects as they
// are created (it advances a millisecond on each use).
func (s *Server) SetClock(t time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clock = t.UnixMilli()
}

func randomID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
