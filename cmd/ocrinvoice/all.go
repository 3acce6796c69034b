package main

import (
	"context"
	"io"

	"github.com/ocrinvoice/ocrinvoice/internal/app"
	"github.com/ocrinvoice/ocrinvoice/internal/config"
)

// runAll runs the API and a worker in one process over one database and one Redis (a
// private redis-server when REDIS_URL is unset): what `make run` starts. On a fresh
// database with authentication on it creates the first admin key and prints it once.
func runAll(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	parts := app.Parts{API: true, Worker: true, BootstrapAdminKey: true}
	return runApp(ctx, config.CmdAll, parts, args, getenv, stdout, stderr)
}
