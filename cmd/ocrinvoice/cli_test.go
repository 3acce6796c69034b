package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// cliRun runs the program in this process with an empty environment but env.
func cliRun(t *testing.T, env map[string]string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var out, errb syncBuffer
	err = run(ctx, args, func(k string) string { return env[k] }, &out, &errb)
	return out.String(), errb.String(), err
}

// cliPaths are every command and action of the table, as typed ("apikey create").
func cliPaths() []string {
	var out []string
	var walk func(prefix string, cmds []*command)
	walk = func(prefix string, cmds []*command) {
		for _, c := range cmds {
			p := strings.TrimSpace(prefix + " " + c.name)
			out = append(out, p)
			walk(p, c.actions)
		}
	}
	walk("", commands())
	return out
}

// singleDashFlag is a help line naming a flag with one dash ("  -json"), the spelling of
// package flag's own usage; only "-h, --help" may have one.
var singleDashFlag = regexp.MustCompile(`(?m)^\s+-[a-zA-Z][\w-]*\b`)

// TestCLIHelpEverywhere: for every command and action, --help, -h and `help CMD` exit 0
// and print the same help once on stdout, with flags spelt --flag, and nothing on stderr.
func TestCLIHelpEverywhere(t *testing.T) {
	paths := cliPaths()
	for _, want := range []string{"extract", "eval", "version", "submit", "apikey create", "completion", "serve"} {
		if !strings.Contains("\n"+strings.Join(paths, "\n")+"\n", "\n"+want+"\n") {
			t.Fatalf("command table lacks %q: %v", want, paths)
		}
	}
	for _, path := range paths {
		t.Run(path, func(t *testing.T) {
			words := strings.Fields(path)
			var helps []string
			for _, args := range [][]string{
				append(append([]string(nil), words...), "--help"),
				append(append([]string(nil), words...), "-h"),
				append([]string{"help"}, words...),
			} {
				stdout, stderr, err := cliRun(t, nil, args...)
				if err != nil {
					t.Fatalf("%q: %v", args, err)
				}
				if stderr != "" {
					t.Errorf("%q wrote to stderr: %q", args, stderr)
				}
				if n := strings.Count(stdout, "Usage:"); n != 1 {
					t.Errorf("%q printed %d usages, want 1:\n%s", args, n, stdout)
				}
				if !strings.Contains(stdout, "ocrinvoice "+path) {
					t.Errorf("%q: the help does not name %q:\n%s", args, path, stdout)
				}
				if m := singleDashFlag.FindString(strings.ReplaceAll(stdout, "-h, --help", "")); m != "" {
					t.Errorf("%q shows a flag with one dash, %q:\n%s", args, strings.TrimSpace(m), stdout)
				}
				helps = append(helps, stdout)
			}
			if helps[0] != helps[1] || helps[0] != helps[2] {
				t.Errorf("--help, -h and help %s differ:\n%s\n---\n%s\n---\n%s", path, helps[0], helps[1], helps[2])
			}
		})
	}
	t.Run("program", func(t *testing.T) {
		for _, args := range [][]string{{"--help"}, {"-h"}, {"help"}, {"help", "--help"}} {
			stdout, stderr, err := cliRun(t, nil, args...)
			if err != nil || stderr != "" {
				t.Fatalf("%q: %v, stderr %q", args, err, stderr)
			}
			for _, p := range paths {
				if !strings.Contains(stdout, "  "+strings.Fields(p)[0]+" ") {
					t.Errorf("%q does not list %s:\n%s", args, p, stdout)
				}
			}
		}
	})
}

