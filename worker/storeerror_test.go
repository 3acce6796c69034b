package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"syscall"
	"testing"
	"time"
)

// storeError marks database outages, and nothing else, as ErrStoreDown.
func TestStoreErrorMarksOnlyOutages(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	if err := storeError(fmt.Errorf("start job j1: %w", refused)); !errors.Is(err, ErrStoreDown) || !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("storeError(connection refused) = %v, want ErrStoreDown keeping the cause", err)
	}
	for _, err := range []error{errors.New("store results of job j1: constraint failed"), errors.New("invalid value")} {
		if got := storeError(err); errors.Is(got, ErrStoreDown) || got != err {
			t.Errorf("storeError(%v) = %v, want it unchanged", err, got)
		}
	}
}

// untilStored tries a write again while the database is unreachable, and only then.
func TestUntilStoredWaitsForTheStore(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	log := slog.New(slog.DiscardHandler)
	calls := 0
	err := untilStored(context.Background(), log, func() error {
		if calls++; calls < 3 {
			return refused
		}
		return nil
	})
	if err != nil || calls != 3 {
		t.Fatalf("untilStored = %v after %d writes, want success at the third", err, calls)
	}
	other := errors.New("constraint failed")
	calls = 0
	if err := untilStored(context.Background(), log, func() error { calls++; return other }); err != other || calls != 1 {
		t.Fatalf("untilStored = %v after %d writes, want the error at once", err, calls)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	if err := untilStored(ctx, log, func() error { return refused }); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("untilStored past its deadline = %v, want the outage", err)
	}
}
