package ratelimit

import (
	"context"
	"testing"
	"time"

	"github.com/ocrinvoice/ocrinvoice/internal/redisproc/redistest"
)

// TestLeases: at most limit holders at once; a holder renewing keeps its lease, the
// lease of a holder that stopped renewing (its process died) expires and frees the
// slot; a released lease frees it at once; the set disappears with its last lease.
func TestLeases(t *testing.T) {
	rs := redistest.Start(t)
	rdb := newClient(t, rs.Addr)
	l := NewLeases(rdb, prefix(t))
	ctx := context.Background()
	acquire := func(holder string, ttl time.Duration) bool {
		t.Helper()
		ok, err := l.Acquire(ctx, "k", holder, 2, ttl)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if !acquire("alive", time.Second) || !acquire("dead", 300*time.Millisecond) {
		t.Fatal("two leases of a limit of two refused")
	}
	if acquire("third", time.Second) {
		t.Fatal("a third lease granted")
	}
	if !acquire("alive", time.Second) {
		t.Fatal("a holder's own lease not renewed by Acquire")
	}
	time.Sleep(400 * time.Millisecond)
	// "dead" stopped renewing: gone. "alive" renews and stays.
	if ok, err := l.Renew(ctx, "k", "alive", time.Second); err != nil || !ok {
		t.Fatalf("renew = %v, %v", ok, err)
	}
	if ok, err := l.Renew(ctx, "k", "dead", time.Second); err != nil || ok {
		t.Fatalf("renew of an expired lease = %v, %v; want false", ok, err)
	}
	if !acquire("third", time.Second) {
		t.Fatal("the expired lease still counts")
	}
	if acquire("fourth", time.Second) {
		t.Fatal("a lease over the limit after the expiry")
	}
	for _, h := range []string{"alive", "third"} {
		if err := l.Release(ctx, "k", h); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := rdb.Exists(ctx, prefix(t)+"k").Result(); err != nil || n != 0 {
		t.Errorf("set after the last release: exists %d, %v", n, err)
	}
	if _, err := l.Acquire(ctx, "k", "x", 0, time.Second); err == nil {
		t.Error("limit 0 accepted")
	}
	// Idle sets expire with their last lease.
	if !acquire("left", 200*time.Millisecond) {
		t.Fatal("refused")
	}
	if ttl, err := rdb.PTTL(ctx, prefix(t)+"k").Result(); err != nil || ttl <= 0 || ttl > 200*time.Millisecond {
		t.Errorf("TTL of the set = %v, %v", ttl, err)
	}
}

// BenchmarkLeaseAcquireRelease is the Redis cost of one upload's slot: the acquire script
// and the release, on a private local redis-server.
func BenchmarkLeaseAcquireRelease(b *testing.B) {
	rs := redistest.Start(b)
	l := NewLeases(newClient(b, rs.Addr), prefix(b))
	ctx := context.Background()
	for b.Loop() {
		ok, err := l.Acquire(ctx, "k", "holder", 4, 30*time.Second)
		if err != nil || !ok {
			b.Fatal(ok, err)
		}
		if err := l.Release(ctx, "k", "holder"); err != nil {
			b.Fatal(err)
		}
	}
}