// TestCLIUsageErrors: an unknown command, action or flag, a bad flag value and wrong
// operands are usage errors: exit code 2, one line naming the command and where its help
// is, and no usage dumped on stderr.
func TestCLIUsageErrors(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		args []string
		want []string
	}{
		{[]string{"sumbit", "x.pdf"}, []string{`unknown command "sumbit"`, `did you mean "submit"`, "ocrinvoice --help"}},
		{[]string{"frobnicate"}, []string{`unknown command "frobnicate"`, "ocrinvoice --help"}},
		{[]string{"--verbose"}, []string{"unknown flag --verbose"}},
		{[]string{"help", "frobnicate"}, []string{`unknown command "frobnicate"`}},
		{[]string{"help", "apikey", "rotate"}, []string{`unknown action "rotate"`}},
		{[]string{"apikey"}, []string{"no action given", "create, list or revoke", "ocrinvoice apikey --help"}},
		{[]string{"apikey", "rotate"}, []string{`unknown action "rotate"`, "ocrinvoice apikey --help"}},
		{[]string{"apikey", "--json", "list"}, []string{"--json before the action"}},
		{[]string{"apikey", "create", "--name", "x", "--role", "root"}, []string{"apikey create:", `invalid value "root" for --role`, "ocrinvoice apikey create --help"}},
		{[]string{"apikey", "create", "--name", "x"}, []string{"--role"}},
		{[]string{"apikey", "revoke"}, []string{"want one key ID"}},
		{[]string{"extract", "--colour", "x.pdf"}, []string{"extract: unknown flag --colour", "ocrinvoice extract --help"}},
		{[]string{"extract"}, []string{"no files given"}},
		{[]string{"extract", "--read", "fast", "x.pdf"}, []string{`invalid value "fast" for --read: want auto, text or ocr`}},
		{[]string{"extract", "--dpi", "many", "x.pdf"}, []string{`invalid value "many" for --dpi`}},
		{[]string{"extract", "x.pdf", "--template"}, []string{"flag --template needs a value"}},
		{[]string{"extract", "--format", "pdf", "x.pdf"}, []string{`invalid value "pdf" for --format`}},
		{[]string{"eval"}, []string{"eval: --data is required"}},
		{[]string{"eval", "--data", dir, "--cross", "--without", "x"}, []string{"--cross judges every rule"}},
		{[]string{"eval", "--nope"}, []string{"eval: unknown flag --nope"}},
		{[]string{"version", "extra"}, []string{"version: takes no arguments"}},
		{[]string{"version", "--short"}, []string{"version: unknown flag --short"}},
		{[]string{"serve", "--nope"}, []string{"serve: unknown flag --nope", "ocrinvoice serve --help"}},
		{[]string{"worker", "extra"}, []string{`worker: unexpected argument "extra"`}},
		{[]string{"migrate", "--addr", "x:1"}, []string{"migrate: unknown flag --addr"}},
		{[]string{"backup"}, []string{"--to FILE is required"}},
		{[]string{"restore", "--from"}, []string{"flag --from needs a value"}},
		{[]string{"completion"}, []string{"want one shell: bash, zsh or fish"}},
		{[]string{"completion", "tcsh"}, []string{`unknown shell "tcsh"`}},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			stdout, stderr, err := cliRun(t, map[string]string{"OCRINVOICE_DATA_DIR": filepath.Join(dir, "data")}, c.args...)
			var ue usageError
			if !errors.As(err, &ue) || exitCode(err) != 2 {
				t.Fatalf("err %v (exit %d), want a usage error with exit code 2", err, exitCode(err))
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "\n") || stdout != "" || stderr != "" {
				t.Errorf("want one line of error and no other output; got error %q, stdout %q, stderr %q", err, stdout, stderr)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "data")); err == nil {
		t.Error("a usage error created the data directory")
	}
}

// TestCLIExitCodes runs the binary as a process (this test binary as the program, see
// TestMain): help exits 0 with the usage once on stdout, usage errors exit 2 with one
// line on stderr.
func TestCLIExitCodes(t *testing.T) {
	cases := []struct {
		args   []string
		code   int
		stdout string // in the output, once
		stderr string
	}{
		{[]string{"extract", "--help"}, 0, "Usage: ocrinvoice extract", ""},
		{[]string{"eval", "--help"}, 0, "Usage: ocrinvoice eval", ""},
		{[]string{"version", "--help"}, 0, "Usage: ocrinvoice version", ""},
		{[]string{"submit", "--help"}, 0, "Usage: ocrinvoice submit", ""},
		{[]string{"help", "submit"}, 0, "Usage: ocrinvoice submit", ""},
		{[]string{"--version"}, 0, "ocrinvoice dev", ""},
		{[]string{"completion", "bash"}, 0, "complete -F _ocrinvoice ocrinvoice", ""},
		{[]string{}, 2, "", "no command given"},
		{[]string{"nope"}, 2, "", `ocrinvoice: unknown command "nope" (see 'ocrinvoice --help')`},
		{[]string{"submit", "--nope", "x.pdf"}, 2, "", "ocrinvoice: submit: unknown flag --nope (see 'ocrinvoice submit --help')"},
		{[]string{"extract", "-colour", "x.pdf"}, 2, "", "ocrinvoice: extract: unknown flag --colour"},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			cmd := exec.Command(os.Args[0], c.args...)
			cmd.Env = append(os.Environ(), "OCRINVOICE_TEST_CHILD=1", "OMP_THREAD_LIMIT=1", "OCRINVOICE_DATA_DIR="+t.TempDir())
			var out, errb bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &errb
			err := cmd.Run()
			code := 0
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				code = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if code != c.code {
				t.Errorf("exit code %d, want %d\nstdout %s\nstderr %s", code, c.code, out.String(), errb.String())
			}
			if c.stdout != "" && strings.Count(out.String(), c.stdout) != 1 {
				t.Errorf("stdout has %q %d times, want once:\n%s", c.stdout, strings.Count(out.String(), c.stdout), out.String())
			}
			if c.stderr == "" && errb.Len() > 0 {
				t.Errorf("stderr %q, want nothing", errb.String())
			}
			if c.stderr != "" && !strings.Contains(errb.String(), c.stderr) {
				t.Errorf("stderr %q lacks %q", errb.String(), c.stderr)
			}
			if c.code == 2 && len(c.args) > 0 && strings.Contains(errb.String(), "Usage:") {
				t.Errorf("a usage error dumped the usage:\n%s", errb.String())
			}
		})
	}
}

