package main

import (
	"context"
	"io"

	"github.com/ocrinvoice/ocrinvoice/internal/app"
	"github.com/ocrinvoice/ocrinvoice/internal/config"
)

// runWorker processes queued tasks (and runs the batch runner) until ctx is cancelled,
// serving its probes on --health-addr when set. With REDIS_URL unset it starts a
// private redis-server that no other process sees: useful only for trying the worker
// alone; use `all` or set REDIS_URL.
func runWorker(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	return runApp(ctx, config.CmdWorker, app.Parts{Worker: true}, args, getenv, stdout, stderr)
}
