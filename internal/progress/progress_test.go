package progress_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os/exec"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ocrinvoice/ocrinvoice/internal/invoice"
	"github.com/ocrinvoice/ocrinvoice/internal/progress"
	"github.com/ocrinvoice/ocrinvoice/internal/redisproc/redistest"
)

// newClient returns a client of the Redis at addr, closed at cleanup.
func newClient(t *testing.T, addr string) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: addr})
	t.Cleanup(func() { _ = c.Close() })
	if err := c.Ping(context.Background()).Err(); err != nil {
		t.Fatalf("ping redis: %v", err)
	}
	return c
}

// newHub starts a hub, waits until its subscription is confirmed and closes it at cleanup.
func newHub(t *testing.T, c redis.UniversalClient, opts progress.HubOptions) *progress.Hub {
	t.Helper()
	h := progress.NewHub(c, opts)
	t.Cleanup(func() { _ = h.Close() })
	select {
	case <-h.Ready():
	case <-time.After(10 * time.Second):
		t.Fatal("hub subscription not confirmed within 10s")
	}
	return h
}

func ev(job, status string, pct int) progress.Event {
	return progress.Event{JobID: job, Status: status, Progress: invoice.Progress{Percentage: pct, CurrentStep: "read", TotalSteps: 6}}
}

func publish(t *testing.T, p *progress.Publisher, e progress.Event) {
	t.Helper()
	if err := p.Publish(context.Background(), e); err != nil {
		t.Fatalf("publish: %v", err)
	}
}

// recv returns the next event, failing the test after a few seconds or when the
// channel is closed.
func recv(t *testing.T, ch <-chan progress.Event) progress.Event {
	t.Helper()
	select {
	case e, ok := <-ch:
		if !ok {
			t.Fatal("channel closed")
		}
		return e
	case <-time.After(5 * time.Second):
		t.Fatal("no event within 5s")
	}
	return progress.Event{}
}

// recvUntilTerminal reads events until the first terminal one.
func recvUntilTerminal(t *testing.T, ch <-chan progress.Event) []progress.Event {
	t.Helper()
	var got []progress.Event
	for {
		e := recv(t, ch)
		got = append(got, e)
		if e.Terminal() {
			return got
		}
	}
}

func expectNothing(t *testing.T, ch <-chan progress.Event, wait time.Duration) {
	t.Helper()
	select {
	case e, ok := <-ch:
		if ok {
			t.Errorf("unexpected event %+v", e)
		}
	case <-time.After(wait):
	}
}

func TestChannelNames(t *testing.T) {
	if got := progress.JobChannel("", "abc"); got != "ocrinvoice:progress:job:abc" {
		t.Errorf("JobChannel = %q", got)
	}
	if got := progress.FirehoseChannel("t1:"); got != "t1:progress:jobs" {
		t.Errorf("FirehoseChannel = %q", got)
	}
	for status, want := range map[string]bool{"completed": true, "failed": true, "cancelled": true, "processing": false, "queued": false, "created": false} {
		if got := progress.IsTerminal(status); got != want {
			t.Errorf("IsTerminal(%s) = %v", status, got)
		}
	}
}

