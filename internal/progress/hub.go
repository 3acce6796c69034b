package progress

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"

	"github.com/redis/go-redis/v9"
)

// Defaults of HubOptions.
const (
	DefaultBuffer     = 16
	DefaultMaxBacklog = 256
)

// HubOptions tune a Hub. Zero values select the defaults.
type HubOptions struct {
	// Prefix starts the channel names; default DefaultPrefix. It must match the
	// publishers' prefix.
	Prefix string
	// Buffer is how many events wait for a slow subscriber before intermediate
	// (non-terminal) ones are dropped, oldest first; default DefaultBuffer.
	Buffer int
	// MaxBacklog is how many undelivered terminal events a subscriber may accumulate
	// (only a subscriber to every job can get there) before the Hub gives up on it and
	// closes its channel; default DefaultMaxBacklog.
	MaxBacklog int
	// Logger receives the Hub's warnings; default slog.Default().
	Logger *slog.Logger
}

// Hub holds one Redis subscription to the firehose channel and fans its events out to
// local subscribers. It is safe for concurrent use.
//
// Guarantees:
//   - The Hub never blocks on a subscriber: each has its own queue of at most Buffer
//     events plus the one being handed over. When the queue is full, the oldest
//     intermediate event is dropped to make room; a terminal event (completed, failed,
//     cancelled) is never dropped. A subscriber so far behind that MaxBacklog terminal
//     events are waiting is cut off: its channel is closed.
//   - Events of one job reach a subscriber in the order they were published by one
//     publisher (with drops, never reordered).
//   - A subscriber's channel is closed, and everything it used released, when its
//     cancel function is called, its context ends, or the Hub is closed.
//   - The subscription survives Redis restarts and network errors (go-redis reconnects
//     and resubscribes); events published while it is disconnected are lost.
type Hub struct {
	log        *slog.Logger
	ps         *redis.PubSub
	buffer     int
	maxBacklog int

	ready     chan struct{} // closed at the first subscription confirmation
	done      chan struct{} // closed by Close
	closeOnce sync.Once
	closeErr  error
	wg        sync.WaitGroup // the receive loop and every subscriber's pump

	mu     sync.Mutex
	closed bool
	subs   map[string]map[*subscriber]struct{} // by job id; "" = every job
}

// NewHub subscribes to the firehose channel on c and starts the fan-out. It does not wait
// for Redis: the subscription is made (and remade after errors) in the background; Ready
// tells when it first succeeded. Close the Hub before closing c.
func NewHub(c redis.UniversalClient, opts HubOptions) *Hub {
	h := &Hub{
		log:        opts.Logger,
		buffer:     opts.Buffer,
		maxBacklog: opts.MaxBacklog,
		ready:      make(chan struct{}),
		done:       make(chan struct{}),
		subs:       map[string]map[*subscriber]struct{}{},
	}
	if h.log == nil {
		h.log = slog.Default()
	}
	if h.buffer <= 0 {
		h.buffer = DefaultBuffer
	}
	if h.maxBacklog <= 0 {
		h.maxBacklog = DefaultMaxBacklog
	}
	h.maxBacklog = max(h.maxBacklog, h.buffer)
	channel := FirehoseChannel(opts.Prefix)
	// A failed first SUBSCRIBE (Redis down) is remembered and retried by go-redis on the
	// next receive, so its error is not ours to handle here.
	h.ps = c.Subscribe(context.Background(), channel)
	msgs := h.ps.ChannelWithSubscriptions(redis.WithChannelSize(256))
	h.wg.Add(1)
	go h.receive(channel, msgs)
	return h
}

// Ready is closed once Redis has confirmed the Hub's first subscription; events published
// before that may be missed.
func (h *Hub) Ready() <-chan struct{} { return h.ready }

// Close ends the subscription, closes every subscriber's channel and waits for the Hub's
// goroutines to end. It does not close the Redis client. It is safe to call more than
// once.
func (h *Hub) Close() error {
	h.closeOnce.Do(func() {
		h.mu.Lock()
		h.closed = true
		h.mu.Unlock()
		close(h.done)
		h.closeErr = h.ps.Close()
		h.wg.Wait()
	})
	return h.closeErr
}

// receive reads the subscription until the PubSub is closed.
func (h *Hub) receive(channel string, msgs <-chan any) {
	defer h.wg.Done()
	confirmed := false
	for m := range msgs {
		switch m := m.(type) {
		case *redis.Subscription:
			if m.Kind != "subscribe" {
				continue
			}
			if !confirmed {
				confirmed = true
				close(h.ready)
				continue
			}
			h.log.Info("Progress events subscription restored; events published meanwhile are lost",
				slog.String("channel", channel))
		case *redis.Message:
			var w wireEvent
			if err := json.Unmarshal([]byte(m.Payload), &w); err != nil || (w.JobID == "" && w.GroupID == "") {
				h.log.Warn("Ignoring a malformed progress event", slog.String("channel", m.Channel), slog.Any("error", err))
				continue
			}
			ev := w.Event
			ev.Owner = w.Owner
			ev.DataVersion = w.DataVersion
			h.dispatch(ev)
		}
	}
}

