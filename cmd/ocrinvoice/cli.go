package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
)

// command is one subcommand, or one action of a subcommand (apikey create). The table
// of commands() is the one list that dispatch, help, usage errors and the shell
// completion scripts read, so they cannot disagree.
type command struct {
	name    string
	summary string // one line, for the list of commands
	// usage is the help printed before the flag list: "Usage:" lines, then what the
	// command does.
	usage string
	// setup registers the command's flags on fs and returns what runs the command once
	// fs is parsed, with the arguments left (operands). Nil for a command with actions.
	setup func(fs *flag.FlagSet, e *cmdEnv) runFunc
	// help, when set, writes the whole help instead of usage and the flag list: the
	// serving commands document each flag with its environment variable.
	help func(w io.Writer)
	// actions are the command's own subcommands (apikey create, list, revoke).
	actions []*command
	// files: the command takes files as operands (completion offers file names).
	files bool
}

// runFunc runs a command with its parsed flags and its operands.
type runFunc func(ctx context.Context, args []string) error

// cmdEnv is what a command runs with: its environment and its output streams.
type cmdEnv struct {
	getenv         func(string) string
	stdout, stderr io.Writer
}

// usageError is a command line the program does not understand: an unknown command,
// action or flag, a bad flag value, missing or extra operands. It exits with status 2
// and a hint where to read the usage, never with the usage itself.
type usageError struct {
	path string // "submit", "apikey create"; "" for the program itself
	msg  string
}

func (e usageError) Error() string {
	if e.path == "" {
		return e.msg + " (see 'ocrinvoice --help')"
	}
	return fmt.Sprintf("%s: %s (see 'ocrinvoice %s --help')", e.path, e.msg, e.path)
}

// ExitCode is 2, the status of a usage error.
func (e usageError) ExitCode() int { return exitUsage }

// exitUsage is the exit status of a usage error, as in Go's flag.ExitOnError.
const exitUsage = 2

// usageErrorf is a usageError of the command at path.
func usageErrorf(path, format string, args ...any) error {
	return usageError{path: path, msg: fmt.Sprintf(format, args...)}
}

// lookup returns the command or action called name in cmds.
func lookup(cmds []*command, name string) *command {
	for _, c := range cmds {
		if c.name == name {
			return c
		}
	}
	return nil
}

// isHelp tells whether arg asks for help.
func isHelp(arg string) bool {
	return arg == "-h" || arg == "--help" || arg == "-help"
}

// dispatch finds the command (and action) args name and runs it with the rest. path
// is what the caller has resolved so far ("" at the top).
func dispatch(ctx context.Context, cmds []*command, path string, args []string, e *cmdEnv) error {
	c := lookup(cmds, args[0])
	if c == nil {
		return unknownCommand(cmds, path, args[0])
	}
	path = strings.TrimSpace(path + " " + c.name)
	args = args[1:]
	if len(c.actions) == 0 {
		return execute(ctx, c, path, args, e)
	}
	if len(args) == 0 {
		return usageErrorf(path, "no action given (want %s)", orList(names(c.actions)))
	}
	if isHelp(args[0]) {
		return writeHelp(e.stdout, c, path)
	}
	if strings.HasPrefix(args[0], "-") {
		return usageErrorf(path, "%s before the action (want %s)", flagWord(args[0]), orList(names(c.actions)))
	}
	return dispatch(ctx, c.actions, path, args, e)
}

// unknownCommand is the usage error of a command or action name that is not in cmds,
// with the nearest name when one is close.
func unknownCommand(cmds []*command, path, name string) error {
	what := "command"
	if path != "" {
		what = "action"
	}
	msg := fmt.Sprintf("unknown %s %q", what, name)
	if strings.HasPrefix(name, "-") {
		msg = "unknown flag " + flagWord(name)
	} else if near := nearest(names(cmds), name); near != "" {
		msg += fmt.Sprintf("; did you mean %q?", near)
	}
	return usageError{path: path, msg: msg}
}

// execute parses c's flags from args and runs c. Flags may come before, between or
// after the operands; "--" ends the flags. -h, -help and --help print c's help on
// stdout and run nothing.
func execute(ctx context.Context, c *command, path string, args []string, e *cmdEnv) error {
	fs := newFlagSet(path)
	run := c.setup(fs, e)
	operands, err := parseInterleaved(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return writeHelp(e.stdout, c, path)
	}
	if err != nil {
		return usageError{path: path, msg: flagErrorText(err)}
	}
	return run(ctx, operands)
}

