package server

import (
	"context"
	"crypto/rand"
	"log/slog"
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Idle limiters are dropped so that memory stays bounded by the keys in recent use.
const (
	limiterIdle     = 10 * time.Minute // unused this long (and refilled): forgotten
	limiterSweep    = time.Minute      // how often idle limiters are looked for
	maxLimiters     = 100_000          // beyond this, idle limiters go even if not refilled
	limiterRetryMax = 3600             // a Retry-After never says more than an hour

	sharedTimeout   = 500 * time.Millisecond // one decision of Options.RateLimiter
	sharedPause     = time.Second            // after a failure, decide in process this long before asking again
	sharedWarnEvery = time.Minute            // a failing RateLimiter is logged at most this often
)

// RateLimiter is a request rate limit shared by the replicas of the API, so that a key
// gets its rate once in total and not once per replica (ratelimit.Redis is one).
//
// Allow takes one request from key's budget of perSecond requests a second with bursts of
// burst (perSecond > 0, burst >= 1). It returns ok, or false and how long until a request
// would be allowed; an error when it cannot decide (its store unreachable, ctx done).
// It must be safe for concurrent use.
type RateLimiter interface {
	Allow(ctx context.Context, key string, perSecond float64, burst int) (ok bool, retryAfter time.Duration, err error)
}

// UploadLeases counts the uploads in flight of all replicas together, with leases that
// expire unless renewed, so that the slots of a replica that died mid-upload come back
// by themselves (ratelimit.Leases is one).
//
// Acquire takes a lease of key for holder valid for ttl when fewer than limit are held;
// Renew extends it (false: it expired meanwhile); Release gives it back. Errors mean the
// store could not decide (unreachable, ctx done). It must be safe for concurrent use.
type UploadLeases interface {
	Acquire(ctx context.Context, key, holder string, limit int, ttl time.Duration) (bool, error)
	Renew(ctx context.Context, key, holder string, ttl time.Duration) (bool, error)
	Release(ctx context.Context, key, holder string) error
}

// uploadLeaseTTL is how long an upload's shared lease lasts without renewal: the
// longest a dead replica's uploads keep counting. It is renewed every third of it.
const uploadLeaseTTL = 30 * time.Second

// limiters holds the per-key request rate limiters and upload counts. It is safe for
// concurrent use.
//
// With a shared RateLimiter, request rates are decided by it and the in-process buckets
// only stand in while it fails. With shared UploadLeases, uploads in flight are counted
// by them — each upload holds a lease renewed while it streams, which expires within
// leaseTTL when its replica dies — and the in-process counts only stand in while they
// fail (a key may then have UploadConcurrency uploads in flight on each replica).
type limiters struct {
	now      func() time.Time
	metrics  *metrics
	shared   RateLimiter  // nil: rates are per process
	leases   UploadLeases // nil: uploads are counted per process
	leaseTTL time.Duration
	logger   *slog.Logger // warns of a failing shared limiter; never nil when shared or leases is set

	mu        sync.Mutex
	keys      map[string]*keyLimits
	lastSweep time.Time
	pauseTil  time.Time // the shared limiter failed: not asked before then
	lastWarn  time.Time // of a failing shared limiter
	fallbacks int       // decisions taken in process since lastWarn
}

type keyLimits struct {
	rate     *rate.Limiter // nil until the key is rate limited
	uploads  int           // uploads in flight
	lastUsed time.Time
	// blockedUntil: the key's budget was spent; until then it is refused without asking
	// (see blocked, spend).
	blockedUntil time.Time
}

func newLimiters(now func() time.Time, m *metrics) *limiters {
	return &limiters{now: now, metrics: m, keys: map[string]*keyLimits{}, leaseTTL: uploadLeaseTTL}
}

// entry returns the limits of key, creating them; l.mu is held.
func (l *limiters) entry(key string, now time.Time) *keyLimits {
	l.sweep(now)
	e, ok := l.keys[key]
	if !ok {
		e = &keyLimits{}
		l.keys[key] = e
		l.metrics.limiters.Set(float64(len(l.keys)))
	}
	e.lastUsed = now
	return e
}

// sweep forgets limiters idle for limiterIdle with no upload in flight and a full
// bucket (so that forgetting one changes nothing: a new one starts full), at most once
// per limiterSweep. Past maxLimiters, idle ones go even with tokens missing.
func (l *limiters) sweep(now time.Time) {
	if now.Sub(l.lastSweep) < limiterSweep {
		return
	}
	l.lastSweep = now
	crowded := len(l.keys) > maxLimiters
	for k, e := range l.keys {
		if e.uploads > 0 || now.Sub(e.lastUsed) < limiterIdle || (!crowded && now.Before(e.blockedUntil)) {
			continue
		}
		if crowded || e.rate == nil || e.rate.TokensAt(now) >= float64(e.rate.Burst()) {
			delete(l.keys, k)
		}
	}
	l.metrics.limiters.Set(float64(len(l.keys)))
}

// allowRequest decides one request of key at rps requests a second with bursts of burst:
// by the shared limiter when there is one, else by the in-process bucket. When the
// shared limiter fails (Redis down, slow past sharedTimeout), this request and those of
// the next sharedPause (so that an outage does not add a timeout to every request) are
// decided by the in-process bucket instead: never refused because the shared store is
// down, never let through unlimited. Failures are logged at most once per
// sharedWarnEvery. Not ok: the whole seconds (>= 1, <= limiterRetryMax) until a request
// will be allowed.
func (l *limiters) allowRequest(ctx context.Context, key string, rps float64, burst int) (bool, int) {
	if l.shared != nil && l.sharedPaused() {
		l.countFallback(ctx, key, nil)
	} else if l.shared != nil {
		sctx, cancel := context.WithTimeout(ctx, sharedTimeout)
		ok, retry, err := l.shared.Allow(sctx, key, rps, burst)
		cancel()
		if err == nil {
			if ok {
				return true, 0
			}
			return false, retrySeconds(retry)
		}
		l.countFallback(ctx, key, err)
	}
	return l.allow(key, rps, burst)
}

// sharedPaused reports that the shared limiter failed less than sharedPause ago.
func (l *limiters) sharedPaused() bool {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	return now.Before(l.pauseTil)
}

// countFallback counts a decision taken in process while the shared limiter is failing:
// err is its failure, nil while paused after one. A failure pauses the shared limiter
// for sharedPause and is logged, at most once per sharedWarnEvery. A request whose own
// context ended (the client went away) says nothing about the limiter: it neither
// pauses it nor is reported.
func (l *limiters) countFallback(ctx context.Context, key string, err error) {
	if err != nil && ctx.Err() != nil {
		return
	}
	now := l.now()
	l.mu.Lock()
	l.fallbacks++
	n := l.fallbacks
	warn := false
	if err != nil {
		l.pauseTil = now.Add(sharedPause)
		warn = l.lastWarn.IsZero() || now.Sub(l.lastWarn) >= sharedWarnEvery
		if warn {
			l.lastWarn, l.fallbacks = now, 0
		}
	}
	l.mu.Unlock()
	if warn {
		l.logger.WarnContext(ctx, "Shared rate limiter failed; limiting requests in process",
			slog.String("key_id", key), slog.Int("fallbacks", n), slog.String("error", err.Error()))
	}
}

// retrySeconds is a Retry-After for a wait of d: whole seconds rounded up, at least 1,
// at most limiterRetryMax.
func retrySeconds(d time.Duration) int {
	secs := math.Ceil(d.Seconds())
	if secs > limiterRetryMax { // also before converting: d may be huge
		return limiterRetryMax
	}
	return max(int(secs), 1)
}

// allow takes a token of key's bucket (rps tokens a second, burst at most). When none is
// left it returns false and the whole seconds (>= 1) until one will be.
func (l *limiters) allow(key string, rps float64, burst int) (bool, int) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	e := l.entry(key, now)
	switch {
	case e.rate == nil:
		e.rate = rate.NewLimiter(rate.Limit(rps), burst)
		// A new limiter's bucket is full "since the beginning of time": align it
		// with the clock in use.
		e.rate.SetLimitAt(now, rate.Limit(rps))
	case e.rate.Limit() != rate.Limit(rps) || e.rate.Burst() != burst:
		// The key's limit changed (a new default, another override).
		e.rate.SetLimitAt(now, rate.Limit(rps))
		e.rate.SetBurstAt(now, burst)
	}
	res := e.rate.ReserveN(now, 1)
	if !res.OK() {
		return false, 1
	}
	d := res.DelayFrom(now)
	if d <= 0 {
		return true, 0
	}
	res.CancelAt(now)
	return false, retrySeconds(d)
}