// dispatch hands ev to the subscribers of its job and to those of every job whose filter
// keeps it. It only appends to queues, so it never waits for a subscriber.
func (h *Hub) dispatch(ev Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if ev.JobID != "" {
		for s := range h.subs[ev.JobID] {
			if s.keep == nil || s.keep(ev) {
				s.push(ev)
			}
		}
	}
	for s := range h.subs[""] {
		if s.keep == nil || s.keep(ev) {
			s.push(ev)
		}
	}
}

// Subscribe returns the events of job jobID ("" = every job) from now on, and a cancel
// function. The channel is closed when cancel is called, when ctx ends, when the Hub is
// closed, or when the subscriber fell MaxBacklog terminal events behind. cancel waits
// until the subscriber's goroutine has ended; it may be called more than once. On a
// closed Hub the channel is closed at once.
func (h *Hub) Subscribe(ctx context.Context, jobID string) (<-chan Event, func()) {
	return h.SubscribeFunc(ctx, jobID, nil)
}

// SubscribeFunc is Subscribe for only the events keep returns true for (nil: every
// event). An event keep refuses never reaches the subscriber: it takes no room in its
// queue and wakes none of its goroutines, which is what makes many subscribers that want
// few of the firehose's events cheap. keep is called by the Hub's fan-out, under its
// lock, once per event and subscriber: it must be fast, must not block and must not
// call the Hub.
func (h *Hub) SubscribeFunc(ctx context.Context, jobID string, keep func(Event) bool) (<-chan Event, func()) {
	s := &subscriber{
		keep:       keep,
		jobID:      jobID,
		buffer:     h.buffer,
		maxBacklog: h.maxBacklog,
		out:        make(chan Event),
		wake:       make(chan struct{}, 1),
		stop:       make(chan struct{}),
		exited:     make(chan struct{}),
	}
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		close(s.out)
		return s.out, func() {}
	}
	set := h.subs[jobID]
	if set == nil {
		set = map[*subscriber]struct{}{}
		h.subs[jobID] = set
	}
	set[s] = struct{}{}
	h.wg.Add(1) // under mu and before closed is set, so never racing Close's Wait
	h.mu.Unlock()
	go h.pump(ctx, s)
	return s.out, func() {
		s.stopOnce.Do(func() { close(s.stop) })
		<-s.exited
	}
}

// pump delivers one subscriber's queue to its channel until it is stopped.
func (h *Hub) pump(ctx context.Context, s *subscriber) {
	defer h.wg.Done()
	defer close(s.exited)
	defer close(s.out)
	defer h.unregister(s)
	for {
		ev, ok, cut := s.pop()
		if cut {
			h.log.Warn("Progress subscriber too slow; closing its stream",
				slog.String("job_id", s.jobID), slog.Int("max_backlog", s.maxBacklog))
			return
		}
		if !ok {
			select {
			case <-s.wake:
				continue
			case <-s.stop:
			case <-ctx.Done():
			case <-h.done:
			}
			return
		}
		select {
		case s.out <- ev:
		case <-s.stop:
			return
		case <-ctx.Done():
			return
		case <-h.done:
			return
		}
	}
}

func (h *Hub) unregister(s *subscriber) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if set := h.subs[s.jobID]; set != nil {
		delete(set, s)
		if len(set) == 0 {
			delete(h.subs, s.jobID)
		}
	}
}

// subscriber is one local consumer: a bounded queue filled by the Hub and drained by the
// subscriber's pump goroutine.
type subscriber struct {
	keep       func(Event) bool // nil: every event
	jobID      string
	buffer     int
	maxBacklog int
	out        chan Event
	wake       chan struct{} // capacity 1: "the queue has something"
	stop       chan struct{}
	stopOnce   sync.Once
	exited     chan struct{}

	mu       sync.Mutex
	queue    []Event
	overflow bool
}

// push queues ev without waiting. When the queue is full, the oldest intermediate event
// makes room; an intermediate event that finds only terminal ones queued is dropped. A
// terminal event is always queued, up to maxBacklog of them.
func (s *subscriber) push(ev Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.overflow {
		return
	}
	if len(s.queue) >= s.buffer {
		i := 0
		for i < len(s.queue) && s.queue[i].Terminal() {
			i++
		}
		switch {
		case i < len(s.queue):
			s.queue = append(s.queue[:i], s.queue[i+1:]...)
		case !ev.Terminal():
			return
		case len(s.queue) >= s.maxBacklog:
			// Every queued event is terminal and there are too many: dropping one would
			// break the promise, so the subscriber is cut off instead.
			s.overflow = true
			s.queue = nil
			s.signal()
			return
		}
	}
	s.queue = append(s.queue, ev)
	s.signal()
}

func (s *subscriber) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// pop takes the oldest queued event. cut is true when the subscriber was cut off.
func (s *subscriber) pop() (ev Event, ok, cut bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.overflow {
		return Event{}, false, true
	}
	if len(s.queue) == 0 {
		return Event{}, false, false
	}
	ev = s.queue[0]
	// Shift rather than reslice, so the backing array is reused instead of growing.
	n := copy(s.queue, s.queue[1:])
	s.queue[n] = Event{}
	s.queue = s.queue[:n]
	return ev, true, false
}
