package ratelimit

import (
	"context"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"golang.org/x/time/rate"

	"github.com/ocrinvoice/ocrinvoice/internal/redisproc/redistest"
)

// newClient is a client of the test's private redis-server (never a shared Redis).
func newClient(t testing.TB, addr string) *redis.Client {
	t.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	t.Cleanup(func() { _ = rdb.Close() })
	return rdb
}

// prefix is the test's own key prefix.
func prefix(t testing.TB) string { return "test:" + t.Name() + ":" }

func allow(t *testing.T, l *Redis, key string, perSecond float64, burst int) (bool, time.Duration) {
	t.Helper()
	ok, retry, err := l.Allow(context.Background(), key, perSecond, burst)
	if err != nil {
		t.Fatalf("Allow(%s, %v, %d): %v", key, perSecond, burst, err)
	}
	return ok, retry
}

func TestBurstThenRefusal(t *testing.T) {
	rs := redistest.Start(t)
	l := NewRedis(newClient(t, rs.Addr), prefix(t))
	for _, tc := range []struct {
		name      string
		perSecond float64
		burst     int
		// The refusal right after the burst: the wait is one interval, less the little
		// time the burst took.
		minRetry, maxRetry time.Duration
	}{
		{"1/s burst 3", 1, 3, 750 * time.Millisecond, time.Second},
		{"10/s burst 1", 10, 1, time.Microsecond, 100 * time.Millisecond},
		{"0.2/s burst 2", 0.2, 2, 4750 * time.Millisecond, 5 * time.Second},
		{"fractional 0.5/s burst 1", 0.5, 1, 1750 * time.Millisecond, 2 * time.Second},
		{"fractional 2.5/s burst 2", 2.5, 2, 150 * time.Millisecond, 400 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			key := "key-" + tc.name
			for i := range tc.burst {
				if ok, retry := allow(t, l, key, tc.perSecond, tc.burst); !ok {
					t.Fatalf("request %d of the burst refused (retry %v)", i, retry)
				}
			}
			ok, retry := allow(t, l, key, tc.perSecond, tc.burst)
			if ok || retry < tc.minRetry || retry > tc.maxRetry {
				t.Fatalf("after the burst: ok %v, retry %v, want refused in [%v, %v]", ok, retry, tc.minRetry, tc.maxRetry)
			}
			// A refusal costs nothing: asking again says about the same.
			ok2, retry2 := allow(t, l, key, tc.perSecond, tc.burst)
			if ok2 || retry2 > retry {
				t.Errorf("second refusal: ok %v, retry %v > %v", ok2, retry2, retry)
			}
		})
	}
}

func TestRefill(t *testing.T) {
	rs := redistest.Start(t)
	l := NewRedis(newClient(t, rs.Addr), prefix(t))

	t.Run("retryAfter is enough for one request", func(t *testing.T) {
		// 5/s: 200 ms between requests, slack for a loaded test machine.
		const perSecond, burst = 5, 2
		for range burst {
			if ok, _ := allow(t, l, "one", perSecond, burst); !ok {
				t.Fatal("burst refused")
			}
		}
		ok, retry := allow(t, l, "one", perSecond, burst)
		if ok || retry <= 0 || retry > 200*time.Millisecond {
			t.Fatalf("after the burst: ok %v retry %v", ok, retry)
		}
		time.Sleep(retry)
		start := time.Now()
		if ok, retry := allow(t, l, "one", perSecond, burst); !ok {
			t.Fatalf("after waiting retryAfter: refused, retry %v", retry)
		}
		if ok, _ := allow(t, l, "one", perSecond, burst); ok && time.Since(start) < 200*time.Millisecond {
			t.Fatal("one interval refilled more than one request")
		}
	})

	t.Run("a full refill is one burst", func(t *testing.T) {
		const perSecond, burst = 50, 5 // one request every 20 ms
		for range burst {
			if ok, _ := allow(t, l, "full", perSecond, burst); !ok {
				t.Fatal("burst refused")
			}
		}
		if ok, retry := allow(t, l, "full", perSecond, burst); ok || retry <= 0 || retry > 20*time.Millisecond {
			t.Fatalf("after the burst: ok %v retry %v", ok, retry)
		}
		// 200 ms refill 10 intervals, but the bucket holds 5.
		time.Sleep(200 * time.Millisecond)
		start := time.Now()
		n := 0
		for range 20 {
			if ok, _ := allow(t, l, "full", perSecond, burst); ok {
				n++
			}
		}
		// The loop itself refills one request per 20 ms it takes.
		extra := int(time.Since(start)/(20*time.Millisecond)) + 1
		if n < burst || n > burst+extra {
			t.Errorf("after a full refill %d requests allowed, want %d (up to %d more for the loop's time)", n, burst, extra)
		}
	})
}

