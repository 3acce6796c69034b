package main

import (
	"context"
	"errors"
	"io"
)

// TODO(owner of this file): replace this placeholder with the real subcommand.
func runExtract(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	return errors.New("extract: not implemented yet")
}
