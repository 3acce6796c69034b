package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/ocrinvoice/ocrinvoice/ent"
	"github.com/ocrinvoice/ocrinvoice/internal/app"
	"github.com/ocrinvoice/ocrinvoice/internal/config"
)

// servingCommand is serve, worker or all: the process that runs parts until it is
// stopped. Its flags are the settings of internal/config that the command reads; its
// help lists them with their environment variables and defaults.
func servingCommand(name, summary string, parts app.Parts) *command {
	return &command{
		name: name, summary: summary,
		help: func(w io.Writer) { config.Usage(w, name, summary) },
		setup: func(fs *flag.FlagSet, e *cmdEnv) runFunc {
			given := configFlags(fs, name)
			return func(ctx context.Context, args []string) error {
				if len(args) > 0 {
					return usageErrorf(name, "unexpected argument %q", args[0])
				}
				return runApp(ctx, name, parts, *given, e)
			}
		},
	}
}

// configFlags defines on fs a flag for every setting of internal/config that cmd reads,
// and returns the flags given, as "--name=value" arguments for config.LoadCommand,
// which validates the values.
func configFlags(fs *flag.FlagSet, cmd string) *[]string {
	given := &[]string{}
	for _, s := range config.Settings() {
		if s.Applies(cmd) && s.Flag != "" {
			fs.Var(&configFlag{name: s.Flag, isBool: s.Bool, given: given}, s.Flag, s.Usage)
		}
	}
	return given
}

// configFlag records a setting's flag for config.LoadCommand.
type configFlag struct {
	name   string
	isBool bool
	given  *[]string
	value  string
}

func (f *configFlag) String() string {
	if f == nil {
		return ""
	}
	return f.value
}

func (f *configFlag) Set(v string) error {
	f.value = v
	*f.given = append(*f.given, "--"+f.name+"="+v)
	return nil
}

func (f *configFlag) IsBoolFlag() bool { return f.isBool }

// loadConfig reads the configuration of cmd from its flags (as "--name=value") and
// getenv.
func loadConfig(cmd string, args []string, getenv func(string) string) (config.Config, error) {
	cfg, err := config.LoadCommand(cmd, args, getenv)
	if err != nil {
		return cfg, fmt.Errorf("%s: %w", cmd, err)
	}
	return cfg, nil
}

// runApp runs the process of a serving command (serve, worker, all): it loads the
// command's configuration, builds the parts with app.New (opening the dependencies and
// binding the listener), runs them until ctx is cancelled, then releases everything.
// A worker alone never creates the SQLite database: it would take the queue's tasks
// from an empty one.
func runApp(ctx context.Context, cmd string, parts app.Parts, args []string, e *cmdEnv) error {
	cfg, err := loadConfig(cmd, args, e.getenv)
	if err != nil {
		return err
	}
	if !parts.API {
		dbFlag := slices.ContainsFunc(args, func(a string) bool { return strings.HasPrefix(a, "--database-url=") })
		if err := requireDatabase(cmd, cfg, e.getenv, dbFlag); err != nil {
			return err
		}
	}
	a, err := app.New(ctx, cfg, app.Options{
		Parts: parts, Logger: cfg.Logger(e.stderr), Stdout: e.stdout, OnListen: listenHook(ctx),
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

// requireDatabase refuses to go on when cfg names a SQLite database that does not exist
// (or is empty): the commands that only make sense against the server's data (worker,
// apikey, backup) would otherwise create a new, empty one, say when run from another
// working directory, and work on that. The error names the DATABASE_URL used, where it
// came from and how to point the command at the server's database. flagGiven tells
// whether --database-url set it. A PostgreSQL database is used as it is.
func requireDatabase(path string, cfg config.Config, getenv func(string) string, flagGiven bool) error {
	file, ok := cfg.SQLitePath()
	if !ok {
		return nil
	}
	info, err := os.Stat(file)
	switch {
	case err == nil && info.Mode().IsRegular() && info.Size() > 0:
		return nil
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("%s: database %s: %w", path, file, err)
	}
	abs, aerr := filepath.Abs(file)
	if aerr != nil {
		abs = file
	}
	what := "no database at " + abs
	if err == nil {
		what = "the database at " + abs + " is empty"
	}
	from := fmt.Sprintf("the default in the data directory %q", cfg.DataDir)
	switch {
	case flagGiven:
		from = "from --database-url"
	case getenv("DATABASE_URL") != "":
		from = "from the environment"
	case getenv("DATABASE_URL_FILE") != "":
		from = "from DATABASE_URL_FILE"
	}
	return fmt.Errorf("%s: %s (DATABASE_URL %s, %s). %s works on the server's database and does not create one: "+
		"run it where the server runs, or point it at the server's database with OCRINVOICE_DATA_DIR or --data-dir "+
		"(the server's data directory), or with DATABASE_URL or --database-url; 'ocrinvoice migrate' creates a new database",
		path, what, cfg.DatabaseURL, from, path)
}