// TestCommandsNeedExistingDatabase: the commands that work on the server's data (worker,
// apikey create/list/revoke, backup) refuse a SQLite database that does not exist: exit
// 1, an error naming the DATABASE_URL used and how to point at the server's, and no file
// or directory created. migrate creates it; then they work.
func TestCommandsNeedExistingDatabase(t *testing.T) {
	cases := [][]string{
		{"apikey", "create", "--name", "ops", "--role", "admin"},
		{"apikey", "list"},
		{"apikey", "revoke", "6b0f7216e8f2da33a8a96ee9"},
		{"backup", "--to", "ARCHIVE"},
		{"worker"},
	}
	for _, args := range cases {
		t.Run(strings.Join(args[:min(2, len(args))], " "), func(t *testing.T) {
			for _, how := range []string{"data dir", "DATABASE_URL", "--database-url"} {
				root := t.TempDir()
				dataDir := filepath.Join(root, "data")
				env := map[string]string{"OCRINVOICE_DATA_DIR": dataDir, "REDIS_URL": "redis://127.0.0.1:1/0"}
				a := append([]string(nil), args...)
				for i := range a {
					a[i] = strings.ReplaceAll(a[i], "ARCHIVE", filepath.Join(root, "backup.tar"))
				}
				dbFile := filepath.Join(dataDir, "ocrinvoice.db")
				wantURL := "sqlite:" + dbFile
				switch how {
				case "DATABASE_URL":
					dbFile = filepath.Join(root, "elsewhere", "jobs.db")
					wantURL = "sqlite:" + dbFile
					env["DATABASE_URL"] = wantURL
				case "--database-url":
					dbFile = filepath.Join(root, "flag.db")
					wantURL = "sqlite:" + dbFile
					a = append(a, "--database-url", wantURL)
				}
				_, _, err := cliRun(t, env, a...)
				if err == nil || exitCode(err) != 1 {
					t.Fatalf("%s: %v (exit %d), want a refusal with exit code 1", how, err, exitCode(err))
				}
				for _, want := range []string{"no database at " + dbFile, "DATABASE_URL " + wantURL, "OCRINVOICE_DATA_DIR", "--data-dir", "--database-url", "does not create one"} {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("%s: error %q lacks %q", how, err, want)
					}
				}
				entries, _ := os.ReadDir(root)
				if len(entries) > 0 {
					t.Errorf("%s: the refused command left %v in %s", how, entries, root)
				}
			}
		})
	}

	t.Run("an empty database file is no database", func(t *testing.T) {
		dataDir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dataDir, "ocrinvoice.db"), nil, 0o600); err != nil {
			t.Fatal(err)
		}
		_, _, err := cliRun(t, map[string]string{"OCRINVOICE_DATA_DIR": dataDir}, "apikey", "list")
		if err == nil || !strings.Contains(err.Error(), "is empty") {
			t.Fatalf("apikey list on an empty file: %v", err)
		}
	})

	t.Run("after migrate they work", func(t *testing.T) {
		dataDir := filepath.Join(t.TempDir(), "data")
		env := map[string]string{"OCRINVOICE_DATA_DIR": dataDir}
		if _, stderr, err := cliRun(t, env, "migrate"); err != nil {
			t.Fatalf("migrate: %v\n%s", err, stderr)
		}
		out, stderr, err := cliRun(t, env, "apikey", "create", "--name", "ops", "--role", "Admin")
		if err != nil || !keyRE.MatchString(out) {
			t.Fatalf("apikey create after migrate: %v %q\n%s", err, out, stderr)
		}
		if out, _, err := cliRun(t, env, "apikey", "list", "--json"); err != nil || !strings.Contains(out, `"role":"admin"`) {
			t.Fatalf("apikey list: %v %s", err, out)
		}
	})
}

// TestCLIFlagsAfterOperands: every command takes its flags before or after its operands,
// and "--" makes the rest operands.
func TestCLIFlagsAfterOperands(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "data")
	env := map[string]string{"OCRINVOICE_DATA_DIR": dataDir}
	if _, stderr, err := cliRun(t, env, "migrate"); err != nil {
		t.Fatalf("migrate: %v\n%s", err, stderr)
	}
	out, _, err := cliRun(t, env, "apikey", "create", "--name", "late", "--role", "viewer", "--json")
	if err != nil || !strings.HasPrefix(out, `{"apiKey":`) {
		t.Fatalf("create --json: %v %s", err, out)
	}
	id := regexp.MustCompile(`"id":"([0-9a-f]{24})"`).FindStringSubmatch(out)
	if id == nil {
		t.Fatalf("no id in %s", out)
	}
	if _, _, err := cliRun(t, env, "apikey", "revoke", id[1], "--data-dir", dataDir); err != nil {
		t.Fatalf("revoke ID --data-dir: %v", err)
	}
	_, _, err = cliRun(t, env, "apikey", "revoke", "--", "--all")
	if err == nil || !strings.Contains(err.Error(), "invalid id") || exitCode(err) != 1 {
		t.Fatalf("revoke -- --all: %v, want --all taken as the key id (an invalid one)", err)
	}
}
