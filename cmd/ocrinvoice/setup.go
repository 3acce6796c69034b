package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"

	"github.com/ocrinvoice/ocrinvoice/ent"
	"github.com/ocrinvoice/ocrinvoice/internal/app"
	"github.com/ocrinvoice/ocrinvoice/internal/config"
)

// errHelpShown is returned by loadConfig after it printed a command's help.
var errHelpShown = errors.New("help shown")

// loadConfig reads the configuration of cmd from args and getenv. On -h/--help it prints
// the command's flags and environment variables to stdout and returns errHelpShown.
func loadConfig(cmd string, args []string, getenv func(string) string, stdout io.Writer) (config.Config, error) {
	cfg, err := config.LoadCommand(cmd, args, getenv)
	if errors.Is(err, flag.ErrHelp) {
		config.Usage(stdout, cmd, commands()[cmd].summary)
		return cfg, errHelpShown
	}
	if err != nil {
		return cfg, fmt.Errorf("%s: %w", cmd, err)
	}
	return cfg, nil
}

// runApp runs the process of a serving command (serve, worker, all): it loads the
// command's configuration, builds the parts with app.New (opening the dependencies and
// binding the listener), runs them until ctx is cancelled, then releases everything.
func runApp(ctx context.Context, cmd string, parts app.Parts, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := loadConfig(cmd, args, getenv, stdout)
	if err != nil {
		if errors.Is(err, errHelpShown) {
			return nil
		}
		return err
	}
	a, err := app.New(ctx, cfg, app.Options{
		Parts: parts, Logger: cfg.Logger(stderr), Stdout: stdout, OnListen: listenHook(ctx),
	})
	if err != nil {
		return err
	}
	defer func() { _ = a.Close() }() // failures are logged
	return a.Run(ctx)
}

// openDatabase opens the configured database and migrates its schema.
func openDatabase(ctx context.Context, cfg config.Config, logger *slog.Logger) (*ent.Client, error) {
	return app.OpenDatabase(ctx, cfg, logger)
}

// listenHookKey carries a callback told the bound HTTP address; tests use it to find a
// server started on port 0.
type listenHookKey struct{}

// withListenHook returns a context whose serve/all commands call fn with the bound address.
func withListenHook(ctx context.Context, fn func(addr string)) context.Context {
	return context.WithValue(ctx, listenHookKey{}, fn)
}

func listenHook(ctx context.Context) func(string) {
	if fn, ok := ctx.Value(listenHookKey{}).(func(string)); ok {
		return fn
	}
	return func(string) {}
}
