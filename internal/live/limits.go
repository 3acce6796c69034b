package live

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ocrinvoice/ocrinvoice/internal/apperr"
	"github.com/ocrinvoice/ocrinvoice/internal/auth"
)

// Defaults of the stream caps (Options.PerConnection, Options.PerKey) and of the lease of
// a stream's slot in Redis (Options.SlotLease).
const (
	DefaultPerConnection = 50
	DefaultPerKey        = 200
	DefaultSlotLease     = 30 * time.Second
	// DefaultSlotPrefix starts the Redis keys of the per-key counts unless
	// Options.SlotPrefix says otherwise.
	DefaultSlotPrefix = "ocrinvoice:streams:"
)

// Bounds of the Redis calls of the per-key count: taking a slot delays the opening
// stream; giving one back delays the end of its goroutine (and so Close).
const (
	slotAcquireTimeout = 2 * time.Second
	slotReleaseTimeout = time.Second
)

// Names of the caps, as extensions.details[0].field of a refusal (and the settings'
// names in the configuration: OCRINVOICE_SUBSCRIPTIONS_PER_CONNECTION and _PER_KEY).
const (
	CapPerConnection = "subscriptionsPerConnection"
	CapPerKey        = "subscriptionsPerKey"
)

type connKey struct{}

// conn counts the streams open on one client connection.
type conn struct{ open atomic.Int64 }

// WithConnection returns ctx marked as the context of one client connection (a GraphQL
// WebSocket): the streams opened with it or with contexts derived from it count together
// against Options.PerConnection. A stream opened without a connection (an SSE request or
// a REST event stream, one stream each) counts against the per-key cap only.
func WithConnection(ctx context.Context) context.Context {
	return context.WithValue(ctx, connKey{}, &conn{})
}

// errCap is the refusal of a stream over the cap named name (CapPerConnection or
// CapPerKey), which allows n streams.
func errCap(name string, n int, where string) error {
	return apperr.New(apperr.KindRateLimited,
		fmt.Sprintf("subscription limit exceeded: at most %d subscriptions may be open at once %s (%s); end one before opening another", n, where, name),
		apperr.Detail{Field: name, Message: fmt.Sprintf("at most %d at once", n)})
}

// limits enforces Options.PerConnection and Options.PerKey.
type limits struct {
	perConn, perKey int // <= 0: no cap
	slots           *redisSlots
	log             *slog.Logger

	mu    sync.Mutex
	byKey map[string]int // open streams per key id, in this process
}

// acquire takes the slots of one stream opened with ctx: one on its connection (see
// WithConnection) and one of its principal's API key. release gives them back; it must be
// called exactly once. Errors: RateLimited naming the cap that is full.
func (l *limits) acquire(ctx context.Context) (release func(), err error) {
	var undo []func()
	rollback := func() {
		for i := len(undo) - 1; i >= 0; i-- {
			undo[i]()
		}
	}
	if c, ok := ctx.Value(connKey{}).(*conn); ok && l.perConn > 0 {
		if c.open.Add(1) > int64(l.perConn) {
			c.open.Add(-1)
			return nil, errCap(CapPerConnection, l.perConn, "on one connection")
		}
		undo = append(undo, func() { c.open.Add(-1) })
	}
	p, ok := auth.FromContext(ctx)
	if ok && p.KeyID != "" && l.perKey > 0 {
		key := p.KeyID
		// The local count is exact for this process and bounds it when Redis does not
		// answer; Redis (when set) adds the streams of every other replica.
		l.mu.Lock()
		if l.byKey[key] >= l.perKey {
			l.mu.Unlock()
			rollback()
			return nil, errCap(CapPerKey, l.perKey, "per API key")
		}
		l.byKey[key]++
		l.mu.Unlock()
		undo = append(undo, func() {
			l.mu.Lock()
			if l.byKey[key]--; l.byKey[key] <= 0 {
				delete(l.byKey, key)
			}
			l.mu.Unlock()
		})
		if l.slots != nil {
			member, ok, err := l.slots.acquire(ctx, key, l.perKey)
			switch {
			case err != nil:
				l.log.DebugContext(ctx, "Cannot count a live stream in Redis; counted in this process only",
					slog.String("key_id", key), slog.Any("error", err))
			case !ok:
				rollback()
				return nil, errCap(CapPerKey, l.perKey, "per API key")
			default:
				undo = append(undo, func() { l.slots.release(key, member) })
			}
		}
	}
	var once sync.Once
	return func() { once.Do(rollback) }, nil
}

