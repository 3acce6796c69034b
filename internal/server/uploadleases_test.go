package server

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ocrinvoice/ocrinvoice/internal/auth"
	"github.com/ocrinvoice/ocrinvoice/internal/ratelimit"
	"github.com/ocrinvoice/ocrinvoice/internal/redisproc/redistest"
)

// TestSharedUploadConcurrency: two servers sharing a Redis count one key's uploads in
// flight together (limit 1: an upload on one refuses the next on the other); a lease
// renewed while its upload streams outlives its duration; the lease of a holder that
// died without giving it back stops counting once it expires; and with Redis gone each
// server counts in process instead of refusing or letting everything through.
func TestSharedUploadConcurrency(t *testing.T) {
	rs := redistest.Start(t)
	rdb := redis.NewClient(&redis.Options{Addr: rs.Addr})
	t.Cleanup(func() { _ = rdb.Close() })
	leases := ratelimit.NewLeases(rdb, "test:"+t.Name()+":")
	fs := newFailureStack(t)

	var keyID atomic.Value
	entered := make(chan struct{}, 10)
	upload := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p, ok := auth.FromContext(r.Context()); ok {
			keyID.Store(p.KeyID)
		}
		entered <- struct{}{}
		_, _ = io.Copy(io.Discard, r.Body)
	})
	start := func() (*Server, *httptest.Server) {
		s, err := New(Options{Auth: fs.store, REST: upload, GraphQL: upload, UploadConcurrency: 1,
			UploadLeases: leases, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(s.Handler())
		t.Cleanup(srv.Close)
		return s, srv
	}
	a, srvA := start()
	_, srvB := start()
	a.limits.leaseTTL = 300 * time.Millisecond // renewed every 100 ms while it streams

	post := func(srv *httptest.Server, body io.Reader) int {
		t.Helper()
		req, _ := http.NewRequest("POST", srv.URL+"/api/v1/uploads", body)
		req.Header.Set("Authorization", "Bearer "+fs.good)
		req.Header.Set("Content-Type", "application/pdf")
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == 200 {
			<-entered
		}
		return resp.StatusCode
	}
	hold := func(srv *httptest.Server) (finish func() int) {
		t.Helper()
		pr, pw := io.Pipe()
		done := make(chan int, 1)
		go func() {
			req, _ := http.NewRequest("POST", srv.URL+"/api/v1/uploads", pr)
			req.Header.Set("Authorization", "Bearer "+fs.good)
			req.Header.Set("Content-Type", "application/pdf")
			resp, err := srv.Client().Do(req)
			if err != nil {
				done <- 0
				return
			}
			resp.Body.Close()
			done <- resp.StatusCode
		}()
		_, _ = pw.Write([]byte("%PDF-1.7"))
		select {
		case <-entered:
		case <-time.After(5 * time.Second):
			t.Fatal("upload did not reach the handler")
		}
		return func() int { pw.Close(); return <-done }
	}

	finish := hold(srvA)
	if c := post(srvB, strings.NewReader("x")); c != 429 {
		t.Fatalf("upload on B while one is in flight on A = %d, want 429", c)
	}
	// A's lease lasts 300 ms; the upload streams for a second, renewing it.
	time.Sleep(time.Second)
	if c := post(srvB, strings.NewReader("x")); c != 429 {
		t.Fatalf("upload on B after A's lease duration, A still uploading = %d, want 429", c)
	}
	if c := finish(); c != 200 {
		t.Fatalf("held upload = %d", c)
	}
	if c := post(srvB, strings.NewReader("x")); c != 200 {
		t.Fatalf("upload on B once A's finished = %d", c)
	}

	// A replica that died mid-upload: its lease stays until it expires.
	id, _ := keyID.Load().(string)
	if ok, err := leases.Acquire(context.Background(), id, "dead-replica", 1, 500*time.Millisecond); err != nil || !ok {
		t.Fatalf("lease of the dead replica: %v, %v", ok, err)
	}
	if c := post(srvB, strings.NewReader("x")); c != 429 {
		t.Fatalf("upload while a dead replica's lease is live = %d, want 429", c)
	}
	time.Sleep(600 * time.Millisecond)
	if c := post(srvB, strings.NewReader("x")); c != 200 {
		t.Fatalf("upload after the dead replica's lease expired = %d", c)
	}

	// Redis gone: each server counts its own uploads.
	_ = rs.Stop()
	finish = hold(srvA)
	if c := post(srvA, strings.NewReader("x")); c != 429 {
		t.Errorf("second upload on A with Redis down = %d, want 429 (counted in process)", c)
	}
	if c := post(srvB, strings.NewReader("x")); c != 200 {
		t.Errorf("upload on B with Redis down = %d, want 200 (its own count)", c)
	}
	if c := finish(); c != 200 {
		t.Errorf("held upload with Redis down = %d", c)
	}
}
