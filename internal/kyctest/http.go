package kyctest

import (
	"io"
	"net/http"
	"testing"
)

// Get sends GET u with header through client (http.DefaultClient when
// nil) and returns the response with its body read.
func Get(t testing.TB, client *http.Client, u string, header http.Header) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest("GET", u, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading GET %s: %v", u, err)
	}
	return resp, string(b)
}
