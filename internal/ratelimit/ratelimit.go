// Package ratelimit limits request rates per key across processes: a GCRA (generic cell
// rate algorithm) limiter whose state lives in Redis, so that every API replica draws on
// one budget per API key instead of each granting the full rate.
//
// GCRA keeps one number per key, the theoretical arrival time (TAT): the instant at
// which the key's bucket would be full again. A request at now is allowed when
// max(TAT, now) + interval - burst*interval <= now, and then moves TAT forward by one
// interval (1/rate). This is exactly a token bucket of burst tokens refilled at rate a
// second, starting full, with one integer of state and no background refill.
package ratelimit

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/redis/go-redis/v9"
)

// DefaultPrefix is the key prefix NewRedis uses when given none.
const DefaultPrefix = "ocrinvoice:ratelimit:"

const (
	// minInterval is the finest spacing of requests: the script counts microseconds, so a
	// rate above a million a second is limited to a million a second.
	minInterval = 1.0 // microseconds
	// maxRefill bounds the time to refill a burst (interval * burst), which is also the
	// key's TTL: beyond it the rate is refused as an error rather than kept for years.
	maxRefill = 366 * 24 * time.Hour
)

// gcra is the whole decision, atomic in Redis. Times are microseconds of the Redis
// server's clock (TIME), so the replicas' clocks never enter into it.
//
//	KEYS[1]  the key's TAT (a number of microseconds)
//	ARGV[1]  emission interval: microseconds per request (1e6 / rate), may be fractional
//	ARGV[2]  burst (>= 1)
//
// It returns {allowed (1 or 0), microseconds until a request would be allowed}. The key
// expires when the bucket is full again (TAT), so idle keys vanish and a missing key means
// a full bucket. A refused request changes nothing.
var gcra = redis.NewScript(`
if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '')
if tat == nil or tat < now then tat = now end
local newtat = tat + interval
local allowat = newtat - burst * interval
if allowat > now then
  return {0, math.ceil(allowat - now)}
end
local ttl = math.ceil((newtat - now) / 1000)
if ttl < 1 then ttl = 1 end
redis.call('SET', KEYS[1], string.format('%.17g', newtat), 'PX', ttl)
return {1, 0}
`)

// Redis is a GCRA rate limiter over Redis, safe for concurrent use and shared by every
// process that uses the same Redis and prefix.
type Redis struct {
	rdb    redis.UniversalClient
	prefix string
}

// NewRedis returns a limiter keeping its state in rdb under prefix + key (prefix ""
// means DefaultPrefix). Each key is one Redis string that expires once its bucket has
// refilled. It does no I/O; the script is sent with EVALSHA, and with EVAL the first time
// a server does not know it (NOSCRIPT).
func NewRedis(rdb redis.UniversalClient, prefix string) *Redis {
	if prefix == "" {
		prefix = DefaultPrefix
	}
	return &Redis{rdb: rdb, prefix: prefix}
}

// Allow takes one request from key's budget of perSecond requests a second with bursts
// of burst requests (a bucket of burst tokens, full at first, refilled at perSecond).
// Fractional rates work: 0.5 allows one request every 2 s once the burst is spent.
//
// Rates above a million a second are limited to a million a second (the script counts
// microseconds).
//
// It returns ok and, when not ok, how long until a request would be allowed (> 0). A
// refused request costs nothing. Errors: perSecond not a positive finite number, burst
// below 1, or a burst that would take more than a year to refill (no Redis call is made
// for these); or Redis failing (unreachable, timeout, context done, a script error): ok
// is then false and the caller decides how to limit without Redis.
func (r *Redis) Allow(ctx context.Context, key string, perSecond float64, burst int) (ok bool, retryAfter time.Duration, err error) {
	if !(perSecond > 0) || math.IsInf(perSecond, 0) || burst < 1 {
		return false, 0, fmt.Errorf("rate limit %v per second, burst %d: want a positive finite rate and a burst of at least 1", perSecond, burst)
	}
	interval := max(1e6/perSecond, minInterval) // microseconds per request
	if interval*float64(burst) > float64(maxRefill/time.Microsecond) {
		return false, 0, fmt.Errorf("rate limit %v per second, burst %d: a burst would take more than %v to refill", perSecond, burst, maxRefill)
	}
	res, err := gcra.Run(ctx, r.rdb, []string{r.prefix + key}, interval, burst).Int64Slice()
	if err != nil {
		return false, 0, fmt.Errorf("rate limit key %s in redis: %w", key, err)
	}
	if len(res) != 2 {
		return false, 0, fmt.Errorf("rate limit key %s in redis: unexpected reply %v", key, res)
	}
	if res[0] == 1 {
		return true, 0, nil
	}
	return false, time.Duration(max(res[1], 1)) * time.Microsecond, nil
}
