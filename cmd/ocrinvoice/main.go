// Command ocrinvoice turns invoice documents into structured, validated data.
//
// main only wires: it makes a signal context and calls run, which dispatches to the
// subcommand. Each subcommand lives in its own file and declares its flags on a
// flag.FlagSet that cli.go parses, the same way for every command.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/ocrinvoice/ocrinvoice/internal/app"
	"github.com/ocrinvoice/ocrinvoice/internal/config"
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

// commands is the table of every subcommand, in the order the help lists them.
func commands() []*command {
	return []*command{
		servingCommand(config.CmdServe, "run the GraphQL and REST API", app.Parts{API: true}),
		servingCommand(config.CmdWorker, "run queue workers (and the batch runner) against an existing database", app.Parts{Worker: true}),
		servingCommand(config.CmdAll, "run the API and a worker in one process", app.Parts{API: true, Worker: true, BootstrapAdminKey: true}),
		migrateCommand(),
		apikeyCommand(),
		backupCommand(),
		restoreCommand(),
		extractCommand(),
		evalCommand(),
		submitCommand(),
		completionCommand(),
		versionCommand(),
	}
}

// run is the whole program; tests call it with their own arguments and environment.
// A usage error (unknown command or flag, wrong operands) is a usageError: exit
// status 2 and a hint, not the usage.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	e := &cmdEnv{getenv: getenv, stdout: stdout, stderr: stderr}
	cmds := commands()
	if len(args) == 0 {
		writeCommands(stderr, cmds)
		return usageError{msg: "no command given"}
	}
	switch {
	case isHelp(args[0]):
		writeCommands(stdout, cmds)
		return nil
	case args[0] == "help":
		return runHelp(cmds, args[1:], stdout)
	case args[0] == "--version" || args[0] == "-version":
		args = append([]string{"version"}, args[1:]...)
	}
	return dispatch(ctx, cmds, "", args, e)
}

// runHelp is `ocrinvoice help [COMMAND [ACTION]]`: the help of the command named, or
// the list of commands.
func runHelp(cmds []*command, args []string, stdout io.Writer) error {
	if len(args) == 0 || isHelp(args[0]) {
		writeCommands(stdout, cmds)
		return nil
	}
	path := ""
	for i, name := range args {
		c := lookup(cmds, name)
		if c == nil {
			return unknownCommand(cmds, path, name)
		}
		path = strings.TrimSpace(path + " " + name)
		if len(c.actions) == 0 || i == len(args)-1 {
			if i < len(args)-1 {
				return usageErrorf("help", "%s has no action %q", path, args[i+1])
			}
			return writeHelp(stdout, c, path)
		}
		cmds = c.actions
	}
	return nil
}

// writeCommands prints the program's usage: the commands and their summaries.
func writeCommands(w io.Writer, cmds []*command) {
	fmt.Fprintln(w, "Usage: ocrinvoice COMMAND [flags]")
	fmt.Fprintln(w, "\nCommands:")
	for _, c := range cmds {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'ocrinvoice help COMMAND' or 'ocrinvoice COMMAND --help' for the flags and environment")
	fmt.Fprintln(w, "variables of a command; --version prints the version.")
}
