// Package toolexec runs external programs (poppler's pdfinfo, pdftotext, pdftoppm) the one
// way ocrinvoice does, for the worker's reader (worker/ocr) and the API's page images
// (internal/pages): a timeout, a cap on standard output, the start of standard error kept
// for the error, and an address-space limit through util-linux's prlimit. It is a leaf: it
// imports the standard library only, so the API can use it without linking worker/ocr.
package toolexec

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Errors of Run. Callers map them to their own kinds (errors.Is).
var (
	// ErrOutputLimit: the program wrote more than Limits.MaxOutput bytes to standard
	// output; it was killed.
	ErrOutputLimit = errors.New("output limit exceeded")
	// ErrTimeout: the program ran past Limits.Timeout; it was killed.
	ErrTimeout = errors.New("external tool timed out")
	// ErrMemoryLimit: the program ran out of memory under Limits.Memory.
	ErrMemoryLimit = errors.New("memory limit exceeded")
)

// StderrMax is how many bytes of a program's standard error Run keeps (for ExitError);
// the rest is dropped.
const StderrMax = 4096

// ExitError is a run of an external program that exited non-zero (or was killed by a
// signal, code -1): its exit code and the start of what it wrote to standard error,
// which poppler uses to say why (e.g. "Incorrect password").
type ExitError struct {
	Tool   string // the program's name as given to Run
	Code   int    // the exit code; -1 when a signal ended it
	Stderr string // at most StderrMax bytes
}

// Error is "<tool> exited with code <code>: <stderr, trimmed>" ("no message" when
// standard error was empty).
func (e *ExitError) Error() string {
	msg := strings.TrimSpace(e.Stderr)
	if msg == "" {
		msg = "no message"
	}
	return fmt.Sprintf("%s exited with code %d: %s", e.Tool, e.Code, msg)
}

// Limits bound one run.
type Limits struct {
	// Timeout is how long the program may run.
	Timeout time.Duration
	// MaxOutput is the most bytes of standard output the program may write.
	MaxOutput int
	// Memory is the program's address-space limit (RLIMIT_AS) in bytes, set before it
	// starts when > 0 and prlimit is installed (MemoryLimitSupported); otherwise the
	// program runs unlimited.
	Memory int64
}

// Run runs name with args under lim and returns what it wrote to standard output. Its
// standard input is empty. Errors, in this order of precedence:
//
//   - ctx's own error (cancelled or past its deadline), wrapped, as is;
//   - ErrOutputLimit, wrapped with the limit, when standard output passed MaxOutput;
//   - ErrTimeout, wrapped with the timeout, when the run passed Timeout;
//   - ErrMemoryLimit, wrapped with the limit, when a run under a memory limit ran out
//     of memory (see outOfMemory: poppler may say so and still exit 0, with a result
//     that must not be used);
//   - *ExitError for a non-zero exit or a signal;
//   - the failure to start the program (e.g. exec.ErrNotFound), wrapped.
func Run(ctx context.Context, lim Limits, name string, args ...string) ([]byte, error) {
	tctx, cancel := context.WithTimeout(ctx, lim.Timeout)
	defer cancel()
	bin, limited := name, false
	if p := prlimitPath(); lim.Memory > 0 && p != "" {
		bin, limited = p, true
		args = append([]string{"--as=" + strconv.FormatInt(lim.Memory, 10), "--", name}, args...)
	}
	cmd := exec.CommandContext(tctx, bin, args...)
	stdout := &limitBuffer{max: lim.MaxOutput, cancel: cancel}
	stderr := &limitBuffer{max: StderrMax, truncate: true}
	// Poppler tools read nothing on stdin; keep them from inheriting ours.
	cmd.Stdout, cmd.Stderr, cmd.Stdin = stdout, stderr, nil
	// After the tool exits (or is killed at the timeout) its output still has to be
	// drained; on a loaded machine, under the race detector, one second proved too short
	// for a page image, so a good reading failed with exec.ErrWaitDelay.
	cmd.WaitDelay = 10 * time.Second
	err := cmd.Run()
	switch {
	case ctx.Err() != nil:
		return nil, fmt.Errorf("run %s: %w", name, ctx.Err())
	case stdout.over:
		return nil, fmt.Errorf("run %s: %w (%d bytes)", name, ErrOutputLimit, lim.MaxOutput)
	case errors.Is(tctx.Err(), context.DeadlineExceeded):
		return nil, fmt.Errorf("run %s: %w after %s", name, ErrTimeout, lim.Timeout)
	case limited && outOfMemory(stderr.buf.String(), cmd.ProcessState):
		return nil, fmt.Errorf("run %s: %w (%d bytes)", name, ErrMemoryLimit, lim.Memory)
	case err != nil:
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return nil, &ExitError{Tool: name, Code: ee.ExitCode(), Stderr: stderr.buf.String()}
		}
		return nil, fmt.Errorf("run %s: %w", name, err)
	}
	return stdout.buf.Bytes(), nil
}

// limitBuffer collects up to max bytes, then fails and cancels the command so a tool
// that floods its output is killed instead of filling memory (or, with truncate, keeps
// the first max bytes and drops the rest silently, for stderr).
type limitBuffer struct {
	mu       sync.Mutex
	buf      bytes.Buffer
	max      int
	over     bool
	cancel   context.CancelFunc
	truncate bool
}

func (l *limitBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.buf.Len()+len(p) > l.max {
		if l.truncate {
			l.buf.Write(p[:max(0, l.max-l.buf.Len())])
			return len(p), nil
		}
		l.over = true
		if l.cancel != nil {
			l.cancel()
		}
		return 0, ErrOutputLimit
	}
	return l.buf.Write(p)
}

// prlimitPath is util-linux's prlimit, which runs a program under resource limits set
// in its own process before it executes the program; "" when it is not installed.
var prlimitPath = sync.OnceValue(func() string {
	p, err := exec.LookPath("prlimit")
	if err != nil {
		return ""
	}
	return p
})

// MemoryLimitSupported reports whether Limits.Memory can be applied: util-linux's
// prlimit is installed. Without it programs run unlimited.
func MemoryLimitSupported() bool { return prlimitPath() != "" }

// outOfMemory reports a tool that ran out of memory: poppler prints "Out of memory" (and
// may still exit 0 with a truncated or blank result, which must not be used), C++ code
// throws std::bad_alloc, the dynamic loader cannot map a library, and a failed
// allocation nobody checks ends in SIGSEGV, SIGBUS or SIGABRT.
func outOfMemory(stderr string, state *os.ProcessState) bool {
	msg := strings.ToLower(stderr)
	if strings.Contains(msg, "out of memory") || strings.Contains(msg, "bad_alloc") || strings.Contains(msg, "cannot allocate memory") ||
		// A limit too small for the tool to load its libraries.
		strings.Contains(msg, "failed to map segment") {
		return true
	}
	if state == nil {
		return false
	}
	ws, ok := state.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && (ws.Signal() == syscall.SIGSEGV || ws.Signal() == syscall.SIGABRT || ws.Signal() == syscall.SIGBUS)
}
