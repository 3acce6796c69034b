package main

import (
	"context"
	"io"

	"github.com/ocrinvoice/ocrinvoice/internal/app"
	"github.com/ocrinvoice/ocrinvoice/internal/config"
)

// runServe runs the HTTP API (GraphQL, REST, probes, metrics) until ctx is cancelled.
func runServe(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	return runApp(ctx, config.CmdServe, app.Parts{API: true}, args, getenv, stdout, stderr)
}