// newFlagSet is an empty flag set that prints nothing: help and errors are ours.
func newFlagSet(path string) *flag.FlagSet {
	fs := flag.NewFlagSet(path, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return fs
}

// parseInterleaved parses args with fs, letting flags follow operands, and returns the
// operands. Everything after "--" is an operand.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var operands []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return operands, nil
		}
		if used := len(args) - len(rest); used > 0 && args[used-1] == "--" {
			return append(operands, rest...), nil
		}
		operands = append(operands, rest[0])
		args = rest[1:]
	}
}

// flagErrorText rewrites an error of package flag in the --flag spelling the help uses.
func flagErrorText(err error) string {
	s := err.Error()
	if name, ok := strings.CutPrefix(s, "flag provided but not defined: -"); ok {
		return "unknown flag --" + name
	}
	if name, ok := strings.CutPrefix(s, "flag needs an argument: -"); ok {
		return "flag --" + name + " needs a value"
	}
	for _, sep := range []string{" for flag -", " for -"} {
		if i := strings.LastIndex(s, sep); i >= 0 {
			return s[:i] + " for --" + s[i+len(sep):]
		}
	}
	return s
}

// flagWord is arg, a flag as typed, in the --flag spelling and without its value.
func flagWord(arg string) string {
	name, _, _ := strings.Cut(strings.TrimLeft(arg, "-"), "=")
	return "--" + name
}

// writeHelp prints the help of c: its usage text, its actions or its flags.
func writeHelp(w io.Writer, c *command, path string) error {
	if c.help != nil {
		c.help(w)
		return nil
	}
	fmt.Fprint(w, c.usage)
	if len(c.actions) > 0 {
		fmt.Fprintln(w, "\nActions:")
		for _, a := range c.actions {
			fmt.Fprintf(w, "  %-8s %s\n", a.name, a.summary)
		}
		fmt.Fprintf(w, "\nRun 'ocrinvoice %s ACTION --help' for the flags of an action.\n", path)
		return nil
	}
	fs := newFlagSet(path)
	c.setup(fs, &cmdEnv{getenv: func(string) string { return "" }, stdout: io.Discard, stderr: io.Discard})
	writeFlags(w, fs)
	return nil
}

// writeFlags lists the flags of fs in their --flag spelling with their defaults, and
// -h, --help.
func writeFlags(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprintln(w, "\nFlags:")
	fs.VisitAll(func(f *flag.Flag) {
		arg, text := flag.UnquoteUsage(f)
		if c, ok := f.Value.(choices); ok {
			arg = strings.Join(c.Choices(), "|")
		}
		line := "  --" + f.Name
		if arg != "" {
			line += " " + arg
		}
		fmt.Fprintln(w, line)
		if d := f.DefValue; d != "" && d != "0" && d != "false" && d != "0s" {
			text += " (default " + d + ")"
		}
		fmt.Fprintf(w, "        %s\n", text)
	})
	fmt.Fprintln(w, "  -h, --help\n        show this help")
}

// choices is a flag.Value that takes one of a fixed set of values; completion offers them.
type choices interface{ Choices() []string }

// choiceValue is a string flag that must be one of its choices ("" when allowEmpty).
type choiceValue struct {
	p          *string
	choices    []string
	allowEmpty bool
}

// choiceVar defines a string flag on fs that takes one of values, with default def.
func choiceVar(fs *flag.FlagSet, p *string, name, def string, values []string, usage string) {
	*p = def
	fs.Var(&choiceValue{p: p, choices: values, allowEmpty: def == ""}, name, usage)
}

func (v *choiceValue) String() string {
	if v == nil || v.p == nil {
		return ""
	}
	return *v.p
}

// Set takes one of the choices, in any case, as the choice is spelt.
func (v *choiceValue) Set(s string) error {
	if v.allowEmpty && s == "" {
		*v.p = s
		return nil
	}
	i := slices.IndexFunc(v.choices, func(c string) bool { return strings.EqualFold(c, s) })
	if i < 0 {
		return fmt.Errorf("want %s", orList(v.choices))
	}
	*v.p = v.choices[i]
	return nil
}

func (v *choiceValue) Choices() []string { return v.choices }

// names are the names of cmds, in order.
func names(cmds []*command) []string {
	out := make([]string, len(cmds))
	for i, c := range cmds {
		out[i] = c.name
	}
	return out
}

// orList is "a, b or c".
func orList(words []string) string {
	if len(words) <= 1 {
		return strings.Join(words, "")
	}
	return strings.Join(words[:len(words)-1], ", ") + " or " + words[len(words)-1]
}

// nearest is the name within edit distance 2 of s (or with s as its prefix), "" when
// there is none or several.
func nearest(names []string, s string) string {
	found := ""
	for _, n := range names {
		if (len(s) >= 2 && strings.HasPrefix(n, s)) || editDistance(n, s) <= 2 {
			if found != "" {
				return ""
			}
			found = n
		}
	}
	return found
}

// editDistance is the Levenshtein distance of a and b (bytes; command names are ASCII).
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
