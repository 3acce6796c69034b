package jobs_test

import (
	"context"

	"github.com/redis/go-redis/v9"
)

// discardRedisLog silences go-redis's own logging: tests with Redis down on purpose
// would otherwise print every failed dial.
type discardRedisLog struct{}

func (discardRedisLog) Printf(context.Context, string, ...any) {}

func init() { redis.SetLogger(discardRedisLog{}) }