// blocked reports whether key spent its budget (spend refused it) less than the
// Retry-After it was given ago, and the whole seconds left. It asks nothing of the
// shared limiter: a blocked key costs no round trip.
func (l *limiters) blocked(key string) (int, bool) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	e, ok := l.keys[key]
	if !ok || !now.Before(e.blockedUntil) {
		return 0, false
	}
	return retrySeconds(e.blockedUntil.Sub(now)), true
}

// spend takes one token of key's budget like allowRequest; when none is left, key is
// blocked for the Retry-After returned, so that what it does meanwhile is refused by
// blocked without asking anyone.
func (l *limiters) spend(ctx context.Context, key string, rps float64, burst int) (bool, int) {
	ok, retry := l.allowRequest(ctx, key, rps, burst)
	if ok {
		return true, 0
	}
	now := l.now()
	l.mu.Lock()
	l.entry(key, now).blockedUntil = now.Add(time.Duration(retry) * time.Second)
	l.mu.Unlock()
	return false, retry
}

// acquireUpload takes one of key's limit upload slots: a lease of the shared
// UploadLeases when there are some (renewed every third of leaseTTL until released),
// else — or while they fail, like allowRequest — a slot counted in process. It returns
// the function that gives it back (call it once the upload is answered), or false when
// all are taken.
func (l *limiters) acquireUpload(ctx context.Context, key string, limit int) (release func(), ok bool) {
	if l.leases != nil && !l.sharedPaused() {
		holder := rand.Text()
		sctx, cancel := context.WithTimeout(ctx, sharedTimeout)
		ok, err := l.leases.Acquire(sctx, key, holder, limit, l.leaseTTL)
		cancel()
		if err == nil {
			if !ok {
				return nil, false
			}
			return l.holdLease(ctx, key, holder), true
		}
		l.countFallback(ctx, key, err)
	} else if l.leases != nil {
		l.countFallback(ctx, key, nil)
	}
	return l.acquireLocal(key, limit)
}

