package main

import (
	"context"
	"fmt"
	"io"
)

// version is the ocrinvoice version. Builds set it with
// -ldflags "-X main.version=1.2.3" (the Dockerfile's VERSION build argument); a plain
// `go build` says "dev".
var version = "dev"

// runVersion prints "ocrinvoice VERSION" and takes no arguments.
func runVersion(_ context.Context, args []string, _ func(string) string, stdout, _ io.Writer) error {
	if len(args) > 0 {
		return fmt.Errorf("version takes no arguments, got %q", args)
	}
	_, err := fmt.Fprintln(stdout, "ocrinvoice", version)
	return err
}
