package live_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ocrinvoice/ocrinvoice/internal/apperr"
	"github.com/ocrinvoice/ocrinvoice/internal/auth"
	"github.com/ocrinvoice/ocrinvoice/internal/live"
)

// refusedBy checks that err refuses a stream over the cap named name.
func refusedBy(t *testing.T, err error, name string) {
	t.Helper()
	ae := apperr.As(err)
	if ae == nil || ae.Kind != apperr.KindRateLimited || len(ae.Details) != 1 || ae.Details[0].Field != name {
		t.Fatalf("got %v, want RateLimited naming %s", err, name)
	}
}

// eventually retries open until it succeeds (a stream's slot is given back by its
// goroutine, just after its context ends), failing after a few seconds.
func eventually(t *testing.T, open func() error) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		err := open()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("still refused after 5s: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestStreamCaps(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	t.Run("per connection", func(t *testing.T) {
		e := newEnv(t, live.Options{PerConnection: 2, PerKey: -1})
		j := e.createJob(t, "CAP-C", "")
		conn := live.WithConnection(auth.WithPrincipal(ctx, auth.Local))
		first, stop := context.WithCancel(conn)
		defer stop()
		evs, err := e.watch.Job(first, j.ID)
		if err != nil {
			t.Fatal(err)
		}
		next(t, evs)
		if _, err := e.watch.JobUpdates(conn, nil); err != nil {
			t.Fatal(err)
		}
		// Every kind of stream counts.
		_, err = e.watch.JobUpdates(conn, nil)
		refusedBy(t, err, live.CapPerConnection)
		_, err = e.watch.Job(conn, j.ID)
		refusedBy(t, err, live.CapPerConnection)
		// Another connection, and a stream without one, have their own room.
		if _, err := e.watch.JobUpdates(live.WithConnection(ctx), nil); err != nil {
			t.Errorf("another connection: %v", err)
		}
		if _, err := e.watch.JobUpdates(ctx, nil); err != nil {
			t.Errorf("no connection: %v", err)
		}
		// A stream that ends gives its slot back.
		stop()
		closed(t, evs)
		eventually(t, func() error { _, err := e.watch.JobUpdates(conn, nil); return err })
		_, err = e.watch.JobUpdates(conn, nil)
		refusedBy(t, err, live.CapPerConnection)
	})

	t.Run("a stream that finishes gives its slot back", func(t *testing.T) {
		e := newEnv(t, live.Options{PerConnection: 1})
		j := e.createJob(t, "CAP-F", "")
		conn := live.WithConnection(ctx)
		evs, err := e.watch.Job(conn, j.ID)
		if err != nil {
			t.Fatal(err)
		}
		next(t, evs)
		_, err = e.watch.Job(conn, j.ID)
		refusedBy(t, err, live.CapPerConnection)
		if _, err := e.svc.CancelJob(ctx, j.ID); err != nil {
			t.Fatal(err)
		}
		if ev := next(t, evs); ev.Status != "cancelled" {
			t.Fatalf("event %+v, want cancelled", ev)
		}
		closed(t, evs)
		eventually(t, func() error {
			evs, err := e.watch.Job(conn, j.ID) // a finished job: one event, then the end
			if err == nil {
				next(t, evs)
			}
			return err
		})
	})

	t.Run("per key in this process", func(t *testing.T) {
		e := newEnv(t, live.Options{PerKey: 2})
		key := auth.Principal{KeyID: "key-1", Role: auth.RoleViewer}
		asKey := auth.WithPrincipal(ctx, key)
		first, stop := context.WithCancel(asKey)
		defer stop()
		// On different connections alike.
		if _, err := e.watch.JobUpdates(live.WithConnection(first), nil); err != nil {
			t.Fatal(err)
		}
		if _, err := e.watch.JobUpdates(live.WithConnection(asKey), nil); err != nil {
			t.Fatal(err)
		}
		_, err := e.watch.JobUpdates(live.WithConnection(asKey), nil)
		refusedBy(t, err, live.CapPerKey)
		_, err = e.watch.Group(asKey, "0123456789abcdef01234567")
		refusedBy(t, err, live.CapPerKey)
		other := auth.WithPrincipal(ctx, auth.Principal{KeyID: "key-2", Role: auth.RoleViewer})
		if _, err := e.watch.JobUpdates(other, nil); err != nil {
			t.Errorf("another key: %v", err)
		}
		// A principal without a key (authentication off) is not capped per key.
		for i := 0; i < 3; i++ {
			if _, err := e.watch.JobUpdates(auth.WithPrincipal(ctx, auth.Local), nil); err != nil {
				t.Fatalf("local principal, stream %d: %v", i, err)
			}
		}
		// A refused open takes nothing: after one stream ends, exactly one more fits.
		stop()
		eventually(t, func() error { _, err := e.watch.JobUpdates(asKey, nil); return err })
		_, err = e.watch.JobUpdates(asKey, nil)
		refusedBy(t, err, live.CapPerKey)
	})

	t.Run("no cap when negative", func(t *testing.T) {
		e := newEnv(t, live.Options{PerConnection: -1, PerKey: -1})
		conn := live.WithConnection(auth.WithPrincipal(ctx, auth.Principal{KeyID: "key-1", Role: auth.RoleViewer}))
		for i := 0; i < live.DefaultPerKey+1; i++ {
			if _, err := e.watch.JobUpdates(conn, nil); err != nil {
				t.Fatalf("stream %d: %v", i, err)
			}
		}
	})
}

