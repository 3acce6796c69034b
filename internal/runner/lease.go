package runner

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"
)

// DefaultLeaseKey is the Redis key of the runner's lease.
const DefaultLeaseKey = "ocrinvoice:runner:leader"

// DefaultLeaseTTL is the lease's expiry: how long the replicas may go without an active
// runner when its holder dies without releasing it.
const DefaultLeaseTTL = 15 * time.Second

// Scripts act on the lease only while it is ours (the value is our token), so that a
// holder that lost the lease (paused past its expiry) never extends or deletes another's.
var (
	renewScript   = redis.NewScript(`if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("PEXPIRE", KEYS[1], ARGV[2]) else return 0 end`)
	releaseScript = redis.NewScript(`if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) else return 0 end`)
)

// Lease makes one process among replicas the active runner: SET key token NX PX ttl to
// take it, renewed every ttl/3 while held, released on shutdown only if still ours
// (a Lua compare-and-delete). Zero fields take the defaults.
type Lease struct {
	Redis redis.UniversalClient
	Key   string        // [DefaultLeaseKey]
	TTL   time.Duration // [DefaultLeaseTTL]
	// Token identifies the holder [random].
	Token  string
	Logger *slog.Logger
	// OnChange, when set, is told when this process takes (true) or loses (false) the lease.
	OnChange func(held bool)
}

func (l *Lease) defaults() {
	if l.Key == "" {
		l.Key = DefaultLeaseKey
	}
	if l.TTL <= 0 {
		l.TTL = DefaultLeaseTTL
	}
	if l.Token == "" {
		var b [12]byte
		_, _ = rand.Read(b[:])
		l.Token = hex.EncodeToString(b[:])
	}
	if l.Logger == nil {
		l.Logger = slog.Default()
	}
}

// Run tries to take the lease every TTL/3 (or at the moment another holder's lease
// expires, when that is sooner) until ctx ends. While it holds the lease it
// runs fn with a context that ends when ctx ends or the lease is lost (a renewal that
// finds it gone or another's, or no renewal succeeding before the expiry); fn must
// return then. When ctx ends, Run waits for fn and releases the lease if it is still
// ours, so that another replica takes over at once rather than after the expiry.
func (l *Lease) Run(ctx context.Context, fn func(ctx context.Context)) {
	l.defaults()
	every := l.TTL / 3
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		ok, err := l.Redis.SetNX(ctx, l.Key, l.Token, l.TTL).Result()
		if err != nil && ctx.Err() == nil {
			l.Logger.Warn("Could not try the runner lease", slog.Any("error", err))
		}
		wait := every
		if ok {
			l.hold(ctx, fn, t)
		} else if err == nil {
			// Held by another: try again as soon as it would expire, so that a dead
			// holder is replaced right at its expiry rather than up to TTL/3 later.
			if left, perr := l.Redis.PTTL(ctx, l.Key).Result(); perr == nil && left >= 0 && left < every {
				wait = left + 5*time.Millisecond
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}

// hold runs fn while the lease is renewed, and releases the lease at the end.
func (l *Lease) hold(ctx context.Context, fn func(ctx context.Context), t *time.Ticker) {
	l.Logger.Info("Runner lease taken: this process runs the reconcilers", slog.String("key", l.Key))
	if l.OnChange != nil {
		l.OnChange(true)
	}
	hctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(hctx)
	}()
	lastRenewed := time.Now()
	for held := true; held; {
		select {
		case <-ctx.Done():
			held = false
		case <-done:
			held = false
		case <-t.C:
			n, err := renewScript.Run(ctx, l.Redis, []string{l.Key}, l.Token, l.TTL.Milliseconds()).Int()
			switch {
			case err == nil && n == 1:
				lastRenewed = time.Now()
			case err == nil:
				l.Logger.Warn("Runner lease lost to another process", slog.String("key", l.Key))
				held = false
			case time.Since(lastRenewed) >= l.TTL:
				l.Logger.Warn("Runner lease expired: Redis unreachable", slog.Any("error", err))
				held = false
			}
		}
	}
	cancel()
	<-done
	// Release with a context of its own: ctx may have ended, which is why we release.
	rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer rcancel()
	if _, err := releaseScript.Run(rctx, l.Redis, []string{l.Key}, l.Token).Result(); err != nil {
		l.Logger.Warn("Could not release the runner lease; it expires by itself", slog.Any("error", err))
	}
	if l.OnChange != nil {
		l.OnChange(false)
	}
	l.Logger.Info("Runner lease released", slog.String("key", l.Key))
}
