package ocr

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"sync"
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

// runTool runs an external program with a timeout and a cap on its standard output and
// returns what it printed. A run past the timeout returns ErrToolTimeout; a non-zero exit
// returns *toolError; a flood of output returns errOutputLimit. The parent context's
// cancellation is returned as is.
func runTool(ctx context.Context, timeout time.Duration, maxOut int, name string, args ...string) ([]byte, error) {
	tctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(tctx, name, args...)
	stdout := &limitBuffer{max: maxOut, cancel: cancel}
	stderr := &limitBuffer{max: 4096, truncate: true}
	cmd.Stdout = stdout
	cmd.Stderr = stderr
	// Poppler tools print nothing on stdin; keep them from inheriting ours.
	cmd.Stdin = nil
	cmd.WaitDelay = time.Second
	err := cmd.Run()
	switch {
	case ctx.Err() != nil:
		return nil, fmt.Errorf("run %s: %w", name, ctx.Err())
	case stdout.over:
		return nil, fmt.Errorf("run %s: %w (%d bytes)", name, errOutputLimit, maxOut)
	case errors.Is(tctx.Err(), context.DeadlineExceeded):
		return nil, fmt.Errorf("run %s: %w after %s", name, ErrToolTimeout, timeout)
	case err != nil:
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return nil, &toolError{tool: name, code: ee.ExitCode(), stderr: stderr.buf.String()}
		}
		return nil, fmt.Errorf("run %s: %w", name, err)
	}
	return stdout.buf.Bytes(), nil
}
