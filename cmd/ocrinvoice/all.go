package main

import (
	"context"
	"errors"
	"io"

	"golang.org/x/sync/errgroup"

	"github.com/ocrinvoice/ocrinvoice/internal/config"
)

// runAll runs the API and a worker in one process over one database and one Redis (a
// private redis-server when REDIS_URL is unset): what `make run` starts.
//
// Order: open dependencies; bind the HTTP address (a bind error stops everything before
// any task is taken); start the worker; serve. On cancellation the HTTP server ends its
// live streams and drains while the worker finishes or hands back its tasks,
// concurrently; then the live Watcher, the progress Hub, the queue client, the database
// and Redis close, in that order.
func runAll(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := loadConfig(config.CmdAll, args, getenv, stdout)
	if err != nil {
		if errors.Is(err, errHelpShown) {
			return nil
		}
		return err
	}
	logger := cfg.Logger(stderr)
	d, err := openDeps(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer d.close()
	srv, err := listenAPI(ctx, d)
	if err != nil {
		return err
	}
	// One part failing stops the other.
	g, gctx := errgroup.WithContext(ctx)
	w, err := startWorker(gctx, d, srv.Registry())
	if err != nil {
		_ = srv.Close()
		return err
	}
	g.Go(func() error { return srv.Serve(gctx) })
	g.Go(func() error {
		<-gctx.Done()
		return w.stop()
	})
	return g.Wait()
}
