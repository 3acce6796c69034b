package app

import (
	"errors"
	"fmt"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/ocrinvoice/ocrinvoice/internal/tasks"
	"github.com/ocrinvoice/ocrinvoice/worker"
)

// A job task that found the database down is tried again within seconds and does not
// use up a retry; other failures keep asynq's backoff and count.
func TestRetryDelayOfStoreOutage(t *testing.T) {
	down := fmt.Errorf("start job j1: %w", &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED})
	stored := fmt.Errorf("%w: %w", worker.ErrStoreDown, down)
	job := asynq.NewTask(tasks.TypeOCRInvoice, nil)
	delay := retryDelay(10 * time.Second)

	if got := delay(0, stored, job); got != storeDownRetryDelay {
		t.Errorf("retry delay after a store outage = %v, want %v", got, storeDownRetryDelay)
	}
	if isTaskFailure(stored) {
		t.Error("a store outage counts as a failed attempt")
	}
	other := errors.New("fetch document: HTTP 503")
	if !isTaskFailure(other) {
		t.Error("an ordinary failure does not count as a failed attempt")
	}
	if got := delay(0, other, job); got < 15*time.Second {
		t.Errorf("retry delay after an ordinary failure = %v, want asynq's backoff (at least 15 s)", got)
	}
}
