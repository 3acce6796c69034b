package server

import (
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
)

// limiters holds the per-key request rate limiters and upload counts. It is safe for
// concurrent use.
type limiters struct {
	now     func() time.Time
	metrics *metrics

	mu        sync.Mutex
	keys      map[string]*keyLimits
	lastSweep time.Time
}

type keyLimits struct {
	rate     *rate.Limiter // nil until the key is rate limited
	uploads  int           // uploads in flight
	lastUsed time.Time
}

func newLimiters(now func() time.Time, m *metrics) *limiters {
	return &limiters{now: now, metrics: m, keys: map[string]*keyLimits{}}
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
		if e.uploads > 0 || now.Sub(e.lastUsed) < limiterIdle {
			continue
		}
		if crowded || e.rate == nil || e.rate.TokensAt(now) >= float64(e.rate.Burst()) {
			delete(l.keys, k)
		}
	}
	l.metrics.limiters.Set(float64(len(l.keys)))
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
	secs := int(math.Ceil(d.Seconds()))
	return false, min(max(secs, 1), limiterRetryMax)
}

// acquireUpload takes one of key's limit upload slots. It returns the function that
// gives it back (call it once the upload is answered), or false when all are taken.
func (l *limiters) acquireUpload(key string, limit int) (release func(), ok bool) {
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
