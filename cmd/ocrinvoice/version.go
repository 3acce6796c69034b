package main

import (
	"context"
	"flag"
	"fmt"
)

// version is the ocrinvoice version. Builds set it with
// -ldflags "-X main.version=1.2.3" (the Dockerfile's VERSION build argument); a plain
// `go build` says "dev".
var version = "dev"

// versionCommand prints "ocrinvoice VERSION" and takes no arguments.
func versionCommand() *command {
	return &command{
		name: "version", summary: "print the version (also --version)",
		usage: "Usage: ocrinvoice version\n\nPrints \"ocrinvoice VERSION\" on standard output; 'ocrinvoice --version' does the same.\n",
		setup: func(_ *flag.FlagSet, e *cmdEnv) runFunc {
			return func(_ context.Context, args []string) error {
				if len(args) > 0 {
					return usageErrorf("version", "takes no arguments, got %q", args)
				}
				_, err := fmt.Fprintln(e.stdout, "ocrinvoice", version)
				return err
			}
		},
	}
}
