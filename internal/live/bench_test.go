package live_test

import (
	"context"
	"fmt"
	"runtime"
	"testing"

	"github.com/ocrinvoice/ocrinvoice/internal/auth"
	"github.com/ocrinvoice/ocrinvoice/internal/jobs"
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

// BenchmarkJobCreateWithForeignSubscribers measures what one job costs the API process
// when many ocrInvoiceJobUpdated streams of another owner are open: each iteration
// creates a job of owner team-b (which publishes its event) and waits until a stream of
// team-b has delivered it, while foreign=N streams of owner team-a (half of them with a
// where, each with its own API key) watch every job. The ratio of the foreign=1000 to
// the foreign=0 time per operation is what those streams make a job cost.
//
//	go test -run '^$' -bench JobCreateWithForeignSubscribers ./internal/live
func BenchmarkJobCreateWithForeignSubscribers(b *testing.B) {
	for _, foreign := range []int{0, 1000} {
		b.Run(fmt.Sprintf("foreign=%d", foreign), func(b *testing.B) {
			e := newEnv(b, live.Options{})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			for i := 0; i < foreign; i++ {
				p := auth.Principal{KeyID: fmt.Sprintf("key-a-%d", i), Role: auth.RoleViewer, Owner: "team-a"}
				var where *jobs.JobFilter
				if i%2 == 1 {
					where = prefixFilter(b, "A-")
				}
				if _, err := e.watch.JobUpdates(auth.WithPrincipal(ctx, p), where); err != nil {
					b.Fatal(err)
				}
			}
			asB := auth.WithPrincipal(ctx, auth.Principal{KeyID: "key-b", Role: auth.RoleSubmitter, Owner: "team-b"})
			own, err := e.watch.JobUpdates(asB, nil)
			if err != nil {
				b.Fatal(err)
			}
			create := func(n int) {
				j, err := e.svc.CreateJob(asB, jobs.JobInput{
					JobNumber: fmt.Sprintf("B-%d", n), DocumentName: "a.pdf", DocumentURL: "https://example.com/a.pdf",
					Template: jobs.BuiltinTemplateName,
				})
				if err != nil {
					b.Fatal(err)
				}
				for got := range own {
					if got.ID == j.ID {
						return
					}
				}
				b.Fatal("team-b's stream closed")
			}
			create(-1) // the streams are live once one job came through
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				create(i)
			}
		})
	}
}
