package pages

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

// This file runs poppler the way worker/ocr does (exec.go there): a timeout, a cap on
// standard output, and an address-space limit through util-linux's prlimit. The API must
// not import worker/ocr (it links Tesseract), so the few lines are repeated here; moving
// both into one leaf package (internal/toolexec) is the clean follow-up.

// toolError is a failed run of an external tool: its exit code and the start of its
// stderr, where poppler says why.
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

var (
	errOutputLimit = errors.New("output limit exceeded")
	errToolTimeout = errors.New("external tool timed out")
	errMemoryLimit = errors.New("memory limit exceeded")
)

// limitBuffer collects up to max bytes; past it, it fails and cancels the command (or,
// with truncate, drops the rest silently).
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
		return 0, errOutputLimit
	}
	return l.buf.Write(p)
}

var prlimitPath = sync.OnceValue(func() string {
	p, err := exec.LookPath("prlimit")
	if err != nil {
		return ""
	}
	return p
})

// outOfMemory reports a tool that ran out of memory under its limit (see worker/ocr).
func outOfMemory(stderr string, state *os.ProcessState) bool {
	msg := strings.ToLower(stderr)
	if strings.Contains(msg, "out of memory") || strings.Contains(msg, "bad_alloc") ||
		strings.Contains(msg, "cannot allocate memory") || strings.Contains(msg, "failed to map segment") {
		return true
	}
	if state == nil {
		return false
	}
	ws, ok := state.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && (ws.Signal() == syscall.SIGSEGV || ws.Signal() == syscall.SIGABRT || ws.Signal() == syscall.SIGBUS)
}

// runTool runs name with args under timeout, at most maxOut bytes of standard output and,
// when mem > 0 and prlimit is installed, mem bytes of address space. Errors: the parent
// context's, errToolTimeout, errMemoryLimit, errOutputLimit, or *toolError for a non-zero
// exit.
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
	cmd.Stdout, cmd.Stderr, cmd.Stdin = stdout, stderr, nil
	cmd.WaitDelay = 10 * time.Second
	err := cmd.Run()
	switch {
	case ctx.Err() != nil:
		return nil, fmt.Errorf("run %s: %w", name, ctx.Err())
	case stdout.over:
		return nil, fmt.Errorf("run %s: %w (%d bytes)", name, errOutputLimit, maxOut)
	case errors.Is(tctx.Err(), context.DeadlineExceeded):
		return nil, fmt.Errorf("run %s: %w after %s", name, errToolTimeout, timeout)
	case limited && outOfMemory(stderr.buf.String(), cmd.ProcessState):
		return nil, fmt.Errorf("run %s: %w (%d bytes)", name, errMemoryLimit, mem)
	case err != nil:
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return nil, &toolError{tool: name, code: ee.ExitCode(), stderr: stderr.buf.String()}
		}
		return nil, fmt.Errorf("run %s: %w", name, err)
	}
	return stdout.buf.Bytes(), nil
}
