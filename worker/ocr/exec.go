package ocr

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/ocrinvoice/ocrinvoice/internal/toolexec"
)

// toolError is a failed run of an external tool: its exit code and the start of what it
// wrote to stderr, which poppler uses to say why (e.g. "Incorrect password").
type toolError = toolexec.ExitError

// errOutputLimit is returned when a tool writes more than its output limit.
var errOutputLimit = toolexec.ErrOutputLimit

// MemoryLimitSupported reports whether the memory limit of external tools
// (Config.ToolMemoryLimit) can be applied: util-linux's prlimit is installed. Without
// it the tools run unlimited.
func MemoryLimitSupported() bool { return toolexec.MemoryLimitSupported() }

// runTool runs an external program with a timeout, a cap on its standard output and,
// when mem > 0 and prlimit is installed, a limit of mem bytes on its address space
// (RLIMIT_AS, set before the program starts), and returns what it printed. A run past
// the timeout returns ErrToolTimeout; a run out of memory under mem returns
// ErrMemoryLimit; a non-zero exit returns *toolError; a flood of output returns
// errOutputLimit. The parent context's cancellation is returned as is.
func runTool(ctx context.Context, timeout time.Duration, maxOut int, mem int64, name string, args ...string) ([]byte, error) {
	out, err := toolexec.Run(ctx, toolexec.Limits{Timeout: timeout, MaxOutput: maxOut, Memory: mem}, name, args...)
	if errors.Is(err, toolexec.ErrMemoryLimit) {
		// The reader's own kind: a permanent document error (ErrTooLarge).
		return nil, fmt.Errorf("%w: %s ran out of memory under its limit of %s", ErrMemoryLimit, name, formatBytes(mem))
	}
	return out, err
}

// formatBytes writes n bytes in MiB (or bytes below one MiB).
func formatBytes(n int64) string {
	if n < 1<<20 {
		return strconv.FormatInt(n, 10) + " bytes"
	}
	return strconv.FormatFloat(float64(n)/(1<<20), 'f', -1, 64) + " MiB"
}
