package server

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkMiddleware measures what the composition adds to a request (routing, metrics
// by route pattern, request log, panic guard) over calling the API handler directly.
func BenchmarkMiddleware(b *testing.B) {
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"success":true,"data":[],"total":0}`)
	})
	inner := http.NewServeMux()
	inner.Handle("GET /api/v1/ocr-invoice-jobs", api)
	s, err := New(Options{
		GraphQL: api, REST: inner,
		// A real handler that formats and drops records, as in production minus the I/O.
		Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)),
	})
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name string
		h    http.Handler
	}{{"direct", inner}, {"composed", s.Handler()}} {
		b.Run(bc.name, func(b *testing.B) {
			req := httptest.NewRequest("GET", "/api/v1/ocr-invoice-jobs?limit=50", nil)
			b.ReportAllocs()
			for b.Loop() {
				rec := httptest.NewRecorder()
				bc.h.ServeHTTP(rec, req)
				if rec.Code != 200 {
					b.Fatalf("code %d", rec.Code)
				}
			}
		})
	}
}
