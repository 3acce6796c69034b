package worker

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ocrinvoice/ocrinvoice/ent"
	"github.com/ocrinvoice/ocrinvoice/internal/database/databasetest"
	"github.com/ocrinvoice/ocrinvoice/internal/jobs"
	"github.com/ocrinvoice/ocrinvoice/internal/progress"
)

// statements counts what the ent client does while on: mutations by "Type Op" and
// queries by query type.
type statements struct {
	mu sync.Mutex
	on bool
	n  map[string]int
}

func countStatements(c *ent.Client) *statements {
	s := &statements{n: map[string]int{}}
	c.Use(func(next ent.Mutator) ent.Mutator {
		return ent.MutateFunc(func(ctx context.Context, m ent.Mutation) (ent.Value, error) {
			s.add(m.Type() + " " + m.Op().String())
			return next.Mutate(ctx, m)
		})
	})
	c.Intercept(ent.InterceptFunc(func(next ent.Querier) ent.Querier {
		return ent.QuerierFunc(func(ctx context.Context, q ent.Query) (ent.Value, error) {
			s.add(strings.TrimPrefix(fmt.Sprintf("%T", q), "*ent.") + " read")
			return next.Query(ctx, q)
		})
	}))
	return s
}

func (s *statements) add(k string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.on {
		s.n[k]++
	}
}

func (s *statements) set(on bool) map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.on = on
	out := s.n
	if on {
		s.n = map[string]int{}
	}
	return out
}

// A text-layer job takes a few tens of milliseconds: its run writes the job's row once
// when it starts and once when it completes (progress writes are coalesced to one per
// ProgressWriteEvery, none of which falls inside so short a run), reads the job once,
// and still publishes an event for every step.
func TestLeanRunWritesOncePerStateChange(t *testing.T) {
	databasetest.Each(t, func(t *testing.T, c *ent.Client) {
		st := countStatements(c)
		e := newEnvWith(t, c, envOptions{allow: true, paused: true})
		events := e.events(t)
		j := e.create(t, "LEAN-1", "/invoice.pdf")
		st.set(true)
		began := time.Now()
		e.startWorker()
		evs := fromStart(stream(t, events, j.ID, time.Minute))
		took := time.Since(began)
		// The completion event is published after the write; give a trailing progress
		// write, were there one, the time to show.
		time.Sleep(2 * 250 * time.Millisecond)
		n := st.set(false)
		if last := evs[len(evs)-1]; last.Status != progress.StatusCompleted {
			t.Fatalf("job ended %+v", last)
		}
		t.Logf("statements of the run: %v", n)
		// On a loaded machine the run may last longer than one write interval; each
		// interval allows one coalesced progress write (the old code wrote every step).
		if got, most := n["OcrInvoiceJob OpUpdate"], 2+int(took/jobs.DefaultProgressWriteEvery); got < 2 || got > most {
			t.Errorf("job row updates = %d in %v, want 2 (start, complete) and at most %d; all: %v", got, took, most, n)
		}
		if got := n["OcrInvoiceJobQuery read"]; got > 2 {
			t.Errorf("job reads = %d, want at most 2 (the start's, the duplicate lookup); all: %v", got, n)
		}
		var stepsSeen []string
		for _, ev := range evs {
			if ev.Status == "processing" {
				stepsSeen = append(stepsSeen, ev.Progress.CurrentStep)
			}
		}
		for _, want := range steps {
			found := false
			for _, s := range stepsSeen {
				found = found || s == want
			}
			if !found {
				t.Errorf("no event for step %q; steps published: %q", want, stepsSeen)
			}
		}
	})
}
