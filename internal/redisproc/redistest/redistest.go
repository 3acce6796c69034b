// Package redistest gives each test a private redis-server, so tests never touch a shared
// Redis and never see another test's keys.
package redistest

import (
	"context"
	"testing"

	"github.com/ocrinvoice/ocrinvoice/internal/redisproc"
)

// Start runs a private redis-server for the test and stops it at cleanup. It returns the
// server's address (host:port). The test fails when redis-server cannot be started.
func Start(t testing.TB) *redisproc.Server {
	t.Helper()
	s, err := redisproc.Start(context.Background(), t.TempDir())
	if err != nil {
		t.Fatalf("start private redis-server: %v", err)
	}
	t.Cleanup(func() { _ = s.Stop() })
	return s
}
