package progress_test

import (
	"context"
	"log/slog"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ocrinvoice/ocrinvoice/internal/progress"
	"github.com/ocrinvoice/ocrinvoice/internal/redisproc/redistest"
)

// The benchmarks measure one API process: a real redis-server, one Hub, many local
// subscribers. Run them with `make bench` or
//
//	go test -run '^$' -bench . -benchtime 2000x ./internal/progress
//
// Metrics: events/s is how many events a publisher got through the Hub to every
// subscriber per second; deliveries/s the same times the subscribers that got them;
// dropped% the share of deliveries the Hub dropped for subscribers that fell behind
// (intermediate events only, by design); p50-ms and p99-ms the latency from Publish to
// a subscriber's receive; bytes/sub the memory one idle subscription holds.

const benchSubscribers = 1000

func newClientTB(tb testing.TB, addr string) *redis.Client {
	tb.Helper()
	c := redis.NewClient(&redis.Options{Addr: addr})
	tb.Cleanup(func() { _ = c.Close() })
	if err := c.Ping(context.Background()).Err(); err != nil {
		tb.Fatalf("ping redis: %v", err)
	}
	return c
}

func quietLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// fanout subscribes n subscribers to job and returns, once they have all received a
// terminal event, the latencies of every event each one received.
type fanout struct {
	wg        sync.WaitGroup
	mu        sync.Mutex
	latencies []time.Duration
	received  int
}

func startFanout(b *testing.B, h *progress.Hub, job string, n int) (*fanout, func()) {
	b.Helper()
	f := &fanout{}
	ctx, cancel := context.WithCancel(context.Background())
	var cancels []func()
	for i := 0; i < n; i++ {
		ch, unsub := h.Subscribe(ctx, job)
		cancels = append(cancels, unsub)
		f.wg.Add(1)
		go func() {
			defer f.wg.Done()
			lat := make([]time.Duration, 0, 256)
			for ev := range ch {
				lat = append(lat, time.Since(ev.At))
				if ev.Terminal() {
					break
				}
			}
			f.mu.Lock()
			f.latencies = append(f.latencies, lat...)
			f.received += len(lat)
			f.mu.Unlock()
		}()
	}
	return f, func() {
		cancel()
		for _, c := range cancels {
			c()
		}
	}
}

func (f *fanout) wait(b *testing.B) {
	b.Helper()
	done := make(chan struct{})
	go func() { f.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(2 * time.Minute):
		b.Fatal("subscribers did not all get the terminal event within 2 minutes")
	}
}

func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted)-1) * p)
	return sorted[i]
}

func (f *fanout) report(b *testing.B, published int, elapsed time.Duration, subscribers int) {
	slices.Sort(f.latencies)
	b.ReportMetric(float64(published)/elapsed.Seconds(), "events/s")
	b.ReportMetric(float64(f.received)/elapsed.Seconds(), "deliveries/s")
	b.ReportMetric(100*(1-float64(f.received)/float64(published*subscribers)), "dropped%")
	b.ReportMetric(float64(percentile(f.latencies, 0.50).Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(percentile(f.latencies, 0.99).Microseconds())/1000, "p99-ms")
}

func benchHub(b *testing.B) (*progress.Hub, *progress.Publisher) {
	b.Helper()
	rs := redistest.Start(b)
	c := newClientTB(b, rs.Addr)
	h := progress.NewHub(c, progress.HubOptions{Logger: quietLogger()})
	b.Cleanup(func() { _ = h.Close() })
	select {
	case <-h.Ready():
	case <-time.After(10 * time.Second):
		b.Fatal("hub not ready")
	}
	return h, progress.NewPublisher(c, progress.PublisherOptions{})
}

// BenchmarkHubFanout1000 publishes b.N progress events of one job, as fast as one
// publisher can, to 1,000 subscribers of that job, then a terminal event, and measures
// until every subscriber has the terminal event. Subscribers that fall behind lose
// intermediate events (dropped%), as the Hub promises.
func BenchmarkHubFanout1000(b *testing.B) {
	h, pub := benchHub(b)
	f, stop := startFanout(b, h, "job-bench", benchSubscribers)
	defer stop()
	ctx := context.Background()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		if err := pub.Publish(ctx, ev("job-bench", "processing", i%100)); err != nil {
			b.Fatal(err)
		}
	}
	if err := pub.Publish(ctx, ev("job-bench", "completed", 100)); err != nil {
		b.Fatal(err)
	}
	f.wait(b)
	elapsed := time.Since(start)
	b.StopTimer()
	f.report(b, b.N+1, elapsed, benchSubscribers)
}

// BenchmarkHubLatency1000 publishes b.N events at a steady 200 events/s (200,000
// deliveries/s) to 1,000 subscribers and reports the publish-to-receive latency without
// the queueing of a saturated Hub.
func BenchmarkHubLatency1000(b *testing.B) {
	h, pub := benchHub(b)
	f, stop := startFanout(b, h, "job-latency", benchSubscribers)
	defer stop()
	ctx := context.Background()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		<-tick.C
		if err := pub.Publish(ctx, ev("job-latency", "processing", i%100)); err != nil {
			b.Fatal(err)
		}
	}
	<-tick.C
	if err := pub.Publish(ctx, ev("job-latency", "completed", 100)); err != nil {
		b.Fatal(err)
	}
	f.wait(b)
	elapsed := time.Since(start)
	b.StopTimer()
	f.report(b, b.N+1, elapsed, benchSubscribers)
}

// BenchmarkHubIdleSubscription measures the memory (heap and goroutine stacks) that idle
// subscriptions hold, per subscription: each iteration opens 1,000 more subscriptions to
// one job and measures what they added. They stay open until the run ends, so that every
// iteration allocates fresh goroutine stacks instead of reusing freed ones.
func BenchmarkHubIdleSubscription(b *testing.B) {
	h, _ := benchHub(b)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var total int64
	for i := 0; i < b.N; i++ {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		for j := 0; j < benchSubscribers; j++ {
			h.Subscribe(ctx, "job-idle") // closed with ctx
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		total += int64(after.HeapAlloc+after.StackInuse) - int64(before.HeapAlloc+before.StackInuse)
	}
	b.ReportMetric(float64(total)/float64(b.N*benchSubscribers), "bytes/sub")
}
