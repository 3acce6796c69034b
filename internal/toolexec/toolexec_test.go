package toolexec

import (
	"context"
	"errors"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestRun runs real child processes against each limit: every failure has its own error,
// and the run ends soon after the limit, not when the child would have.
func TestRun(t *testing.T) {
	tests := []struct {
		name    string
		lim     Limits
		cmd     []string
		want    error  // errors.Is
		wantMsg string // in the message
		out     string // the output of a good run
	}{
		{"ok", Limits{Timeout: 10 * time.Second, MaxOutput: 3}, []string{"echo", "hi"}, nil, "", "hi\n"},
		{"output at the cap", Limits{Timeout: 10 * time.Second, MaxOutput: 4}, []string{"sh", "-c", "printf abcd"}, nil, "", "abcd"},
		{"output past the cap", Limits{Timeout: 10 * time.Second, MaxOutput: 4}, []string{"sh", "-c", "printf abcde"}, ErrOutputLimit, "run sh: output limit exceeded (4 bytes)", ""},
		{"output flood", Limits{Timeout: 10 * time.Second, MaxOutput: 1 << 16}, []string{"sh", "-c", "while :; do echo flood; done"}, ErrOutputLimit, "(65536 bytes)", ""},
		{"timeout", Limits{Timeout: 200 * time.Millisecond, MaxOutput: 1 << 10}, []string{"sleep", "10"}, ErrTimeout, "run sleep: external tool timed out after 200ms", ""},
		{"missing tool", Limits{Timeout: 10 * time.Second, MaxOutput: 1 << 10}, []string{"ocrinvoice-no-such-tool"}, exec.ErrNotFound, "run ocrinvoice-no-such-tool: ", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			out, err := Run(context.Background(), tt.lim, tt.cmd[0], tt.cmd[1:]...)
			if !errors.Is(err, tt.want) || (err != nil) != (tt.want != nil) {
				t.Fatalf("error %v, want %v", err, tt.want)
			}
			if err != nil && !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("message %q, want it to contain %q", err, tt.wantMsg)
			}
			if err == nil && string(out) != tt.out {
				t.Errorf("output %q, want %q", out, tt.out)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("took %v", d)
			}
		})
	}
}

// TestRunExitError: a non-zero exit is an *ExitError with the code and the start of
// standard error, cut at StderrMax bytes; a signal is code -1.
func TestRunExitError(t *testing.T) {
	lim := Limits{Timeout: 10 * time.Second, MaxOutput: 1 << 10}
	_, err := Run(context.Background(), lim, "sh", "-c", "echo out; echo 'Syntax Error: broken' >&2; exit 3")
	var ee *ExitError
	if !errors.As(err, &ee) || ee.Tool != "sh" || ee.Code != 3 || ee.Stderr != "Syntax Error: broken\n" {
		t.Fatalf("error %#v, want ExitError code 3", err)
	}
	if got, want := err.Error(), "sh exited with code 3: Syntax Error: broken"; got != want {
		t.Errorf("message %q, want %q", got, want)
	}

	_, err = Run(context.Background(), lim, "sh", "-c", "exit 1")
	if got, want := err.Error(), "sh exited with code 1: no message"; got != want {
		t.Errorf("message %q, want %q", got, want)
	}

	// A flood on stderr is cut, not an error of its own and not a killed tool.
	_, err = Run(context.Background(), lim, "sh", "-c", "i=0; while [ $i -lt 2000 ]; do echo 'Syntax Error' >&2; i=$((i+1)); done; exit 2")
	if !errors.As(err, &ee) || ee.Code != 2 || len(ee.Stderr) != StderrMax {
		t.Fatalf("stderr flood: %v (%d bytes of stderr), want code 2 and %d bytes", err, len(ee.Stderr), StderrMax)
	}

	// Without a memory limit a signal is the tool's failure, not out of memory.
	_, err = Run(context.Background(), lim, "sh", "-c", "kill -SEGV $$")
	if !errors.As(err, &ee) || ee.Code != -1 || errors.Is(err, ErrMemoryLimit) {
		t.Fatalf("SIGSEGV without a limit: %v, want ExitError code -1", err)
	}
}

// TestRunCancel: the parent context's cancellation is returned as is (not as a timeout),
// and ends the run at once.
func TestRunCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	_, err := Run(ctx, Limits{Timeout: time.Minute, MaxOutput: 1 << 10}, "sleep", "10")
	if !errors.Is(err, context.Canceled) || errors.Is(err, ErrTimeout) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v", d)
	}
}

// TestRunMemoryLimit: under a memory limit the program's address space is limited before
// it starts; saying "Out of memory" (even with exit 0, as poppler does) or dying of
// SIGSEGV is ErrMemoryLimit. Without a limit the same runs are not.
func TestRunMemoryLimit(t *testing.T) {
	if !MemoryLimitSupported() {
		t.Skip("prlimit (util-linux) is not installed")
	}
	ctx := context.Background()
	const mem = 256 << 20
	lim := Limits{Timeout: 10 * time.Second, MaxOutput: 1 << 10, Memory: mem}

	// The shell sees the limit (ulimit -v is in KiB).
	out, err := Run(ctx, lim, "sh", "-c", "ulimit -v")
	if err != nil || strings.TrimSpace(string(out)) != strconv.Itoa(mem/1024) {
		t.Fatalf("ulimit -v under %d bytes: %q, %v", mem, out, err)
	}
	out, err = Run(ctx, Limits{Timeout: 10 * time.Second, MaxOutput: 1 << 10}, "sh", "-c", "ulimit -v")
	if err != nil || strings.TrimSpace(string(out)) != "unlimited" {
		t.Fatalf("ulimit -v without a limit: %q, %v", out, err)
	}

	for _, script := range []string{
		"echo 'Out of memory' >&2; echo partial",
		"echo 'terminate called after throwing an instance of std::bad_alloc' >&2; exit 134",
		"kill -SEGV $$",
	} {
		_, err := Run(ctx, lim, "sh", "-c", script)
		if !errors.Is(err, ErrMemoryLimit) {
			t.Errorf("%q under a limit: %v, want ErrMemoryLimit", script, err)
		} else if want := "run sh: memory limit exceeded (268435456 bytes)"; err.Error() != want {
			t.Errorf("message %q, want %q", err, want)
		}
		_, err = Run(ctx, Limits{Timeout: 10 * time.Second, MaxOutput: 1 << 10}, "sh", "-c", script)
		if errors.Is(err, ErrMemoryLimit) {
			t.Errorf("%q without a limit: %v", script, err)
		}
	}
}