// holdLease renews holder's lease of key every third of leaseTTL until the returned
// release is called, which stops the renewals and gives the lease back. A renewal or a
// release that fails is left to the lease's expiry.
func (l *limiters) holdLease(ctx context.Context, key, holder string) (release func()) {
	ctx = context.WithoutCancel(ctx)
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(l.leaseTTL / 3)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				rctx, cancel := context.WithTimeout(ctx, sharedTimeout)
				if _, err := l.leases.Renew(rctx, key, holder, l.leaseTTL); err != nil {
					l.logger.WarnContext(ctx, "Cannot renew an upload lease; it may expire before the upload ends",
						slog.String("key_id", key), slog.String("error", err.Error()))
				}
				cancel()
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			close(stop)
			<-done
			rctx, cancel := context.WithTimeout(ctx, sharedTimeout)
			defer cancel()
			if err := l.leases.Release(rctx, key, holder); err != nil {
				l.logger.WarnContext(ctx, "Cannot release an upload lease; it expires by itself",
					slog.String("key_id", key), slog.String("error", err.Error()))
			}
		})
	}
}

// acquireLocal takes one of key's limit upload slots counted in this process.
func (l *limiters) acquireLocal(key string, limit int) (release func(), ok bool) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	e := l.entry(key, now)
	if e.uploads >= limit {
		return nil, false
	}
	e.uploads++
	var once sync.Once
	return func() {
		once.Do(func() {
			l.mu.Lock()
			defer l.mu.Unlock()
			e.uploads--
			e.lastUsed = l.now()
		})
	}, true
}
