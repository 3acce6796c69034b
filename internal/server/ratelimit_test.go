package server

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ocrinvoice/ocrinvoice/internal/apikeys"
	"github.com/ocrinvoice/ocrinvoice/internal/auth"
	"github.com/ocrinvoice/ocrinvoice/internal/ratelimit"
	"github.com/ocrinvoice/ocrinvoice/internal/redisproc/redistest"
)

// replicas builds n servers on one key store and one set of options, as n `serve` pods
// behind a load balancer.
func replicas(t *testing.T, n int, opts Options) ([]*Server, *keys, *syncBuffer) {
	t.Helper()
	first, k, logs := newAuthServer(t, opts)
	servers := []*Server{first}
	opts.Auth, opts.Logger = k.store, first.logger
	opts.GraphQL, opts.REST = whoami("graphql"), whoami("rest")
	for range n - 1 {
		s, err := New(opts)
		if err != nil {
			t.Fatal(err)
		}
		servers = append(servers, s)
	}
	return servers, k, logs
}

// TestSharedRateLimit sends a key's requests to two replicas in turn: with a shared
// RateLimiter the key gets its burst once in total, without one once per replica.
func TestSharedRateLimit(t *testing.T) {
	rs := redistest.Start(t)
	rdb := redis.NewClient(&redis.Options{Addr: rs.Addr})
	t.Cleanup(func() { _ = rdb.Close() })
	prefix := "test:" + t.Name() + ":"

	for _, tc := range []struct {
		name    string
		limiter RateLimiter
		want    int // requests allowed in total before the first 429
	}{
		{"in process", nil, 6},
		{"shared", ratelimit.NewRedis(rdb, prefix), 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			servers, k, _ := replicas(t, 2, Options{RateLimit: 0.5, RateBurst: 3, RateLimiter: tc.limiter})
			allowed := 0
			var last *http.Response
			for i := range 10 {
				rec := doH(t, servers[i%2].Handler(), "GET", "/api/v1/ocr-invoice-jobs", bearer(k.viewer))
				if rec.Code == 200 {
					allowed++
					continue
				}
				last = rec.Result()
				if rec.Code != 429 {
					t.Fatalf("request %d = %d %s", i, rec.Code, rec.Body)
				}
				if code, _, _ := errorCode(t, rec.Body.Bytes()); code != "RATE_LIMITED" {
					t.Errorf("429 body %s", rec.Body)
				}
				break
			}
			if allowed != tc.want {
				t.Errorf("%d requests allowed before the first 429, want %d", allowed, tc.want)
			}
			// 0.5/s: the next request is 2 s away.
			if last == nil || last.Header.Get("Retry-After") != "2" {
				t.Errorf("Retry-After %v, want 2", last)
			}
		})
	}

	t.Run("key override and other keys", func(t *testing.T) {
		servers, k, _ := replicas(t, 2, Options{RateLimit: 100, RateBurst: 2, RateLimiter: ratelimit.NewRedis(rdb, prefix)})
		slow := k.create(t, apikeys.CreateInput{Name: "slow", Role: auth.RoleViewer, Limits: apikeys.Limits{RatePerSecond: 0.2}})
		for i := range 2 {
			if rec := doH(t, servers[i].Handler(), "POST", "/graphql", bearer(slow)); rec.Code != 200 {
				t.Fatalf("slow key within its burst = %d", rec.Code)
			}
		}
		rec := doH(t, servers[0].Handler(), "POST", "/graphql", bearer(slow))
		if rec.Code != 429 || rec.Header().Get("Retry-After") != "5" {
			t.Errorf("slow key over its rate: %d, Retry-After %q, want 429 after 5 s", rec.Code, rec.Header().Get("Retry-After"))
		}
		if rec := doH(t, servers[1].Handler(), "GET", "/api/v1/ocr-invoice-jobs", bearer(k.submitter)); rec.Code != 200 {
			t.Errorf("another key = %d", rec.Code)
		}
		// The budget lives at prefix + key id, and expires once refilled.
		id, _, err := auth.ParseKey(slow)
		if err != nil {
			t.Fatal(err)
		}
		ttl, err := rdb.PTTL(context.Background(), prefix+id).Result()
		if err != nil || ttl <= 9*time.Second || ttl > 10*time.Second {
			t.Errorf("TTL of %s: %v (%v), want the 10 s that refill the burst", prefix+id, ttl, err)
		}
	})
}

// flakyLimiter is a RateLimiter that fails while err is set and otherwise gives answer.
type flakyLimiter struct {
	mu     sync.Mutex
	err    error
	answer func() (bool, time.Duration)
	calls  int
}

func (f *flakyLimiter) Allow(ctx context.Context, key string, perSecond float64, burst int) (bool, time.Duration, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.err != nil {
		return false, 0, f.err
	}
	ok, retry := f.answer()
	return ok, retry, nil
}

func (f *flakyLimiter) set(err error, answer func() (bool, time.Duration)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.err, f.answer = err, answer
}

// warnings are the log records of a failing shared limiter.
func warnings(t *testing.T, logs *syncBuffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for line := range strings.SplitSeq(logs.String(), "\n") {
		if !strings.Contains(line, "Shared rate limiter failed") {
			continue
		}
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		out = append(out, rec)
	}
	return out
}

