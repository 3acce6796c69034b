package ocr

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

// toolError is a failed run of an external tool: its exit code and the start of what it
// wrote to stderr, which poppler uses to say why (e.g. "Incorrect password").
type toolError struct {
	tool   string
	code   int
	stderr string
}

func (e *toolError) Error() string {
	msg := strings.TrimSpace(e.stderr)
	if msg == "" {
		msg = "no message"
	}
	return fmt.Sprintf("%s exited with code %d: %s", e.tool, e.code, msg)
}

// errOutputLimit is returned when a tool writes more than its output limit.
var errOutputLimit = errors.New("output limit exceeded")

// limitBuffer collects up to max bytes, then fails and cancels the command so a tool
// that floods its output is killed instead of filling memory.
type limitBuffer struct {
	mu       sync.Mutex
	buf      bytes.Buffer
	max      int
	over     bool
	cancel   context.CancelFunc
	truncate bool // keep the first max bytes and drop the rest silently (for stderr)
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
		return 0, errOutputLimit
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

// MemoryLimitSupported reports whether the memory limit of external tools
// (Config.ToolMemoryLimit) can be applied: util-linux's prlimit is installed. Without
// it the tools run unlimited.
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

// runTool runs an external program with a timeout, a cap on its standard output and,
// when mem > 0 and prlimit is installed, a limit of mem bytes on its address space
// (RLIMIT_AS, set before the program starts), and returns what it printed. A run past
// the timeout returns ErrToolTimeout; a run out of memory under mem returns
// ErrMemoryLimit; a non-zero exit returns *toolError; a flood of output returns
// errOutputLimit. The parent context's cancellation is returned as is.
func runTool(ctx context.Context, timeout time.Duration, maxOut int, mem int64, name string, args ...string) ([]byte, error) {
	tctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	bin, limited := name, false
	if p := prlimitPath(); mem > 0 && p != "" {
		bin, limited = p, true
		args = append([]string{"--as=" + strconv.FormatInt(mem, 10), "--", name}, args...)
	}
	cmd := exec.CommandContext(tctx, bin, args...)
	stdout := &limitBuffer{max: maxOut, cancel: cancel}
	stderr := &limitBuffer{max: 4096, truncate: true}
	cmd.Stdout = stdout
	cmd.Stderr = stderr
	// Poppler tools print nothing on stdin; keep them from inheriting ours.
	cmd.Stdin = nil
	// After the tool exits (or is killed at the timeout) its output still has to be
	// drained; on a loaded machine, under the race detector, one second proved too short
	// for a page image, so a good reading failed with exec.ErrWaitDelay.
	cmd.WaitDelay = 10 * time.Second
	err := cmd.Run()
	switch {
	case ctx.Err() != nil:
		return nil, fmt.Errorf("run %s: %w", name, ctx.Err())
	case stdout.over:
		return nil, fmt.Errorf("run %s: %w (%d bytes)", name, errOutputLimit, maxOut)
	case errors.Is(tctx.Err(), context.DeadlineExceeded):
		return nil, fmt.Errorf("run %s: %w after %s", name, ErrToolTimeout, timeout)
	case limited && outOfMemory(stderr.buf.String(), cmd.ProcessState):
		return nil, fmt.Errorf("%w: %s ran out of memory under its limit of %s", ErrMemoryLimit, name, formatBytes(mem))
	case err != nil:
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return nil, &toolError{tool: name, code: ee.ExitCode(), stderr: stderr.buf.String()}
		}
		return nil, fmt.Errorf("run %s: %w", name, err)
	}
	return stdout.buf.Bytes(), nil
}

// formatBytes writes n bytes in MiB (or bytes below one MiB).
func formatBytes(n int64) string {
	if n < 1<<20 {
		return strconv.FormatInt(n, 10) + " bytes"
	}
	return strconv.FormatFloat(float64(n)/(1<<20), 'f', -1, 64) + " MiB"
}
