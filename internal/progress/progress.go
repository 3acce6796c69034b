// Package progress carries job progress events over Redis pub/sub: a Publisher (used by
// workers and the API when a job's status or progress changes) and a Hub (one Redis
// subscription per process, fanned out to local subscribers such as GraphQL
// subscriptions and SSE streams).
//
// Events are notifications, not the record: Redis pub/sub delivers at most once, and
// nothing is kept for a subscriber that is not connected (for example while Redis
// restarts). The database stays the source of truth; a consumer that needs the state
// reads the job and then follows its events.
//
// Channels, for a prefix P (default DefaultPrefix):
//
//	P + "progress:job:" + jobID   the events of one job
//	P + "progress:jobs"           every event (the Hub subscribes to this one)
//
// Payloads are the JSON encoding of Event, with the job's owner (Event.Owner) as "owner"
// when the publisher knows it and its data version (Event.DataVersion) as "dataVersion".
package progress

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ocrinvoice/ocrinvoice/internal/invoice"
)

// DefaultPrefix starts every channel name unless the options set another prefix.
const DefaultPrefix = "ocrinvoice:"

// DefaultPublishTimeout bounds one Publish call unless PublisherOptions sets another.
const DefaultPublishTimeout = 500 * time.Millisecond

// Job statuses that end a job's run; their events are never dropped by the Hub.
const (
	StatusCompleted = "completed"
	StatusFailed    = "failed"
	StatusCancelled = "cancelled"
)

// StatusGroupChanged is the status of a group event: an Event with GroupID set and no
// JobID, published when a group changes in a way no job event shows (created,
// suspended, resumed, cancelled, retried), so that the runner reconciles it. Consumers of
// job events skip events without a JobID.
const StatusGroupChanged = "group-changed"

// Event is one change of a job: its status, its progress, and a human message (the
// failure reason of a failed job, for example).
type Event struct {
	JobID string `json:"jobId"`
	// GroupID is the job's group, "" when it has none.
	GroupID  string           `json:"groupId,omitempty"`
	Status   string           `json:"status"`
	Progress invoice.Progress `json:"progress"`
	Message  string           `json:"message,omitempty"`
	// At is when the change happened (UTC); Publish sets it when zero.
	At time.Time `json:"at"`
	// Owner is the job's createdBy ("" for a job without one), so that a subscriber
	// scoped to an owner can skip the events of other owners without reading the
	// database; nil when the publisher did not say (an event published by an older
	// release), which a scoped subscriber must then treat as possibly its own. It
	// travels in the Redis payload (as "owner") but is not part of the event's own JSON
	// encoding, which is what clients of the event streams receive.
	Owner *string `json:"-"`
	// DataVersion is the job's data_version (see jobs.CorrectJob), so that a subscriber
	// to job updates tells a correction or approval (same status, new version) from a
	// progress event; 0 when the publisher did not say. Like Owner it travels in the
	// Redis payload (as "dataVersion") but not in the event's own JSON encoding.
	DataVersion int `json:"-"`
}

// OwnerOf returns createdBy as an Event.Owner.
func OwnerOf(createdBy string) *string { return &createdBy }

// wireEvent is the Redis payload of an Event: its JSON encoding plus the owner and the
// data version.
type wireEvent struct {
	Event
	Owner       *string `json:"owner,omitempty"`
	DataVersion int     `json:"dataVersion,omitempty"`
}

// Terminal reports whether the event ends a run: status completed, failed or cancelled.
// A retried job may produce more events after a terminal one.
func (e Event) Terminal() bool { return IsTerminal(e.Status) }

// IsTerminal reports whether a job status ends a run (completed, failed, cancelled).
func IsTerminal(status string) bool {
	return status == StatusCompleted || status == StatusFailed || status == StatusCancelled
}

// JobChannel returns the channel of one job's events under prefix ("" = DefaultPrefix).
func JobChannel(prefix, jobID string) string { return orDefault(prefix) + "progress:job:" + jobID }

// FirehoseChannel returns the channel of every job's events under prefix ("" =
// DefaultPrefix).
func FirehoseChannel(prefix string) string { return orDefault(prefix) + "progress:jobs" }

func orDefault(prefix string) string {
	if prefix == "" {
		return DefaultPrefix
	}
	return prefix
}

// PublisherOptions tune a Publisher. Zero values select the defaults.
type PublisherOptions struct {
	// Prefix starts the channel names; default DefaultPrefix.
	Prefix string
	// Timeout bounds one Publish, so that a slow or absent Redis delays the caller by at
	// most this much; default DefaultPublishTimeout.
	Timeout time.Duration
}

// Publisher sends events to Redis. It is safe for concurrent use. A nil *Publisher is
// valid and publishes nothing, so callers may hold one unconditionally.
type Publisher struct {
	client   redis.UniversalClient
	prefix   string
	firehose string
	timeout  time.Duration
}

// NewPublisher returns a Publisher over c. It does not own c: closing c is the caller's
// business.
func NewPublisher(c redis.UniversalClient, opts PublisherOptions) *Publisher {
	p := &Publisher{client: c, prefix: orDefault(opts.Prefix), timeout: opts.Timeout}
	p.firehose = FirehoseChannel(p.prefix)
	if p.timeout <= 0 {
		p.timeout = DefaultPublishTimeout
	}
	return p
}

// Publish sends ev to its job's channel (a group event has none) and to the firehose
// channel, in one round trip
// bounded by the publisher's timeout (and by ctx). It sets ev.At to the current time when
// zero. The error is for the caller to log: a lost event is not a failed job.
// On a nil Publisher it does nothing and returns nil.
func (p *Publisher) Publish(ctx context.Context, ev Event) error {
	if p == nil {
		return nil
	}
	if ev.JobID == "" && ev.GroupID == "" {
		return errors.New("publish progress event: no job id")
	}
	if ev.At.IsZero() {
		ev.At = time.Now()
	}
	ev.At = ev.At.UTC()
	b, err := json.Marshal(wireEvent{Event: ev, Owner: ev.Owner, DataVersion: ev.DataVersion})
	if err != nil {
		return fmt.Errorf("encode progress event of job %s: %w", ev.JobID, err)
	}
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	_, err = p.client.Pipelined(ctx, func(pipe redis.Pipeliner) error {
		if ev.JobID != "" { // a group event goes to the firehose only
			pipe.Publish(ctx, JobChannel(p.prefix, ev.JobID), b)
		}
		pipe.Publish(ctx, p.firehose, b)
		return nil
	})
	if err != nil {
		return fmt.Errorf("publish progress event of job %s: %w", ev.JobID, err)
	}
	return nil
}