// TestSharedRateLimiterFails: while the shared limiter fails, the process's own bucket
// limits (no fail-open, no fail-closed), the limiter is not asked for a second after a
// failure, and the failure is logged once a minute; once it answers again, it decides
// again.
func TestSharedRateLimiterFails(t *testing.T) {
	f := &flakyLimiter{err: errors.New("dial tcp 10.0.0.9:6379: connection refused")}
	s, k, logs := newAuthServer(t, Options{RateLimit: 1, RateBurst: 2, RateLimiter: f})
	clock := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	s.limits.now = clock.now
	h := s.Handler()
	get := func() *http.Response {
		return doH(t, h, "GET", "/api/v1/ocr-invoice-jobs", bearer(k.viewer)).Result()
	}

	for i := range 2 {
		if res := get(); res.StatusCode != 200 {
			t.Fatalf("request %d within the local burst = %d", i, res.StatusCode)
		}
	}
	if res := get(); res.StatusCode != 429 || res.Header.Get("Retry-After") != "1" {
		t.Fatalf("over the local bucket: %d, Retry-After %q", res.StatusCode, res.Header.Get("Retry-After"))
	}
	if f.calls != 1 {
		t.Errorf("the shared limiter was asked %d times within a second of its failure, want 1", f.calls)
	}
	w := warnings(t, logs)
	if len(w) != 1 || w[0]["level"] != "WARN" || !strings.Contains(w[0]["error"].(string), "connection refused") {
		t.Fatalf("warnings %v, want one", w)
	}
	if w[0]["key_id"] == "" || strings.Contains(logs.String(), k.viewer) {
		t.Errorf("warning %v: want the key id, never the key", w[0])
	}
	// A minute later, the next failure is logged again, with the count in between.
	clock.advance(time.Minute)
	if res := get(); res.StatusCode != 200 {
		t.Fatalf("after the local refill = %d", res.StatusCode)
	}
	if w = warnings(t, logs); len(w) != 2 || w[1]["fallbacks"] != float64(3) {
		t.Fatalf("warnings %v, want a second one counting 3 fallbacks", w)
	}
	if f.calls != 2 {
		t.Errorf("the shared limiter was asked %d times, want 2", f.calls)
	}

	// Back up: once the pause is over, its answers count again, the local bucket no
	// longer does.
	f.set(nil, func() (bool, time.Duration) { return false, 1500 * time.Millisecond })
	clock.advance(sharedPause)
	if res := get(); res.StatusCode != 429 || res.Header.Get("Retry-After") != "2" {
		t.Errorf("shared refusal in 1.5 s: %d, Retry-After %q, want 2", res.StatusCode, res.Header.Get("Retry-After"))
	}
	f.set(nil, func() (bool, time.Duration) { return true, 0 })
	for i := range 5 {
		if res := get(); res.StatusCode != 200 {
			t.Fatalf("shared allows, request %d = %d", i, res.StatusCode)
		}
	}
	if len(warnings(t, logs)) != 2 {
		t.Error("a working limiter was reported")
	}
}

// TestSharedRateLimiterRedisDown: the real limiter on a Redis that has gone away still
// leaves every replica limiting on its own.
func TestSharedRateLimiterRedisDown(t *testing.T) {
	rs := redistest.Start(t)
	rdb := redis.NewClient(&redis.Options{Addr: rs.Addr, MaxRetries: -1})
	t.Cleanup(func() { _ = rdb.Close() })
	s, k, logs := newAuthServer(t, Options{RateLimit: 0.001, RateBurst: 2, RateLimiter: ratelimit.NewRedis(rdb, "test:"+t.Name()+":")})
	h := s.Handler()
	get := func() int { return doH(t, h, "GET", "/api/v1/ocr-invoice-jobs", bearer(k.viewer)).Code }
	if code := get(); code != 200 {
		t.Fatalf("first request (through Redis) = %d", code)
	}
	if err := rs.Stop(); err != nil {
		t.Fatal(err)
	}
	// The local bucket is new and full: 2 more, then 429.
	for i := range 2 {
		if code := get(); code != 200 {
			t.Fatalf("request %d with Redis down = %d", i, code)
		}
	}
	if code := get(); code != 429 {
		t.Fatalf("over the local bucket with Redis down = %d", code)
	}
	if n := len(warnings(t, logs)); n != 1 {
		t.Errorf("%d warnings, want 1", n)
	}
}

func TestRetrySeconds(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want int
	}{
		{0, 1},
		{time.Millisecond, 1},
		{time.Second, 1},
		{time.Second + time.Microsecond, 2},
		{1999 * time.Millisecond, 2},
		{2 * time.Hour, limiterRetryMax},
		{time.Duration(1<<63 - 1), limiterRetryMax},
	} {
		if got := retrySeconds(tc.d); got != tc.want {
			t.Errorf("retrySeconds(%v) = %d, want %d", tc.d, got, tc.want)
		}
	}
}

// TestSharedRateLimiterClientGone: a request whose client went away fails the shared
// limiter through its context; that is no outage: no pause, no warning.
func TestSharedRateLimiterClientGone(t *testing.T) {
	logs := &syncBuffer{}
	f := &flakyLimiter{err: context.Canceled}
	l := newLimiters(time.Now, newMetrics())
	l.shared, l.logger = f, slog.New(slog.NewJSONHandler(logs, nil))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if ok, _ := l.allowRequest(ctx, "k", 1, 1); !ok {
		t.Error("first request refused")
	}
	if l.sharedPaused() || logs.String() != "" {
		t.Errorf("paused %v, logs %q", l.sharedPaused(), logs)
	}
	f.set(nil, func() (bool, time.Duration) { return true, 0 })
	if ok, _ := l.allowRequest(context.Background(), "k", 1, 1); !ok || f.calls != 2 {
		t.Errorf("next request: ok %v, %d calls; want the shared limiter asked again", ok, f.calls)
	}
}
