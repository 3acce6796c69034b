package ratelimit

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// DefaultLeasePrefix is the key prefix NewLeases uses when given none.
const DefaultLeasePrefix = "ocrinvoice:leases:"

// acquireLease takes or renews one lease of a bounded set, atomically in Redis. The set
// is a sorted set: member = holder, score = the lease's expiry in milliseconds of the
// Redis server's clock (TIME), so the replicas' clocks never enter into it. Expired
// leases are pruned first: the lease of a holder that died (a replica killed mid-upload)
// stops counting once it expires.
//
//	KEYS[1]  the set
//	ARGV[1]  holder
//	ARGV[2]  lease duration in milliseconds (>= 1)
//	ARGV[3]  limit (>= 1); 0 renews only: a holder whose lease is gone is not re-added
//
// It returns {granted (1 or 0), leases held after the call}. The set expires with its
// last lease.
var acquireLease = redis.NewScript(`
if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local held = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not held then
  if limit == 0 or redis.call('ZCARD', KEYS[1]) >= limit then
    return {0, redis.call('ZCARD', KEYS[1])}
  end
end
redis.call('ZADD', KEYS[1], now + ttl, ARGV[1])
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
redis.call('PEXPIREAT', KEYS[1], tonumber(last[2]))
return {1, redis.call('ZCARD', KEYS[1])}
`)

// Leases counts holders of a bounded resource (uploads in flight per API key) across
// processes: each holder has a lease in Redis that expires unless it is renewed, so a
// process that dies holding leases frees them within one lease duration. It is safe
// for concurrent use.
type Leases struct {
	rdb    redis.UniversalClient
	prefix string
}

// NewLeases returns leases kept in rdb under prefix + key (prefix "" means
// DefaultLeasePrefix), one sorted set per key. It does no I/O.
func NewLeases(rdb redis.UniversalClient, prefix string) *Leases {
	if prefix == "" {
		prefix = DefaultLeasePrefix
	}
	return &Leases{rdb: rdb, prefix: prefix}
}

// Acquire takes a lease of key for holder, valid for ttl, when fewer than limit
// unexpired leases of key are held; a holder that holds one already has it renewed. It
// returns whether the lease is held. Errors: limit below 1 or ttl below a millisecond
// (no Redis call is made), or Redis failing.
func (l *Leases) Acquire(ctx context.Context, key, holder string, limit int, ttl time.Duration) (bool, error) {
	if limit < 1 {
		return false, fmt.Errorf("lease limit %d: want at least 1", limit)
	}
	return l.run(ctx, key, holder, limit, ttl)
}

// Renew extends holder's lease of key to ttl from now. It returns false when the lease
// is gone (it expired: the holder was not renewing in time); it is not taken again.
// Errors: Redis failing.
func (l *Leases) Renew(ctx context.Context, key, holder string, ttl time.Duration) (bool, error) {
	return l.run(ctx, key, holder, 0, ttl)
}

// Release gives holder's lease of key back. Errors: Redis failing (the lease then
// expires on its own).
func (l *Leases) Release(ctx context.Context, key, holder string) error {
	if err := l.rdb.ZRem(ctx, l.prefix+key, holder).Err(); err != nil {
		return fmt.Errorf("release lease of %s in redis: %w", key, err)
	}
	return nil
}

func (l *Leases) run(ctx context.Context, key, holder string, limit int, ttl time.Duration) (bool, error) {
	ms := ttl.Milliseconds()
	if ms < 1 {
		return false, fmt.Errorf("lease duration %v: want at least 1ms", ttl)
	}
	res, err := acquireLease.Run(ctx, l.rdb, []string{l.prefix + key}, holder, ms, limit).Int64Slice()
	if err != nil {
		return false, fmt.Errorf("lease of %s in redis: %w", key, err)
	}
	if len(res) != 2 {
		return false, fmt.Errorf("lease of %s in redis: unexpected reply %v", key, res)
	}
	return res[0] == 1, nil
}