// acquireSlot is the per-key count in Redis, atomic across replicas. Each open stream is
// a member of a sorted set per key whose score is the expiry of its lease (milliseconds
// of the Redis server's clock, so the replicas' clocks never enter into it): expired
// members, the streams of a replica that died without giving them back, are dropped
// before counting.
//
//	KEYS[1]  the key's set
//	ARGV[1]  the cap
//	ARGV[2]  the lease, milliseconds
//	ARGV[3]  the new member
//
// It returns 1 when the member was added, 0 when the cap is reached.
var acquireSlot = redis.NewScript(`
if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local lease = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then
  return 0
end
redis.call('ZADD', KEYS[1], now + lease, ARGV[3])
redis.call('PEXPIRE', KEYS[1], lease)
return 1
`)

// renewSlots extends the leases of the members ARGV[2..] of KEYS[1] by ARGV[1]
// milliseconds from now. A member no longer there (given back, or expired while Redis
// was unreachable) is not added again.
var renewSlots = redis.NewScript(`
if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local lease = tonumber(ARGV[1])
for i = 2, #ARGV do
  redis.call('ZADD', KEYS[1], 'XX', now + lease, ARGV[i])
end
redis.call('PEXPIRE', KEYS[1], lease)
return 0
`)

// redisSlots holds this process's slots in the per-key sets in Redis and renews their
// leases every third of a lease until its context ends.
type redisSlots struct {
	rdb    redis.UniversalClient
	prefix string
	lease  time.Duration
	log    *slog.Logger
	self   string // this process's prefix of member names
	seq    atomic.Uint64

	mu   sync.Mutex
	held map[string]map[string]struct{} // key id -> members
}

func newRedisSlots(rdb redis.UniversalClient, prefix string, lease time.Duration, log *slog.Logger) *redisSlots {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return &redisSlots{rdb: rdb, prefix: prefix, lease: lease, log: log, self: hex.EncodeToString(b[:]),
		held: map[string]map[string]struct{}{}}
}

// acquire adds one member to key's set unless it has limit members already.
func (s *redisSlots) acquire(ctx context.Context, key string, limit int) (member string, ok bool, err error) {
	member = fmt.Sprintf("%s:%d", s.self, s.seq.Add(1))
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), slotAcquireTimeout)
	defer cancel()
	n, err := acquireSlot.Run(ctx, s.rdb, []string{s.prefix + key}, limit, s.lease.Milliseconds(), member).Int()
	if err != nil {
		return "", false, fmt.Errorf("count the streams of key %s in redis: %w", key, err)
	}
	if n != 1 {
		return "", false, nil
	}
	s.mu.Lock()
	if s.held[key] == nil {
		s.held[key] = map[string]struct{}{}
	}
	s.held[key][member] = struct{}{}
	s.mu.Unlock()
	return member, true, nil
}

// release removes member from key's set. Should Redis not answer, the member expires
// with its lease.
func (s *redisSlots) release(key, member string) {
	s.mu.Lock()
	delete(s.held[key], member)
	if len(s.held[key]) == 0 {
		delete(s.held, key)
	}
	s.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), slotReleaseTimeout)
	defer cancel()
	if err := s.rdb.ZRem(ctx, s.prefix+key, member).Err(); err != nil {
		s.log.Debug("Cannot give back a live stream's slot in Redis; it expires with its lease",
			slog.String("key_id", key), slog.Any("error", err))
	}
}

// run renews the leases of the held members every third of a lease until ctx ends.
func (s *redisSlots) run(ctx context.Context) {
	tick := time.NewTicker(s.lease / 3)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			s.renew(ctx)
		}
	}
}

// renew extends the lease of every held member, in one round trip.
func (s *redisSlots) renew(ctx context.Context) {
	s.mu.Lock()
	args := make(map[string][]any, len(s.held))
	for key, members := range s.held {
		a := make([]any, 0, len(members)+1)
		a = append(a, s.lease.Milliseconds())
		for m := range members {
			a = append(a, m)
		}
		args[key] = a
	}
	s.mu.Unlock()
	if len(args) == 0 {
		return
	}
	rctx, cancel := context.WithTimeout(ctx, s.lease/3)
	defer cancel()
	_, err := s.rdb.Pipelined(rctx, func(pipe redis.Pipeliner) error {
		for key, a := range args {
			// EVAL, not EVALSHA: a pipeline cannot fall back after NOSCRIPT.
			renewSlots.Eval(rctx, pipe, []string{s.prefix + key}, a...)
		}
		return nil
	})
	if err != nil && ctx.Err() == nil {
		s.log.Warn("Cannot renew the leases of live streams in Redis; other replicas may undercount them",
			slog.Int("keys", len(args)), slog.Any("error", err))
	}
}
