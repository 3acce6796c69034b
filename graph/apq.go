package graph

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/redis/go-redis/v9"

	"github.com/ocrinvoice/ocrinvoice/internal/auth"
)

// Defaults of APQCacheOptions.
const (
	DefaultAPQPrefix = "ocrinvoice:apq:"
	DefaultAPQTTL    = 24 * time.Hour
	// DefaultAPQQuota is how many new queries one API key may persist per hour. A client
	// has a fixed set of operations, so it never comes near; without a bound, a key
	// could fill the queue's Redis (which must not evict) with endless variants of one
	// query (each differing in white space hashes differently).
	DefaultAPQQuota = 200
	// apqTimeout bounds one Redis call: a slow Redis makes a persisted query miss (the
	// client then sends the full query), it does not hold up the request.
	apqTimeout = time.Second
)

// APQCacheOptions configure a RedisAPQCache. Zero values select the defaults.
type APQCacheOptions struct {
	// Prefix of every key. Default DefaultAPQPrefix.
	Prefix string
	// TTL of a stored query, renewed each time it is used. Default DefaultAPQTTL.
	TTL time.Duration
	// Logger receives Redis errors. Default slog.Default().
	Logger *slog.Logger
	// Quota is how many new queries one principal (API key) may store per hour; beyond
	// it a query still runs but is not persisted. Default DefaultAPQQuota; negative: no
	// quota.
	Quota int
}

// RedisAPQCache is the store of automatic persisted queries in Redis (a
// graphql.Cache[string] for Config.APQCache), so that every API replica knows the
// queries any of them has been sent: the query text under Prefix + its SHA-256 hex,
// expiring TTL after it was last used. It is safe for concurrent use. Redis errors are
// logged and read as a miss (the client resends the full query, which still works).
type RedisAPQCache struct {
	rdb    redis.UniversalClient
	prefix string
	ttl    time.Duration
	quota  int
	log    *slog.Logger
}

var _ graphql.Cache[string] = (*RedisAPQCache)(nil)

// NewRedisAPQCache returns an APQ cache over rdb, which the caller keeps and closes.
func NewRedisAPQCache(rdb redis.UniversalClient, opts APQCacheOptions) *RedisAPQCache {
	if opts.Prefix == "" {
		opts.Prefix = DefaultAPQPrefix
	}
	if opts.TTL <= 0 {
		opts.TTL = DefaultAPQTTL
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Quota == 0 {
		opts.Quota = DefaultAPQQuota
	}
	return &RedisAPQCache{rdb: rdb, prefix: opts.Prefix, ttl: opts.TTL, quota: opts.Quota, log: opts.Logger}
}

// Get returns the query stored under hash and renews its TTL. A hash that is not 64
// lowercase hex characters (what gqlgen's APQ accepts is whatever the client sent) is
// a miss without asking Redis.
func (c *RedisAPQCache) Get(ctx context.Context, hash string) (string, bool) {
	if !isSHA256Hex(hash) {
		return "", false
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), apqTimeout)
	defer cancel()
	q, err := c.rdb.GetEx(ctx, c.prefix+hash, c.ttl).Result()
	switch {
	case errors.Is(err, redis.Nil):
		return "", false
	case err != nil:
		c.log.WarnContext(ctx, "Could not read a persisted query", slog.String("hash", hash), slog.Any("error", err))
		return "", false
	}
	return q, true
}

// Add stores query under hash (gqlgen has checked that hash is the query's SHA-256).
func (c *RedisAPQCache) Add(ctx context.Context, hash, query string) {
	if !isSHA256Hex(hash) {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), apqTimeout)
	defer cancel()
	if !c.withinQuota(ctx) {
		return
	}
	if err := c.rdb.Set(ctx, c.prefix+hash, query, c.ttl).Err(); err != nil {
		c.log.WarnContext(ctx, "Could not store a persisted query", slog.String("hash", hash), slog.Any("error", err))
	}
}

// withinQuota counts one stored query against the hourly quota of ctx's API key and
// reports whether it may be stored. The local principal (authentication off) and a
// negative quota are not counted; a Redis error refuses (the query still runs).
func (c *RedisAPQCache) withinQuota(ctx context.Context) bool {
	p, ok := auth.FromContext(ctx)
	if c.quota < 0 || !ok || p.KeyID == "" {
		return true
	}
	key := fmt.Sprintf("%squota:%s:%d", c.prefix, p.KeyID, time.Now().Unix()/3600)
	pipe := c.rdb.TxPipeline()
	n := pipe.Incr(ctx, key)
	pipe.Expire(ctx, key, time.Hour)
	if _, err := pipe.Exec(ctx); err != nil {
		c.log.WarnContext(ctx, "Could not count a persisted query", slog.Any("error", err))
		return false
	}
	if n.Val() > int64(c.quota) {
		if n.Val() == int64(c.quota)+1 {
			c.log.WarnContext(ctx, "API key over its hourly quota of persisted queries; further ones run without being stored",
				slog.String("key_id", p.KeyID), slog.Int("quota", c.quota))
		}
		return false
	}
	return true
}

func isSHA256Hex(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