// TestStreamCapPerKeyAcrossReplicas: two Watchers on one Redis, as two API replicas,
// grant one key PerKey streams in all; a stream that ends frees its slot for either; a
// replica that died stops counting once its leases expire; a live one renews its own.
func TestStreamCapPerKeyAcrossReplicas(t *testing.T) {
	e := newEnv(t, live.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const prefix = "test:streams:"
	replica := func(lease time.Duration) *live.Watcher {
		w := live.New(e.svc, e.hub, live.Options{PerKey: 2, Redis: e.rc, SlotPrefix: prefix, SlotLease: lease, Logger: quiet})
		t.Cleanup(w.Close)
		return w
	}
	a, b := replica(0), replica(0)
	asKey := auth.WithPrincipal(ctx, auth.Principal{KeyID: "key-r", Role: auth.RoleViewer})
	members := func() int64 {
		n, err := e.rc.ZCard(ctx, prefix+"key-r").Result()
		if err != nil {
			t.Fatal(err)
		}
		return n
	}

	onA, stopA := context.WithCancel(asKey)
	defer stopA()
	if _, err := a.JobUpdates(onA, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := b.JobUpdates(asKey, nil); err != nil {
		t.Fatal(err)
	}
	for _, w := range []*live.Watcher{a, b} {
		_, err := w.JobUpdates(asKey, nil)
		refusedBy(t, err, live.CapPerKey)
	}
	if n := members(); n != 2 {
		t.Fatalf("%d slots in Redis, want 2", n)
	}
	stopA()
	eventually(t, func() error { _, err := b.JobUpdates(asKey, nil); return err })
	_, err := a.JobUpdates(asKey, nil)
	refusedBy(t, err, live.CapPerKey)

	// Close gives every slot back.
	a.Close()
	b.Close()
	if n := members(); n != 0 {
		t.Fatalf("%d slots in Redis after Close, want 0", n)
	}

	t.Run("a dead replica's slots expire", func(t *testing.T) {
		// What a replica that died leaves: a member whose lease nobody renews.
		now, err := e.rc.Time(ctx).Result()
		if err != nil {
			t.Fatal(err)
		}
		exp := now.Add(400 * time.Millisecond).UnixMilli()
		for i := 0; i < 2; i++ {
			if err := e.rc.ZAdd(ctx, prefix+"key-d", redis.Z{Score: float64(exp), Member: "dead:" + strconv.Itoa(i)}).Err(); err != nil {
				t.Fatal(err)
			}
		}
		w := replica(0)
		asDead := auth.WithPrincipal(ctx, auth.Principal{KeyID: "key-d", Role: auth.RoleViewer})
		_, err = w.JobUpdates(asDead, nil)
		refusedBy(t, err, live.CapPerKey)
		eventually(t, func() error { _, err := w.JobUpdates(asDead, nil); return err })
	})

	t.Run("a live replica renews its leases", func(t *testing.T) {
		w := replica(300 * time.Millisecond)
		asLive := auth.WithPrincipal(ctx, auth.Principal{KeyID: "key-l", Role: auth.RoleViewer})
		for i := 0; i < 2; i++ {
			if _, err := w.JobUpdates(asLive, nil); err != nil {
				t.Fatal(err)
			}
		}
		time.Sleep(time.Second) // three leases
		if n, err := e.rc.ZCard(ctx, prefix+"key-l").Result(); err != nil || n != 2 {
			t.Fatalf("%d slots in Redis after three leases (%v), want the 2 open streams", n, err)
		}
		other := replica(0) // counts with Redis only: its own process has no stream of the key
		_, err := other.JobUpdates(asLive, nil)
		refusedBy(t, err, live.CapPerKey)
	})
}
