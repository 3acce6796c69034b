package live

import (
	"encoding/json"
	"errors"
	"hash/fnv"
	"strconv"
	"strings"
	"time"

	"github.com/ocrinvoice/ocrinvoice/internal/invoice"
	"github.com/ocrinvoice/ocrinvoice/internal/progress"
)

// ErrUpToDate is what JobSince answers a client that reconnects to the stream of a job
// that has finished and whose final event it already has: there is nothing to send.
var ErrUpToDate = errors.New("the client has the job's final event already")

// EventID is the id of a job event in the event streams (the SSE `id:` line):
// "<At in Unix microseconds>-<status>", e.g. "1767225600123456-processing". A client that
// reconnects sends the last one it got back (Last-Event-ID), and JobSince resumes after
// it. Ids grow with the events of a job's stream; they are opaque to clients.
func EventID(ev *progress.Event) string {
	return strconv.FormatInt(ev.At.UnixMicro(), 10) + "-" + ev.Status
}

// eventMark is what an EventID tells of the event it names.
type eventMark struct {
	at     time.Time
	status string
}

// parseEventID reads an EventID; ok is false for "" and for anything else that is not one
// (a client's own id, another stream's), which then resumes nothing.
func parseEventID(s string) (eventMark, bool) {
	micros, status, ok := strings.Cut(s, "-")
	if !ok || status == "" || len(s) > 64 {
		return eventMark{}, false
	}
	n, err := strconv.ParseInt(micros, 10, 64)
	if err != nil || n < 0 {
		return eventMark{}, false
	}
	return eventMark{at: time.UnixMicro(n).UTC(), status: status}, true
}

// has reports whether a client whose last event was m already has what ev tells: the
// same status, no newer (a newer status is news whatever the clocks say, as for Job).
func (m eventMark) has(ev progress.Event) bool {
	return ev.Status == m.status && !ev.At.Truncate(time.Microsecond).After(m.at)
}

// GroupEventID is the id of a group status block in the event streams: "g" and a hash
// of the block, so that a client that reconnects with the block it has (Last-Event-ID)
// is not sent it again (GroupSince). A group's status is a state, not a history: the
// same block has the same id.
func GroupEventID(st *invoice.GroupStatus) string {
	b, err := json.Marshal(st)
	if err != nil {
		return ""
	}
	h := fnv.New64a()
	_, _ = h.Write(b)
	return "g" + strconv.FormatUint(h.Sum64(), 16)
}