func TestPublishSubscribeInOrder(t *testing.T) {
	rs := redistest.Start(t)
	c := newClient(t, rs.Addr)
	// Room for every event: this test is about order, not about drops.
	h := newHub(t, c, progress.HubOptions{Buffer: 64})
	pub := progress.NewPublisher(c, progress.PublisherOptions{})

	ctx := context.Background()
	one, cancelOne := h.Subscribe(ctx, "job-a")
	defer cancelOne()
	all, cancelAll := h.Subscribe(ctx, "")
	defer cancelAll()

	// The job's own channel carries the same payloads, for consumers outside the Hub.
	raw := c.Subscribe(ctx, progress.JobChannel("", "job-a"))
	defer raw.Close()
	if _, err := raw.Receive(ctx); err != nil {
		t.Fatal(err)
	}

	var want []progress.Event
	for i := 0; i < 10; i++ {
		e := ev("job-a", "processing", i*10)
		e.GroupID = "group-1"
		want = append(want, e)
		publish(t, pub, e)
		publish(t, pub, ev("job-b", "processing", i)) // another job, interleaved
	}
	done := ev("job-a", "completed", 100)
	want = append(want, done)
	publish(t, pub, done)

	got := recvUntilTerminal(t, one)
	if len(got) != len(want) {
		t.Fatalf("got %d events, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.JobID != w.JobID || g.Status != w.Status || g.Progress != w.Progress || g.GroupID != w.GroupID {
			t.Errorf("event %d = %+v, want %+v", i, g, w)
		}
		if g.At.IsZero() || g.At.Location() != time.UTC {
			t.Errorf("event %d has At %v, want a UTC time", i, g.At)
		}
	}
	// The firehose subscriber sees both jobs: 10 + 10 + 1.
	n := 0
	for {
		e := recv(t, all)
		n++
		if e.JobID == "job-a" && e.Terminal() {
			break
		}
	}
	if n != 21 {
		t.Errorf("firehose subscriber got %d events, want 21", n)
	}

	msg, err := raw.ReceiveMessage(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var first progress.Event
	if err := json.Unmarshal([]byte(msg.Payload), &first); err != nil || first.JobID != "job-a" || first.Progress.Percentage != 0 {
		t.Errorf("job channel payload %s (%v)", msg.Payload, err)
	}
	for _, key := range []string{`"jobId"`, `"groupId"`, `"status"`, `"progress"`, `"percentage"`, `"currentStep"`, `"totalSteps"`, `"at"`} {
		if !strings.Contains(msg.Payload, key) {
			t.Errorf("payload %s lacks %s", msg.Payload, key)
		}
	}
}

// TestTwoHubs simulates two API processes on one Redis: both see an event that one
// publisher sent.
func TestTwoHubs(t *testing.T) {
	rs := redistest.Start(t)
	h1 := newHub(t, newClient(t, rs.Addr), progress.HubOptions{})
	h2 := newHub(t, newClient(t, rs.Addr), progress.HubOptions{})
	pub := progress.NewPublisher(newClient(t, rs.Addr), progress.PublisherOptions{})

	ctx := context.Background()
	c1, stop1 := h1.Subscribe(ctx, "job-x")
	defer stop1()
	c2, stop2 := h2.Subscribe(ctx, "job-x")
	defer stop2()
	e := ev("job-x", "failed", 40)
	e.Message = "fetch document: 404"
	publish(t, pub, e)
	for i, ch := range []<-chan progress.Event{c1, c2} {
		if got := recv(t, ch); got.Status != "failed" || got.Message != e.Message || got.Progress.Percentage != 40 {
			t.Errorf("hub %d got %+v", i+1, got)
		}
	}
}

// TestSlowSubscriber: a subscriber that does not read loses intermediate events but
// never a terminal one, and the hub keeps serving others meanwhile.
func TestSlowSubscriber(t *testing.T) {
	rs := redistest.Start(t)
	c := newClient(t, rs.Addr)
	h := newHub(t, c, progress.HubOptions{Buffer: 4})
	pub := progress.NewPublisher(c, progress.PublisherOptions{})
	ctx := context.Background()

	t.Run("one job", func(t *testing.T) {
		slow, stopSlow := h.Subscribe(ctx, "slow-1")
		defer stopSlow()
		fast, stopFast := h.Subscribe(ctx, "slow-1")
		defer stopFast()
		fastDone := make(chan int)
		go func() {
			n := 0
			for e := range fast {
				n++
				if e.Terminal() {
					break
				}
			}
			fastDone <- n
		}()
		for i := 0; i < 100; i++ {
			publish(t, pub, ev("slow-1", "processing", i))
		}
		publish(t, pub, ev("slow-1", "completed", 100))
		// When the reading subscriber has the terminal event, the hub has queued it for
		// the slow one too (same dispatch).
		select {
		case n := <-fastDone:
			t.Logf("reading subscriber got %d of 101 events", n)
		case <-time.After(10 * time.Second):
			t.Fatal("reading subscriber did not get the terminal event")
		}
		got := recvUntilTerminal(t, slow)
		if len(got) > 4+1 || len(got) >= 101 {
			t.Errorf("slow subscriber got %d events, want at most buffer+1", len(got))
		}
		last := got[len(got)-1]
		if last.Status != "completed" || last.Progress.Percentage != 100 {
			t.Errorf("last event %+v, want completed", last)
		}
		for i := 1; i < len(got); i++ {
			if got[i].Progress.Percentage <= got[i-1].Progress.Percentage {
				t.Errorf("events out of order: %d then %d", got[i-1].Progress.Percentage, got[i].Progress.Percentage)
			}
		}
	})

	t.Run("many jobs", func(t *testing.T) {
		// A subscriber to every job, more terminal events than its buffer: all arrive.
		slow, stopSlow := h.Subscribe(ctx, "")
		defer stopSlow()
		marker, stopMarker := h.Subscribe(ctx, "marker")
		defer stopMarker()
		const jobs = 10
		for j := 0; j < jobs; j++ {
			for i := 0; i < 20; i++ {
				publish(t, pub, ev(fmt.Sprintf("many-%d", j), "processing", i))
			}
			status := []string{"completed", "failed", "cancelled"}[j%3]
			publish(t, pub, ev(fmt.Sprintf("many-%d", j), status, 100))
		}
		publish(t, pub, ev("marker", "completed", 100))
		recv(t, marker)
		terminals := map[string]bool{}
		for len(terminals) < jobs+1 {
			e := recv(t, slow)
			if e.Terminal() {
				terminals[e.JobID] = true
			}
		}
		for j := 0; j < jobs; j++ {
			if !terminals[fmt.Sprintf("many-%d", j)] {
				t.Errorf("terminal event of job many-%d lost", j)
			}
		}
	})
}

// TestHopelessSubscriberIsCut: a subscriber that lets MaxBacklog terminal events pile
// up gets its channel closed instead of losing one silently.
func TestHopelessSubscriberIsCut(t *testing.T) {
	rs := redistest.Start(t)
	c := newClient(t, rs.Addr)
	h := newHub(t, c, progress.HubOptions{Buffer: 2, MaxBacklog: 5})
	pub := progress.NewPublisher(c, progress.PublisherOptions{})
	ctx := context.Background()
	stuck, stop := h.Subscribe(ctx, "")
	defer stop()
	marker, stopMarker := h.Subscribe(ctx, "marker")
	defer stopMarker()
	for j := 0; j < 20; j++ {
		publish(t, pub, ev(fmt.Sprintf("cut-%d", j), "completed", 100))
	}
	publish(t, pub, ev("marker", "completed", 100))
	recv(t, marker)
	deadline := time.After(5 * time.Second)
	for {
		select {
		case _, ok := <-stuck:
			if !ok {
				return
			}
		case <-deadline:
			t.Fatal("channel of a subscriber past MaxBacklog still open")
		}
	}
}

func TestPrefixIsolation(t *testing.T) {
	rs := redistest.Start(t)
	c := newClient(t, rs.Addr)
	ha := newHub(t, c, progress.HubOptions{Prefix: "tenant-a:"})
	hb := newHub(t, c, progress.HubOptions{Prefix: "tenant-b:"})
	hd := newHub(t, c, progress.HubOptions{})
	ctx := context.Background()
	ca, stopA := ha.Subscribe(ctx, "")
	defer stopA()
	cb, stopB := hb.Subscribe(ctx, "")
	defer stopB()
	cd, stopD := hd.Subscribe(ctx, "")
	defer stopD()

	publish(t, progress.NewPublisher(c, progress.PublisherOptions{Prefix: "tenant-a:"}), ev("job-1", "processing", 10))
	if got := recv(t, ca); got.JobID != "job-1" {
		t.Errorf("tenant-a got %+v", got)
	}
	expectNothing(t, cb, 300*time.Millisecond)
	expectNothing(t, cd, 10*time.Millisecond)

	publish(t, progress.NewPublisher(c, progress.PublisherOptions{}), ev("job-2", "processing", 20))
	if got := recv(t, cd); got.JobID != "job-2" {
		t.Errorf("default prefix got %+v", got)
	}
	expectNothing(t, ca, 300*time.Millisecond)
	expectNothing(t, cb, 10*time.Millisecond)
}

// settle waits until the goroutine count is at most want.
func settle(t *testing.T, want int, what string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		n := runtime.NumGoroutine()
		if n <= want {
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			t.Fatalf("%s: %d goroutines, want at most %d:\n%s", what, n, want, buf)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestNoGoroutineLeak(t *testing.T) {
	rs := redistest.Start(t)
	c := newClient(t, rs.Addr)
	pub := progress.NewPublisher(c, progress.PublisherOptions{})
	publish(t, pub, ev("warm-up", "processing", 0)) // the client's pool is warm
	before := runtime.NumGoroutine()

	h := progress.NewHub(c, progress.HubOptions{Buffer: 2})
	<-h.Ready()
	withHub := runtime.NumGoroutine()

	ctx := context.Background()
	var cancels []func()
	var ctxCancels []context.CancelFunc
	var chans []<-chan progress.Event
	for i := 0; i < 40; i++ {
		ch, cancel := h.Subscribe(ctx, fmt.Sprintf("leak-%d", i%4))
		cancels = append(cancels, cancel)
		chans = append(chans, ch)
		sctx, sc := context.WithCancel(ctx)
		ch2, _ := h.Subscribe(sctx, "")
		ctxCancels = append(ctxCancels, sc)
		chans = append(chans, ch2)
	}
	// Events pile up in queues nobody reads.
	for i := 0; i < 20; i++ {
		publish(t, pub, ev(fmt.Sprintf("leak-%d", i%4), "processing", i))
	}
	for _, cancel := range cancels {
		cancel()
		cancel() // twice is harmless
	}
	for _, cancel := range ctxCancels {
		cancel()
	}
	for i, ch := range chans {
		deadline := time.After(5 * time.Second)
	drain:
		for {
			select {
			case _, ok := <-ch:
				if !ok {
					break drain
				}
			case <-deadline:
				t.Fatalf("channel %d not closed after its cancel", i)
			}
		}
	}
	settle(t, withHub, "after every subscriber left")

	// Subscribers still open when the hub closes are closed with it.
	open, _ := h.Subscribe(ctx, "")
	if err := h.Close(); err != nil {
		t.Errorf("close hub: %v", err)
	}
	if _, ok := <-open; ok {
		t.Error("subscriber channel open after the hub closed")
	}
	late, lateCancel := h.Subscribe(ctx, "x")
	if _, ok := <-late; ok {
		t.Error("subscription on a closed hub delivered an event")
	}
	lateCancel()
	if err := h.Close(); err != nil {
		t.Errorf("second close: %v", err)
	}
	settle(t, before, "after the hub closed")
}

func TestPublisherNilAndRedisDown(t *testing.T) {
	var nilPub *progress.Publisher
	if err := nilPub.Publish(context.Background(), ev("x", "processing", 1)); err != nil {
		t.Errorf("nil publisher: %v", err)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	c := redis.NewClient(&redis.Options{Addr: addr})
	defer c.Close()
	pub := progress.NewPublisher(c, progress.PublisherOptions{Timeout: 200 * time.Millisecond})
	start := time.Now()
	if err := pub.Publish(context.Background(), ev("x", "processing", 1)); err == nil {
		t.Error("publish to a dead Redis succeeded")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("publish to a dead Redis took %s", d)
	}
	if err := pub.Publish(context.Background(), progress.Event{}); err == nil {
		t.Error("event without job id accepted")
	}
}

// startRedisAt runs a redis-server on addr (a port just freed by another one), stopped
// at cleanup.
func startRedisAt(t *testing.T, addr string) {
	t.Helper()
	_, port, _ := net.SplitHostPort(addr)
	cmd := exec.Command("redis-server", "--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", t.TempDir(), "--daemonize", "no", "--loglevel", "warning")
	if err := cmd.Start(); err != nil {
		t.Fatalf("restart redis-server: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for c.Ping(context.Background()).Err() != nil {
		if time.Now().After(deadline) {
			t.Fatalf("restarted redis-server on %s does not answer", addr)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestHubSurvivesRedisRestart stops the hub's Redis and starts a new one on the same
// address: events flow again to subscribers made before the restart.
func TestHubSurvivesRedisRestart(t *testing.T) {
	rs := redistest.Start(t)
	c := newClient(t, rs.Addr)
	h := newHub(t, c, progress.HubOptions{})
	pub := progress.NewPublisher(c, progress.PublisherOptions{})
	ctx := context.Background()
	ch, stop := h.Subscribe(ctx, "restart")
	defer stop()
	publish(t, pub, ev("restart", "processing", 1))
	recv(t, ch)

	if err := rs.Stop(); err != nil {
		t.Fatal(err)
	}
	startRedisAt(t, rs.Addr)

	// Events published before the hub has resubscribed are lost; publish until one arrives.
	deadline := time.Now().Add(20 * time.Second)
	for i := 2; ; i++ {
		_ = pub.Publish(ctx, ev("restart", "processing", i))
		select {
		case e, ok := <-ch:
			if !ok {
				t.Fatal("subscriber channel closed by the restart")
			}
			if e.Progress.Percentage < 2 {
				t.Fatalf("old event %+v after restart", e)
			}
			return
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("no event through the hub within 20s of the Redis restart")
		}
	}
}

// TestOwnerAndFilteredSubscribers: an event's owner travels in the Redis payload (absent
// when the publisher did not say, which is not the same as the empty owner) but not in
// the event's own JSON, which clients get; a filtered subscriber receives only what its
// filter keeps, in order, terminal events included.
func TestOwnerAndFilteredSubscribers(t *testing.T) {
	rs := redistest.Start(t)
	c := newClient(t, rs.Addr)
	h := newHub(t, c, progress.HubOptions{Buffer: 64})
	pub := progress.NewPublisher(c, progress.PublisherOptions{})
	ctx := context.Background()

	all, cancelAll := h.Subscribe(ctx, "")
	defer cancelAll()
	var asked atomic.Int64
	teamA, cancelA := h.SubscribeFunc(ctx, "", func(e progress.Event) bool {
		asked.Add(1)
		return e.Owner != nil && *e.Owner == "team-a"
	})
	defer cancelA()

	owned := func(job, status, owner string) progress.Event {
		e := ev(job, status, 0)
		e.Owner = progress.OwnerOf(owner)
		return e
	}
	sent := []progress.Event{
		owned("a-1", "processing", "team-a"),
		owned("b-1", "processing", "team-b"),
		owned("n-1", "processing", ""), // a job without an owner
		ev("u-1", "processing", 0),     // an older publisher: owner unknown
		owned("a-1", "completed", "team-a"),
	}
	for _, e := range sent {
		publish(t, pub, e)
	}
	for i, want := range sent {
		got := recv(t, all)
		switch {
		case got.JobID != want.JobID:
			t.Fatalf("event %d is of %s, want %s", i, got.JobID, want.JobID)
		case (got.Owner == nil) != (want.Owner == nil):
			t.Errorf("event %d: owner %v, want %v", i, got.Owner, want.Owner)
		case got.Owner != nil && *got.Owner != *want.Owner:
			t.Errorf("event %d: owner %q, want %q", i, *got.Owner, *want.Owner)
		}
	}
	if got := recvUntilTerminal(t, teamA); len(got) != 2 || got[0].JobID != "a-1" || got[1].Status != "completed" {
		t.Fatalf("team-a's subscriber got %+v, want a-1 processing then completed", got)
	}
	expectNothing(t, teamA, 200*time.Millisecond)
	if n := asked.Load(); n != int64(len(sent)) {
		t.Errorf("the filter was asked %d times, want once per event (%d)", n, len(sent))
	}

	b, err := json.Marshal(sent[0])
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "owner") || strings.Contains(string(b), "team-a") {
		t.Errorf("the event's JSON %s carries its owner", b)
	}
}
