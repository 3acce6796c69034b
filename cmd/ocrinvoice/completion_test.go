package main

import (
	"flag"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// completionScript returns `ocrinvoice completion SHELL` written to a file.
func completionScript(t *testing.T, shell string) (string, string) {
	t.Helper()
	stdout, stderr, err := cliRun(t, nil, "completion", shell)
	if err != nil || stderr != "" {
		t.Fatalf("completion %s: %v %s", shell, err, stderr)
	}
	file := filepath.Join(t.TempDir(), "ocrinvoice."+shell)
	if err := os.WriteFile(file, []byte(stdout), 0o600); err != nil {
		t.Fatal(err)
	}
	return stdout, file
}

// TestCompletionScripts: each script names every command, action and flag of the
// command table and passes its shell's syntax check (bash always; zsh and fish when
// installed).
func TestCompletionScripts(t *testing.T) {
	var want []string
	var walk func(cmds []*command)
	walk = func(cmds []*command) {
		for _, c := range cmds {
			want = append(want, c.name)
			if c.setup != nil {
				fs := newFlagSet(c.name)
				c.setup(fs, &cmdEnv{getenv: func(string) string { return "" }, stdout: io.Discard, stderr: io.Discard})
				fs.VisitAll(func(f *flag.Flag) { want = append(want, "--"+f.Name) })
			}
			walk(c.actions)
		}
	}
	walk(commands())
	for _, w := range []string{"--concurrency", "--addr", "--role", "--to", "--read", "--wait", "--cross", "create", "revoke"} {
		if !containsWord(want, w) {
			t.Fatalf("the command table lacks %s; the test does not walk it", w)
		}
	}
	for _, shell := range completionShells {
		t.Run(shell, func(t *testing.T) {
			script, file := completionScript(t, shell)
			for _, w := range want {
				if !strings.Contains(script, "'"+w+"'") && !strings.Contains(script, "'"+w+":") && !strings.Contains(script, "'"+w+"\t") {
					t.Errorf("the %s script does not name %s", shell, w)
				}
			}
			bin, err := exec.LookPath(shell)
			if err != nil {
				t.Skipf("%s is not installed: syntax not checked", shell)
			}
			if out, err := exec.Command(bin, "-n", file).CombinedOutput(); err != nil {
				t.Fatalf("%s -n: %v\n%s", shell, err, out)
			}
		})
	}
}

func containsWord(words []string, w string) bool {
	for _, x := range words {
		if x == w {
			return true
		}
	}
	return false
}

// completionCases are command lines (the last word being completed) and candidates
// their completion must offer (all of want) and must not (none of unwanted).
var completionCases = []struct {
	words          []string
	want, unwanted []string
}{
	{[]string{""}, []string{"serve", "apikey", "submit", "completion", "help"}, []string{"--help"}},
	{[]string{"su"}, []string{"submit"}, []string{"serve"}},
	{[]string{"apikey", ""}, []string{"create", "list", "revoke"}, []string{"serve"}},
	{[]string{"apikey", "create", "--"}, []string{"--name", "--role", "--database-url", "--data-dir", "--help"}, []string{"--all", "--addr"}},
	{[]string{"apikey", "create", "--role", ""}, []string{"admin", "submitter", "viewer"}, []string{"--name"}},
	{[]string{"extract", "--template", "x", "--fo"}, []string{"--format"}, []string{"--read"}},
	{[]string{"extract", "--read", ""}, []string{"auto", "text", "ocr"}, nil},
	{[]string{"submit", "--priority", ""}, []string{"low", "medium", "high", "urgent"}, nil},
	{[]string{"serve", "--data"}, []string{"--data-dir", "--database-url"}, []string{"--concurrency"}},
	{[]string{"worker", "--conc"}, []string{"--concurrency"}, nil},
	{[]string{"help", ""}, []string{"serve", "submit", "apikey"}, nil},
	{[]string{"help", "apikey", ""}, []string{"create", "list", "revoke"}, nil},
	{[]string{"completion", ""}, []string{"bash", "zsh", "fish"}, nil},
}

// TestCompletionBash sources the bash script and asks it to complete command lines.
func TestCompletionBash(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("bash is not installed")
	}
	_, file := completionScript(t, "bash")
	for _, c := range completionCases {
		t.Run(strings.Join(c.words, " "), func(t *testing.T) {
			var q []string
			for _, w := range append([]string{"ocrinvoice"}, c.words...) {
				q = append(q, shQuote(w))
			}
			prog := `source "$1"; COMP_WORDS=(` + strings.Join(q, " ") + `); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _ocrinvoice; printf '%s\n' "${COMPREPLY[@]}"`
			out, err := exec.Command(bash, "-c", prog, "bash", file).CombinedOutput()
			if err != nil {
				t.Fatalf("bash: %v\n%s", err, out)
			}
			checkCandidates(t, strings.Fields(string(out)), c.want, c.unwanted)
		})
	}
}

