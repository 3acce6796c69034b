package server

import (
	"log/slog"
	"net/http"
	"net/netip"
	"testing"
	"time"
)

// TestAnonymousRate: requests that carry no API key are limited per client address —
// every request without authentication (Auth nil), requests without a key to protected
// routes (which would be 401) and the public pages — with 429, Retry-After and the
// RATE_LIMITED code; other addresses, requests with a valid key, and probes are not
// affected; behind a trusted proxy the X-Forwarded-For client is what is limited.
func TestAnonymousRate(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	codes := func(h http.Handler, n int, remote, method, target string, hdr http.Header) []int {
		t.Helper()
		var got []int
		for range n {
			got = append(got, doFrom(t, h, remote, method, target, hdr).Code)
		}
		return got
	}
	t.Run("no authentication", func(t *testing.T) {
		s, err := New(Options{GraphQL: whoami("graphql"), REST: whoami("rest"), AnonymousRate: 1, AnonymousBurst: 3,
			Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		s.limits.now = clock.now // stands still: no token comes back during the test
		h := s.Handler()
		if got := codes(h, 5, "203.0.113.5:1", "GET", "/api/v1/ocr-invoice-jobs", nil); !equalInts(got, []int{200, 200, 200, 429, 429}) {
			t.Fatalf("requests of one address: %v", got)
		}
		rec := doFrom(t, h, "203.0.113.5:1", "POST", "/graphql", nil)
		if rec.Code != 429 || rec.Header().Get("Retry-After") != "1" {
			t.Errorf("over the limit: %d, Retry-After %q", rec.Code, rec.Header().Get("Retry-After"))
		}
		if code, _, _ := errorCode(t, rec.Body.Bytes()); code != "RATE_LIMITED" {
			t.Errorf("error code %q", code)
		}
		if got := codes(h, 1, "198.51.100.7:1", "GET", "/api/v1/ocr-invoice-jobs", nil); got[0] != 200 {
			t.Errorf("another address = %v", got)
		}
		if got := codes(h, 3, "203.0.113.5:1", "GET", "/healthz", nil); !equalInts(got, []int{200, 200, 200}) {
			t.Errorf("probes of the limited address = %v", got)
		}
		clock.advance(2 * time.Second)
		if got := codes(h, 1, "203.0.113.5:1", "GET", "/api/v1/ocr-invoice-jobs", nil); got[0] != 200 {
			t.Errorf("after Retry-After = %v", got)
		}
	})
	t.Run("keys required", func(t *testing.T) {
		fs := newFailureStack(t)
		s := fs.server(t, Options{AnonymousRate: 1, AnonymousBurst: 3,
			TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}})
		s.limits.now = clock.now
		h := s.Handler()
		// Without a key: 401 while the address has budget, then 429; the public pages
		// draw from the same budget.
		if got := codes(h, 2, "203.0.113.9:1", "GET", "/api/v1/ocr-invoice-jobs", nil); !equalInts(got, []int{401, 401}) {
			t.Fatalf("without a key: %v", got)
		}
		if got := codes(h, 2, "203.0.113.9:1", "GET", "/playground", nil); !equalInts(got, []int{200, 429}) {
			t.Errorf("playground: %v", got)
		}
		if got := codes(h, 1, "203.0.113.9:1", "POST", "/graphql", nil); got[0] != 429 {
			t.Errorf("GraphQL without a key: %v", got)
		}
		// A valid key from the same address is limited by its own rate, not this one.
		if got := codes(h, 3, "203.0.113.9:1", "GET", "/api/v1/ocr-invoice-jobs", bearer(fs.good)); !equalInts(got, []int{200, 200, 200}) {
			t.Errorf("valid key from the limited address: %v", got)
		}
		// Behind a trusted proxy each client has its own budget.
		xff := func(client string) http.Header { return http.Header{"X-Forwarded-For": {client}} }
		if got := codes(h, 4, "10.1.2.3:1", "GET", "/openapi.json", xff("198.51.100.20")); !equalInts(got, []int{200, 200, 200, 429}) {
			t.Errorf("one client behind the proxy: %v", got)
		}
		if got := codes(h, 1, "10.1.2.3:1", "GET", "/openapi.json", xff("198.51.100.21")); got[0] != 200 {
			t.Errorf("another client behind the proxy: %v", got)
		}
	})
	t.Run("off", func(t *testing.T) {
		s, err := New(Options{GraphQL: whoami("graphql"), REST: whoami("rest"), Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		for i, c := range codes(s.Handler(), 200, "203.0.113.5:1", "GET", "/api/v1/ocr-invoice-jobs", nil) {
			if c != 200 {
				t.Fatalf("request %d = %d with no limit", i, c)
			}
		}
	})
}
