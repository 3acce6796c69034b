package server

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ocrinvoice/ocrinvoice/ent"
	"github.com/ocrinvoice/ocrinvoice/internal/apikeys"
	"github.com/ocrinvoice/ocrinvoice/internal/auth"
	"github.com/ocrinvoice/ocrinvoice/internal/database/databasetest"
	"github.com/ocrinvoice/ocrinvoice/internal/ratelimit"
	"github.com/ocrinvoice/ocrinvoice/internal/redisproc/redistest"
)

// doFrom is doH from the client address remote (RemoteAddr, host:port).
func doFrom(t *testing.T, h http.Handler, remote, method, target string, header http.Header) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	req.RemoteAddr = remote
	for k, v := range header {
		req.Header[http.CanonicalHeaderKey(k)] = v
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// failureStack is a key store on its own SQLite database whose queries are counted, and
// a valid key in it.
type failureStack struct {
	store   *apikeys.Store
	good    string
	lookups atomic.Int64 // queries sent to the database
	logs    *syncBuffer
}

func newFailureStack(t *testing.T) *failureStack {
	t.Helper()
	db := databasetest.Open(t)
	fs := &failureStack{logs: &syncBuffer{}}
	db.Intercept(ent.InterceptFunc(func(next ent.Querier) ent.Querier {
		return ent.QuerierFunc(func(ctx context.Context, q ent.Query) (ent.Value, error) {
			fs.lookups.Add(1)
			return next.Query(ctx, q)
		})
	}))
	fs.store = apikeys.New(db, slog.New(slog.NewJSONHandler(fs.logs, nil)))
	c, err := fs.store.Create(context.Background(), apikeys.CreateInput{Name: "good", Role: auth.RoleViewer})
	if err != nil {
		t.Fatal(err)
	}
	fs.good = c.Key
	return fs
}

// server returns a server authenticating with the stack's store.
func (fs *failureStack) server(t *testing.T, opts Options) *Server {
	t.Helper()
	opts.Auth = fs.store
	opts.Logger = slog.New(slog.NewJSONHandler(fs.logs, nil))
	opts.GraphQL, opts.REST = whoami("graphql"), whoami("rest")
	s, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// badKey is a well-formed key that no store has: each one costs a lookup unless refused
// before it.
func badKey(t *testing.T) string {
	t.Helper()
	k, _, _, err := auth.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestAuthFailureLimit: 30 requests with invalid keys from one address get 401 up to the
// burst, then 429 RATE_LIMITED with Retry-After, and from then on without a key lookup;
// a valid key from another address is unaffected; the address may go on once Retry-After
// has passed, at the configured rate.
func TestAuthFailureLimit(t *testing.T) {
	fs := newFailureStack(t)
	s := fs.server(t, Options{AuthFailureRate: 10, AuthFailureBurst: 20})
	clock := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	s.limits.now = clock.now
	h := s.Handler()
	const attacker, other = "203.0.113.5:40000", "198.51.100.7:50000"

	before := fs.lookups.Load()
	codes := map[int]int{}
	firstLimited := 0
	for i := range 30 {
		rec := doFrom(t, h, attacker, "GET", "/api/v1/ocr-invoice-jobs", bearer(badKey(t)))
		codes[rec.Code]++
		if rec.Code == 429 && firstLimited == 0 {
			firstLimited = i + 1
			if rec.Header().Get("Retry-After") != "1" {
				t.Errorf("Retry-After %q, want 1", rec.Header().Get("Retry-After"))
			}
			if code, shape, _ := errorCode(t, rec.Body.Bytes()); code != "RATE_LIMITED" || shape != "rest" {
				t.Errorf("429 body %s", rec.Body)
			}
		}
	}
	if codes[401] != 20 || codes[429] != 10 || firstLimited != 21 {
		t.Errorf("answers %v, first 429 at request %d; want 20 x 401 then 10 x 429", codes, firstLimited)
	}
	// The request that found the budget spent was looked up; the 9 after it were not.
	if n := fs.lookups.Load() - before; n != 21 {
		t.Errorf("%d key lookups for 30 requests, want 21", n)
	}

	// Another address is not affected, with a valid key or an invalid one.
	if rec := doFrom(t, h, other, "POST", "/graphql", bearer(fs.good)); rec.Code != 200 {
		t.Errorf("valid key from another address = %d %s", rec.Code, rec.Body)
	}
	if rec := doFrom(t, h, other, "POST", "/graphql", bearer(badKey(t))); rec.Code != 401 {
		t.Errorf("invalid key from another address = %d", rec.Code)
	}
	// The limited address is refused before its key is looked at, whatever the key.
	if rec := doFrom(t, h, attacker, "GET", "/api/v1/ocr-invoice-jobs", bearer(fs.good)); rec.Code != 429 {
		t.Errorf("valid key from the limited address = %d, want 429", rec.Code)
	}
	// Requests without a key cost no lookup and are not counted: still 401.
	if rec := doFrom(t, h, attacker, "GET", "/api/v1/ocr-invoice-jobs", nil); rec.Code != 401 {
		t.Errorf("no key from the limited address = %d, want 401", rec.Code)
	}

	// After Retry-After, 10 more failures a second.
	clock.advance(time.Second)
	if rec := doFrom(t, h, attacker, "GET", "/api/v1/ocr-invoice-jobs", bearer(fs.good)); rec.Code != 200 {
		t.Errorf("valid key after Retry-After = %d", rec.Code)
	}
	codes = map[int]int{}
	for range 15 {
		codes[doFrom(t, h, attacker, "GET", "/api/v1/ocr-invoice-jobs", bearer(badKey(t))).Code]++
	}
	if codes[401] != 10 || codes[429] != 5 {
		t.Errorf("a second later: %v, want 10 x 401 then 5 x 429", codes)
	}
	metrics := doH(t, h, "GET", "/metrics", nil).Body.String()
	if !strings.Contains(metrics, `ocrinvoice_http_rejections_total{reason="auth_failures"} 16`) {
		t.Errorf("metrics lack 16 auth_failures rejections")
	}
}

// TestAuthFailureLimitOff: with AuthFailureRate 0 invalid keys are answered 401, however many.
func TestAuthFailureLimitOff(t *testing.T) {
	fs := newFailureStack(t)
	h := fs.server(t, Options{}).Handler()
	for i := range 50 {
		if rec := doFrom(t, h, "203.0.113.5:1", "POST", "/graphql", bearer(badKey(t))); rec.Code != 401 {
			t.Fatalf("request %d = %d, want 401", i, rec.Code)
		}
	}
}

// TestSharedAuthFailureLimit: with a shared RateLimiter, replicas draw failures of one
// address from one budget in Redis: 20 in total, not 20 each.
func TestSharedAuthFailureLimit(t *testing.T) {
	rs := redistest.Start(t)
	rdb := redis.NewClient(&redis.Options{Addr: rs.Addr})
	t.Cleanup(func() { _ = rdb.Close() })
	prefix := "test:" + t.Name() + ":"
	fs := newFailureStack(t)
	opts := Options{AuthFailureRate: 10, AuthFailureBurst: 20, RateLimiter: ratelimit.NewRedis(rdb, prefix)}
	servers := []*Server{fs.server(t, opts), fs.server(t, opts)}
	codes := map[int]int{}
	for i := range 30 {
		codes[doFrom(t, servers[i%2].Handler(), "203.0.113.5:1", "POST", "/graphql", bearer(badKey(t))).Code]++
	}
	if codes[401] != 20 || codes[429] != 10 {
		t.Errorf("answers %v, want 20 x 401 then 10 x 429", codes)
	}
	if n, err := rdb.Exists(context.Background(), prefix+authFailurePrefix+"203.0.113.5").Result(); err != nil || n != 1 {
		t.Errorf("budget of the address in Redis: %d, %v", n, err)
	}
	if rec := doFrom(t, servers[1].Handler(), "198.51.100.7:1", "POST", "/graphql", bearer(fs.good)); rec.Code != 200 {
		t.Errorf("valid key from another address = %d", rec.Code)
	}
}

// TestAuthFailureLimitBehindProxies: X-Forwarded-For is ignored from an untrusted peer
// (rotating it does not escape the limit) and honoured from a trusted proxy (clients
// behind one proxy are limited each on their own, and the client cannot pick its
// address by writing the header itself).
func TestAuthFailureLimitBehindProxies(t *testing.T) {
	fs := newFailureStack(t)
	s := fs.server(t, Options{AuthFailureRate: 1, AuthFailureBurst: 3,
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8")}})
	// A clock that stands still: no token comes back during the test, however slow.
	s.limits.now = (&fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}).now
	h := s.Handler()
	fail := func(remote, xff string) int {
		hdr := bearer(badKey(t))
		if xff != "" {
			hdr.Set("X-Forwarded-For", xff)
		}
		return doFrom(t, h, remote, "GET", "/api/v1/ocr-invoice-jobs", hdr).Code
	}
	good := func(remote, xff string) int {
		hdr := bearer(fs.good)
		if xff != "" {
			hdr.Set("X-Forwarded-For", xff)
		}
		return doFrom(t, h, remote, "GET", "/api/v1/ocr-invoice-jobs", hdr).Code
	}

	t.Run("untrusted peer", func(t *testing.T) {
		var got []int
		for i := range 5 {
			got = append(got, fail("203.0.113.5:1", "198.51.100."+string(rune('1'+i))))
		}
		if !equalInts(got, []int{401, 401, 401, 429, 429}) {
			t.Errorf("rotating X-Forwarded-For from an untrusted peer: %v", got)
		}
	})
	t.Run("trusted proxy", func(t *testing.T) {
		var got []int
		for range 5 {
			got = append(got, fail("10.1.2.3:1", "198.51.100.20"))
		}
		if !equalInts(got, []int{401, 401, 401, 429, 429}) {
			t.Errorf("one client behind the proxy: %v", got)
		}
		// Another client behind the same proxy (through a second proxy hop) is not limited.
		if c := good("10.1.2.3:1", "198.51.100.21, 10.9.9.9"); c != 200 {
			t.Errorf("another client behind the proxy = %d", c)
		}
		// The limited client cannot escape by writing its own entry to the left.
		if c := fail("10.1.2.3:1", "192.0.2.99, 198.51.100.20"); c != 429 {
			t.Errorf("spoofed left entry = %d, want 429", c)
		}
		// The proxy itself is not what gets limited.
		if c := good("10.1.2.3:1", ""); c != 200 {
			t.Errorf("the proxy's own request = %d", c)
		}
	})
	if !strings.Contains(fs.logs.String(), `"client_addr":"198.51.100.20"`) {
		t.Errorf("request log does not name the client behind the proxy:\n%s", fs.logs)
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestClientAddr(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8")}
	tests := []struct {
		name, remote string
		xff          []string
		trusted      []netip.Prefix
		want         string // "" for the zero Addr
	}{
		{"peer", "203.0.113.5:1234", nil, trusted, "203.0.113.5"},
		{"header ignored without trusted proxies", "10.0.0.1:1", []string{"198.51.100.1"}, nil, "10.0.0.1"},
		{"header ignored from an untrusted peer", "203.0.113.5:1", []string{"198.51.100.1"}, trusted, "203.0.113.5"},
		{"trusted proxy", "10.0.0.1:1", []string{"198.51.100.1"}, trusted, "198.51.100.1"},
		{"right-most untrusted wins", "10.0.0.1:1", []string{"192.0.2.1, 198.51.100.1"}, trusted, "198.51.100.1"},
		{"proxy chain", "10.0.0.1:1", []string{"198.51.100.1, 10.0.0.2", "10.0.0.3"}, trusted, "198.51.100.1"},
		{"only proxies", "10.0.0.1:1", []string{"10.0.0.2, 10.0.0.3"}, trusted, "10.0.0.2"},
		{"no header from a proxy", "10.0.0.1:1", nil, trusted, "10.0.0.1"},
		{"garbage stops at the proxy that passed it", "10.0.0.1:1", []string{"198.51.100.1, garbage, 10.0.0.2"}, trusted, "10.0.0.2"},
		{"entry with a port", "10.0.0.1:1", []string{"198.51.100.1:5555"}, trusted, "198.51.100.1"},
		{"IPv6 entry with a port", "[fd00::1]:1", []string{"[2001:db8::7]:5555"}, trusted, "2001:db8::7"},
		{"IPv4-mapped peer", "[::ffff:203.0.113.5]:1", nil, trusted, "203.0.113.5"},
		{"unparsable peer", "pipe", nil, trusted, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tt.remote
			for _, v := range tt.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			got := clientAddr(r, tt.trusted)
			if (tt.want == "" && got.IsValid()) || (tt.want != "" && got.String() != tt.want) {
				t.Errorf("clientAddr = %v, want %q", got, tt.want)
			}
		})
	}
	for addr, want := range map[string]string{
		"203.0.113.5": "203.0.113.5", "2001:db8:1:2:3:4:5:6": "2001:db8:1:2::/64", "": "unknown",
	} {
		a, _ := netip.ParseAddr(addr)
		if got := clientKey(a); got != want {
			t.Errorf("clientKey(%q) = %q, want %q", addr, got, want)
		}
	}
}

// TestAuthLookupOutageIsUnavailable: a key that must be looked up while the database is
// gone is answered 503 UNAVAILABLE with Retry-After on every surface, not 401 or 500.
func TestAuthLookupOutageIsUnavailable(t *testing.T) {
	db := databasetest.Open(t)
	logs := &syncBuffer{}
	store := apikeys.New(db, slog.New(slog.NewJSONHandler(logs, nil)))
	s, err := New(Options{Auth: store, Logger: slog.New(slog.NewJSONHandler(logs, nil)),
		GraphQL: whoami("graphql"), REST: whoami("rest")})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	for _, target := range []string{"/api/v1/ocr-invoice-jobs", "/graphql"} {
		t.Run(target, func(t *testing.T) {
			rec := doFrom(t, s.Handler(), "192.0.2.1:1000", "GET", target,
				http.Header{"Authorization": {"Bearer " + badKey(t)}})
			if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), `"UNAVAILABLE"`) {
				t.Fatalf("%d %s, want 503 UNAVAILABLE", rec.Code, rec.Body)
			}
			if ra := rec.Header().Get("Retry-After"); ra != "5" {
				t.Errorf("Retry-After %q, want 5", ra)
			}
		})
	}
}