// TestCompletionFish asks fish to complete command lines with the fish script loaded.
func TestCompletionFish(t *testing.T) {
	fish, err := exec.LookPath("fish")
	if err != nil {
		t.Skip("fish is not installed")
	}
	_, file := completionScript(t, "fish")
	for _, c := range completionCases {
		t.Run(strings.Join(c.words, " "), func(t *testing.T) {
			line := "ocrinvoice " + strings.Join(c.words, " ")
			out, err := exec.Command(fish, "--no-config", "-c", `source $argv[1]; complete -C $argv[2]`, file, line).CombinedOutput()
			if err != nil {
				t.Fatalf("fish: %v\n%s", err, out)
			}
			var got []string
			for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
				name, _, _ := strings.Cut(l, "\t")
				got = append(got, name)
			}
			checkCandidates(t, got, c.want, c.unwanted)
		})
	}
}

func checkCandidates(t *testing.T, got, want, unwanted []string) {
	t.Helper()
	for _, w := range want {
		if !containsWord(got, w) {
			t.Errorf("candidates %v lack %s", got, w)
		}
	}
	for _, u := range unwanted {
		if containsWord(got, u) {
			t.Errorf("candidates %v include %s", got, u)
		}
	}
}

// TestCompletionZsh loads the zsh script with the completion system's compadd,
// _describe, _files and compdef replaced by functions that print their candidates that
// match the word being completed (a zsh without an interactive line editor cannot run
// the real ones), then completes command lines.
func TestCompletionZsh(t *testing.T) {
	zsh, err := exec.LookPath("zsh")
	if err != nil {
		t.Skip("zsh is not installed")
	}
	_, file := completionScript(t, "zsh")
	const stubs = `compdef() { :; }
compadd() { local -a c; c=(${(P)2}); print -rl -- ${(M)c:#${words[CURRENT]}*}; }
_describe() { local -a c; c=(${${(P)4}%%:*}); print -rl -- ${(M)c:#${words[CURRENT]}*}; }
_files() { print -r -- FILES; }
`
	for _, c := range completionCases {
		t.Run(strings.Join(c.words, " "), func(t *testing.T) {
			var q []string
			for _, w := range append([]string{"ocrinvoice"}, c.words...) {
				q = append(q, shQuote(w))
			}
			prog := stubs + `source "$1"; words=(` + strings.Join(q, " ") + `); CURRENT=$#words; _ocrinvoice`
			out, err := exec.Command(zsh, "-f", "-c", prog, "zsh", file).CombinedOutput()
			if err != nil {
				t.Fatalf("zsh: %v\n%s", err, out)
			}
			got := strings.Fields(string(out))
			checkCandidates(t, got, c.want, c.unwanted)
		})
	}
	t.Run("files after extract", func(t *testing.T) {
		prog := stubs + `source "$1"; words=(ocrinvoice extract --json ''); CURRENT=4; _ocrinvoice`
		out, err := exec.Command(zsh, "-f", "-c", prog, "zsh", file).CombinedOutput()
		if err != nil || strings.TrimSpace(string(out)) != "FILES" {
			t.Fatalf("zsh: %v %q, want file completion", err, out)
		}
	})
}