func TestFractionalRate(t *testing.T) {
	rs := redistest.Start(t)
	l := NewRedis(newClient(t, rs.Addr), prefix(t))
	// 0.5/s with a burst of 2: two at once, then one every 2 s.
	for range 2 {
		if ok, _ := allow(t, l, "half", 0.5, 2); !ok {
			t.Fatal("burst refused")
		}
	}
	ok, retry := allow(t, l, "half", 0.5, 2)
	if ok || retry < 1750*time.Millisecond || retry > 2*time.Second {
		t.Fatalf("0.5/s after the burst: ok %v, retry %v, want about 2 s", ok, retry)
	}
	// The TAT is stored without rounding the interval away: 3 requests at 1/3 s.
	for range 3 {
		if ok, _ := allow(t, l, "third", 3, 3); !ok {
			t.Fatal("3/s burst refused")
		}
	}
	if ok, retry := allow(t, l, "third", 3, 3); ok || retry < 150*time.Millisecond || retry > 334*time.Millisecond {
		t.Errorf("3/s after the burst: ok %v, retry %v, want about 333 ms", ok, retry)
	}
}

// TestSharedBudget runs two limiters on two clients, as two API replicas would: together
// they grant one burst, not one each, also when asked concurrently.
func TestSharedBudget(t *testing.T) {
	rs := redistest.Start(t)
	a := NewRedis(newClient(t, rs.Addr), prefix(t))
	b := NewRedis(newClient(t, rs.Addr), prefix(t))
	const burst = 10
	const perSecond = 0.001 // no refill during the test
	granted := 0
	for i := range 2 * burst {
		l := a
		if i%2 == 1 {
			l = b
		}
		if ok, _ := allow(t, l, "alternating", perSecond, burst); ok {
			granted++
		}
	}
	if granted != burst {
		t.Errorf("alternating replicas granted %d, want %d in total", granted, burst)
	}

	var n atomic.Int64
	var wg sync.WaitGroup
	for i := range 8 {
		l := a
		if i%2 == 1 {
			l = b
		}
		wg.Go(func() {
			for range 2 * burst {
				ok, _, err := l.Allow(context.Background(), "concurrent", perSecond, burst)
				if err != nil {
					t.Error(err)
					return
				}
				if ok {
					n.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if n.Load() != burst {
		t.Errorf("concurrent replicas granted %d, want %d in total", n.Load(), burst)
	}
	// Another key, and the same key under another prefix, have their own budget.
	if ok, _ := allow(t, a, "other", perSecond, burst); !ok {
		t.Error("another key refused")
	}
	if ok, _ := allow(t, NewRedis(newClient(t, rs.Addr), prefix(t)+"elsewhere:"), "concurrent", perSecond, burst); !ok {
		t.Error("another prefix refused")
	}
}

func TestIdleKeyExpires(t *testing.T) {
	rs := redistest.Start(t)
	rdb := newClient(t, rs.Addr)
	ctx := context.Background()
	l := NewRedis(rdb, prefix(t))
	key := prefix(t) + "k"

	// 10/s, burst 5: one request costs 100 ms of refill, the whole burst 500 ms.
	allow(t, l, "k", 10, 5)
	ttl, err := rdb.PTTL(ctx, key).Result()
	if err != nil {
		t.Fatal(err)
	}
	if ttl <= 0 || ttl > 100*time.Millisecond {
		t.Errorf("TTL after one request %v, want the 100 ms that refill it", ttl)
	}
	for range 4 {
		allow(t, l, "k", 10, 5)
	}
	if ttl, _ = rdb.PTTL(ctx, key).Result(); ttl <= 250*time.Millisecond || ttl > 500*time.Millisecond {
		t.Errorf("TTL after the burst %v, want about 500 ms (the time to refill the burst)", ttl)
	}
	// A refusal leaves the key as it is.
	if ok, _ := allow(t, l, "k", 10, 5); ok {
		t.Fatal("over the burst allowed")
	}
	// Idle past the refill, the key is gone and a full burst is there again.
	time.Sleep(ttl + 50*time.Millisecond)
	if n, err := rdb.Exists(ctx, key).Result(); err != nil || n != 0 {
		t.Fatalf("idle key still exists (%d, %v)", n, err)
	}
	for i := range 5 {
		if ok, _ := allow(t, l, "k", 10, 5); !ok {
			t.Fatalf("request %d of the burst after expiry refused", i)
		}
	}
	// Nothing but the test's own key was written.
	keys, err := rdb.Keys(ctx, "*").Result()
	if err != nil || len(keys) != 1 || keys[0] != key {
		t.Errorf("keys %v (%v), want only %s", keys, err, key)
	}
}

// TestScriptLoadedOnce checks the EVALSHA path: a server that does not know the script
// answers NOSCRIPT once, the limiter sends it with EVAL, and uses EVALSHA from then on.
func TestScriptLoadedOnce(t *testing.T) {
	rs := redistest.Start(t)
	rdb := newClient(t, rs.Addr)
	rec := &commands{}
	rdb.AddHook(rec)
	l := NewRedis(rdb, prefix(t))
	for range 3 {
		allow(t, l, "k", 100, 10)
	}
	want := "evalsha(NOSCRIPT) eval evalsha evalsha"
	if got := rec.String(); got != want {
		t.Errorf("commands %q, want %q", got, want)
	}
}

type commands struct {
	mu  sync.Mutex
	log []string
}

func (c *commands) DialHook(next redis.DialHook) redis.DialHook { return next }
func (c *commands) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

func (c *commands) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		name := cmd.Name()
		if name == "hello" || name == "client" {
			return err // connection set-up
		}
		if err != nil && strings.HasPrefix(err.Error(), "NOSCRIPT") {
			name += "(NOSCRIPT)"
		}
		c.mu.Lock()
		c.log = append(c.log, name)
		c.mu.Unlock()
		return err
	}
}

func (c *commands) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return strings.Join(c.log, " ")
}

func TestInvalidLimits(t *testing.T) {
	// No server: invalid limits are refused before any I/O.
	l := NewRedis(redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"}), "")
	if l.prefix != DefaultPrefix {
		t.Errorf("default prefix %q", l.prefix)
	}
	for _, tc := range []struct {
		name      string
		perSecond float64
		burst     int
	}{
		{"zero rate", 0, 1},
		{"negative rate", -1, 1},
		{"NaN rate", math.NaN(), 1},
		{"infinite rate", math.Inf(1), 1},
		{"zero burst", 1, 0},
		{"negative burst", 1, -3},
		{"refill over a year", 1e-9, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ok, _, err := l.Allow(context.Background(), "k", tc.perSecond, tc.burst)
			if ok || err == nil || !strings.Contains(err.Error(), "rate limit") {
				t.Errorf("ok %v, err %v", ok, err)
			}
		})
	}
}

func TestRedisDown(t *testing.T) {
	rs := redistest.Start(t)
	rdb := redis.NewClient(&redis.Options{Addr: rs.Addr, MaxRetries: -1, DialTimeout: time.Second})
	t.Cleanup(func() { _ = rdb.Close() })
	l := NewRedis(rdb, prefix(t))
	if ok, _ := allow(t, l, "k", 1, 1); !ok {
		t.Fatal("first request refused")
	}
	if err := rs.Stop(); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	ok, retry, err := l.Allow(context.Background(), "k", 1, 1)
	if err == nil || ok || retry != 0 {
		t.Fatalf("Redis down: ok %v, retry %v, err %v; want an error", ok, retry, err)
	}
	if !strings.Contains(err.Error(), "rate limit key k in redis") {
		t.Errorf("error %q does not say what failed", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("the failure took %v", d)
	}
	// A context already done fails too, without waiting.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := l.Allow(ctx, "k", 1, 1); err == nil {
		t.Error("cancelled context: no error")
	}
}

// BenchmarkRateLimit compares one decision of the Redis GCRA limiter (a script round trip
// to a local redis-server) with the in-process x/time/rate bucket it complements (a map
// lookup under a mutex, as internal/server does), in the same run.
func BenchmarkRateLimit(b *testing.B) {
	rs := redistest.Start(b)
	rdb := newClient(b, rs.Addr)
	l := NewRedis(rdb, prefix(b))
	ctx := context.Background()
	const perSecond, burst = 1e6, 1e6 // never refuses: the cost of a decision, not of a 429
	b.Run("redis-gcra", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if ok, _, err := l.Allow(ctx, "bench", perSecond, burst); err != nil || !ok {
				b.Fatalf("ok %v, err %v", ok, err)
			}
		}
	})
	b.Run("redis-gcra-parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, _, err := l.Allow(ctx, "bench-parallel", perSecond, burst); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
	var mu sync.Mutex
	local := map[string]*rate.Limiter{}
	localAllow := func(key string) bool {
		mu.Lock()
		defer mu.Unlock()
		lim, ok := local[key]
		if !ok {
			// Faster than the loop can ask, so that it never refuses either.
			lim = rate.NewLimiter(1e9, 1e9)
			local[key] = lim
		}
		return lim.Allow()
	}
	b.Run("x-time-rate", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if !localAllow("bench") {
				b.Fatal("refused")
			}
		}
	})
}
