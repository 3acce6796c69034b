package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"golang.org/x/sync/errgroup"

	"github.com/ocrinvoice/ocrinvoice/internal/apikeys"
	"github.com/ocrinvoice/ocrinvoice/internal/auth"
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
	if err := bootstrapAdminKey(ctx, d, srv.Addr().String(), stdout); err != nil {
		_ = srv.Close()
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

// bootstrapAdminKey gives a fresh `make run` a way in: when authentication is on and the
// database holds no active admin key, it creates one and prints it on stdout, this once
// (only its hash is stored). Later starts find the key and print nothing; a lost key is
// replaced with `ocrinvoice apikey create --role admin` (and the old one revoked).
func bootstrapAdminKey(ctx context.Context, d *deps, addr string, stdout io.Writer) error {
	if d.cfg.Auth != "apikey" || !d.cfg.BootstrapAdminKey {
		return nil
	}
	n, err := d.keys.CountActive(ctx, auth.RoleAdmin)
	if err != nil {
		return fmt.Errorf("look for an admin API key: %w", err)
	}
	if n > 0 {
		return nil
	}
	c, err := d.keys.Create(ctx, apikeys.CreateInput{Name: "bootstrap-admin", Role: auth.RoleAdmin})
	if err != nil {
		return fmt.Errorf("create the first admin API key: %w", err)
	}
	d.logger.Info("Created the first admin API key; it is printed once on standard output",
		slog.String("key_id", c.APIKey.ID))
	fmt.Fprintf(stdout, `
No admin API key existed, so one was created. It is shown only this once; keep it:

    %s

Send it as a bearer token, for example:

    curl -H 'Authorization: Bearer %s' http://%s/api/v1/ocr-invoice-jobs

In the playground (http://%s/playground) add the header {"Authorization": "Bearer %s"}.
Create keys for people and programs with: ocrinvoice apikey create --name NAME --role submitter

`, c.Key, c.Key, addr, addr, c.Key)
	return nil
}
