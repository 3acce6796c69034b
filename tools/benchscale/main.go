// Command benchscale is the scale benchmark of `make bench-scale`: it seeds a number of
// jobs into a fresh SQLite file and a fresh PostgreSQL database (the bulk loader of
// seed.go), starts the real `ocrinvoice serve` binary against each, and runs a bounded
// load (vegeta as a library) over the list, filter, search, get, create and GraphQL list
// requests at several concurrencies, printing each as a ratio to /healthz measured in the
// same run, and serve's resident memory through the run.
//
//	go run ./tools/benchscale -bin bin/ocrinvoice -rows 1000000 -pg postgres://root@127.0.0.1:5432/test?sslmode=disable
//	go run ./tools/benchscale seed -database-url sqlite:/tmp/jobs.db -rows 1000000
//
// The PostgreSQL URL names a server and a database to connect to; the benchmark creates
// its own database there (benchscale_<random>) and drops it at the end. It runs its own
// redis-server on a free port (created jobs are queued there and thrown away with it).
// Nothing of it runs in `make test`.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "benchscale:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "seed" {
		fs := flag.NewFlagSet("seed", flag.ContinueOnError)
		fs.SetOutput(stderr)
		dbURL := fs.String("database-url", "", "database to seed (sqlite:PATH or postgres://...); migrated first, must hold no jobs")
		rows := fs.Int("rows", 1_000_000, "jobs to write")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		if *dbURL == "" || *rows < 1 {
			return errors.New("seed needs -database-url and -rows of 1 or more")
		}
		return Seed(ctx, *dbURL, *rows, stdout)
	}
	fs := flag.NewFlagSet("benchscale", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	fs.StringVar(&o.bin, "bin", "bin/ocrinvoice", "the ocrinvoice binary to serve with")
	fs.IntVar(&o.rows, "rows", 1_000_000, "jobs to seed into each database")
	fs.StringVar(&o.pg, "pg", os.Getenv("TEST_DATABASE_URL"), "PostgreSQL server to create the benchmark's database on; empty: PostgreSQL is skipped")
	fs.BoolVar(&o.sqlite, "sqlite", true, "benchmark SQLite")
	fs.DurationVar(&o.duration, "duration", 3*time.Second, "load duration of each request kind at each concurrency")
	conc := fs.String("c", "1,8,64", "comma-separated concurrencies (workers sending back to back)")
	fs.StringVar(&o.dir, "dir", "", "directory for the SQLite file and serve's data; empty: a temporary one, removed at the end")
	if err := fs.Parse(args); err != nil {
		return err
	}
	for _, f := range strings.Split(*conc, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 || n > 1024 {
			return fmt.Errorf("-c: %q is not a concurrency from 1 to 1024", f)
		}
		o.conc = append(o.conc, n)
	}
	if o.rows < 1 || o.duration <= 0 {
		return errors.New("-rows and -duration must be positive")
	}
	if _, err := os.Stat(o.bin); err != nil {
		return fmt.Errorf("-bin: %w (make build)", err)
	}
	return bench(ctx, o, stdout, stderr)
}

type options struct {
	bin      string
	rows     int
	pg       string
	sqlite   bool
	duration time.Duration
	conc     []int
	dir      string
}

// redact hides the password of a database URL.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "sqlite" {
		return raw
	}
	return u.Redacted()
}
