package server

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/ocrinvoice/ocrinvoice/internal/apperr"
	"github.com/ocrinvoice/ocrinvoice/internal/auth"
	"github.com/ocrinvoice/ocrinvoice/internal/database"
)

// queryBudgets holds the per-client budgets of database time (Options.QueryBudget): a
// bucket of seconds of database time per key, refilled at the budget's rate up to its
// burst. A request is admitted while its key's bucket holds time; the time its
// statements spent (database.Meter) is taken out once it is answered, so the bucket
// may go below zero and the key then waits until it is refilled above zero. It is safe
// for concurrent use; buckets are per process.
type queryBudgets struct {
	now func() time.Time

	mu        sync.Mutex
	keys      map[string]*dbBucket
	lastSweep time.Time
}

type dbBucket struct {
	level float64 // seconds of database time left; negative: owed
	at    time.Time
}

func newQueryBudgets(now func() time.Time) *queryBudgets {
	return &queryBudgets{now: now, keys: map[string]*dbBucket{}}
}

// refill brings b up to now at rate seconds a second, at most burst; q.mu is held.
func (b *dbBucket) refill(now time.Time, rate, burst float64) {
	if dt := now.Sub(b.at).Seconds(); dt > 0 {
		b.level = math.Min(burst, b.level+rate*dt)
	}
	b.at = now
}

// admit reports whether key may start a request (its bucket holds time), or the whole
// seconds until it will.
func (q *queryBudgets) admit(key string, rate, burst float64) (bool, int) {
	now := q.now()
	q.mu.Lock()
	defer q.mu.Unlock()
	q.sweep(now, rate, burst)
	b, ok := q.keys[key]
	if !ok {
		return true, 0 // a new bucket is full
	}
	b.refill(now, rate, burst)
	if b.level > 0 {
		return true, 0
	}
	return false, retrySeconds(time.Duration((-b.level/rate)*float64(time.Second)) + time.Millisecond)
}

// charge takes spent database time out of key's bucket.
func (q *queryBudgets) charge(key string, spent time.Duration, rate, burst float64) {
	if spent <= 0 {
		return
	}
	now := q.now()
	q.mu.Lock()
	defer q.mu.Unlock()
	b, ok := q.keys[key]
	if !ok {
		b = &dbBucket{level: burst, at: now}
		q.keys[key] = b
	}
	b.refill(now, rate, burst)
	b.level -= spent.Seconds()
}

// sweep forgets full buckets (a new one starts full, so nothing changes), at most once
// per limiterSweep; q.mu is held.
func (q *queryBudgets) sweep(now time.Time, rate, burst float64) {
	if now.Sub(q.lastSweep) < limiterSweep {
		return
	}
	q.lastSweep = now
	for k, b := range q.keys {
		if b.level+rate*now.Sub(b.at).Seconds() >= burst {
			delete(q.keys, k)
		}
	}
}

// queryBudgetBurst is Options.QueryBudgetBurst, or ten seconds' worth of the rate (at
// least one second).
func (s *Server) queryBudgetBurst() float64 {
	if s.opts.QueryBudgetBurst > 0 {
		return s.opts.QueryBudgetBurst.Seconds()
	}
	return math.Max(1, 10*s.opts.QueryBudget)
}

// boundQueries gives an API request its database deadline (Options.QueryTimeout) and,
// with Options.QueryBudget, applies its client's budget of database time: a client
// whose budget is spent is answered 429 RATE_LIMITED with Retry-After (false is
// returned); otherwise the request's statements are metered and their time charged to
// the client once it is answered (call the returned function then). The client is the
// API key, or the client address when the request has none (authentication off).
func (s *Server) boundQueries(w http.ResponseWriter, r *http.Request, p auth.Principal) (*http.Request, func(), bool) {
	ctx := r.Context()
	if s.opts.QueryTimeout > 0 {
		ctx = database.WithStatementTimeout(ctx, s.opts.QueryTimeout)
	}
	if s.opts.QueryBudget <= 0 {
		return derive(r, ctx), func() {}, true
	}
	key := "key:" + p.KeyID
	if p.KeyID == "" {
		addr := clientAddr(r, s.opts.TrustedProxies)
		if st := stateOf(r); st != nil {
			st.client = addr
		}
		key = "addr:" + clientKey(addr)
	}
	rate, burst := s.opts.QueryBudget, s.queryBudgetBurst()
	if ok, retry := s.budgets.admit(key, rate, burst); !ok {
		w.Header().Set("Retry-After", strconv.Itoa(retry))
		s.reject(r, rejectQueryBudget)
		writeError(w, r, apperr.RateLimited(
			fmt.Sprintf("database time budget spent: a client may use %gs of database time per second, in bursts of %gs (OCRINVOICE_QUERY_BUDGET, OCRINVOICE_QUERY_BUDGET_BURST); retry in %d s", rate, burst, retry)))
		return r, nil, false
	}
	m := new(database.Meter)
	r = derive(r, database.WithMeter(ctx, m))
	return r, func() { s.budgets.charge(key, m.Spent(), rate, burst) }, true
}
