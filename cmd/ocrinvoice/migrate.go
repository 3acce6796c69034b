package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/ocrinvoice/ocrinvoice/internal/config"
)

// runMigrate creates or upgrades the database schema and exits. It touches no data (the
// built-in templates are created by serve and all) and needs no Redis, so it can run as a
// deployment step before any server starts.
func runMigrate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := loadConfig(config.CmdMigrate, args, getenv, stdout)
	if err != nil {
		if errors.Is(err, errHelpShown) {
			return nil
		}
		return err
	}
	logger := cfg.Logger(stderr)
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
