package worker

import (
	"errors"
	"fmt"
	"net"
	"syscall"
	"testing"
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
