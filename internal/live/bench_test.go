package live_test

import (
	"context"
	"runtime"
	"testing"

	"github.com/ocrinvoice/ocrinvoice/internal/live"
)

// BenchmarkIdleJobStream measures the memory (heap and goroutine stacks) one idle job
// stream holds in the API process: its Hub subscription and its Watcher goroutine, without
// the transport (gqlgen's WebSocket or SSE connection) on top. Each iteration opens 1,000
// more streams of one job and measures what they added; they stay open until the run
// ends, so that every iteration allocates fresh goroutine stacks.
//
//	go test -run '^$' -bench IdleJobStream ./internal/live
func BenchmarkIdleJobStream(b *testing.B) {
	e := newBenchEnv(b)
	const n = 1000
	var total int64
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for i := 0; i < b.N; i++ {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		for j := 0; j < n; j++ {
			evs, err := e.watch.Job(ctx, e.jobID)
			if err != nil {
				b.Fatal(err)
			}
			<-evs // the current state; the stream then waits for events
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		total += int64(after.HeapAlloc+after.StackInuse) - int64(before.HeapAlloc+before.StackInuse)
	}
	b.ReportMetric(float64(total)/float64(b.N*n), "bytes/stream")
}

// benchEnv is newEnv for benchmarks, with one queued job.
type benchEnv struct {
	*env
	jobID string
}

func newBenchEnv(b *testing.B) benchEnv {
	e := newEnv(b, live.Options{})
	return benchEnv{env: e, jobID: e.createJob(b, "BENCH-1", "").ID}
}
