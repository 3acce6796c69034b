package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"

	"github.com/ocrinvoice/ocrinvoice/internal/config"
)

// migrateCommand creates or upgrades the database schema and exits. It touches no data
// (the built-in templates are created by serve and all) and needs no Redis, so it can
// run as a deployment step before any server starts. With serve and all, it is one of
// the commands that create a database that does not exist.
func migrateCommand() *command {
	const summary = "create or upgrade the database schema"
	return &command{
		name: config.CmdMigrate, summary: summary,
		help: func(w io.Writer) { config.Usage(w, config.CmdMigrate, summary) },
		setup: func(fs *flag.FlagSet, e *cmdEnv) runFunc {
			given := configFlags(fs, config.CmdMigrate)
			return func(ctx context.Context, args []string) error {
				if len(args) > 0 {
					return usageErrorf(config.CmdMigrate, "unexpected argument %q", args[0])
				}
				return runMigrate(ctx, *given, e)
			}
		},
	}
}

// runMigrate opens (creating or upgrading) the configured database and closes it.
func runMigrate(ctx context.Context, args []string, e *cmdEnv) error {
	cfg, err := loadConfig(config.CmdMigrate, args, e.getenv)
	if err != nil {
		return err
	}
	logger := cfg.Logger(e.stderr)
	db, err := openDatabase(ctx, cfg, logger)
	if err != nil {
		return err
	}
	if err := db.Close(); err != nil {
		return fmt.Errorf("close database: %w", err)
	}
	logger.Info("Schema migrated", slog.String("command", "migrate"))
	return nil
}
