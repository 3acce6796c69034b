// Command ocrinvoice turns invoice documents into structured, validated data.
//
// main only wires: it makes a signal context and calls run, which dispatches to the
// subcommand. Each subcommand lives in its own file and parses its own flag.FlagSet.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"syscall"
)

func main() {
	ensureOMPThreadLimit()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) && !errors.Is(err, errSilent) {
			fmt.Fprintln(os.Stderr, "ocrinvoice:", err)
		}
		var ec exitCoder
		if errors.As(err, &ec) {
			os.Exit(ec.ExitCode())
		}
		os.Exit(1)
	}
}

// ensureOMPThreadLimit re-executes the binary with OMP_THREAD_LIMIT=1 when it is unset.
// Tesseract's OpenMP runtime reads the variable once, when the library loads, so setting
// it from Go later does nothing; one thread per page and parallelism across pages is
// about 4x faster on small machines than Tesseract's own threads.
func ensureOMPThreadLimit() {
	if os.Getenv("OMP_THREAD_LIMIT") != "" {
		return
	}
	exe, err := os.Executable()
	if err != nil {
		return
	}
	env := append(os.Environ(), "OMP_THREAD_LIMIT=1")
	// On success Exec does not return; on failure we simply go on without the limit.
	_ = syscall.Exec(exe, os.Args, env)
}

// errSilent is returned by a subcommand that has already told the user what went wrong.
var errSilent = errors.New("failed")

// exitCoder is an error that asks for a specific exit code.
type exitCoder interface{ ExitCode() int }

// command is one subcommand.
type command struct {
	summary string
	run     func(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error
}

// commands lists every subcommand. Keep it the single list: --help prints it.
func commands() map[string]command {
	return map[string]command{
		"serve":   {"run the GraphQL and REST API", runServe},
		"worker":  {"run queue workers (and the batch runner)", runWorker},
		"all":     {"run the API and a worker in one process", runAll},
		"migrate": {"create or upgrade the database schema", runMigrate},
		"apikey":  {"create, list and revoke API keys", runAPIKey},
		"backup":  {"archive the SQLite database and the uploads (also while running)", runBackup},
		"restore": {"restore a backup archive into an empty data directory", runRestore},
		"extract": {"read invoice files and print the extracted data", runExtract},
		"eval":    {"score extraction against a folder with truth.jsonl", runEval},
		"submit":  {"submit a document to a running API and optionally follow the job", runSubmit},
		"version": {"print the version (also --version)", runVersion},
	}
}

// run is the whole program; tests call it with their own arguments and environment.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cmds := commands()
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stdout, cmds)
		if len(args) == 0 {
			return errors.New("no command given")
		}
		return nil
	}
	if args[0] == "--version" {
		args = append([]string{"version"}, args[1:]...)
	}
	c, ok := cmds[args[0]]
	if !ok {
		usage(stderr, cmds)
		return fmt.Errorf("unknown command %q", args[0])
	}
	return c.run(ctx, args[1:], getenv, stdout, stderr)
}

func usage(w io.Writer, cmds map[string]command) {
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	fmt.Fprintln(w, "Usage: ocrinvoice COMMAND [flags]")
	fmt.Fprintln(w, "\nCommands:")
	for _, n := range names {
		fmt.Fprintf(w, "  %-8s %s\n", n, cmds[n].summary)
	}
	fmt.Fprintln(w, "\nRun 'ocrinvoice COMMAND --help' for the flags and environment variables of a command.")
}
