// Package apptest runs real ocrinvoice processes (app.New, then Run) inside a test: a
// private data directory (SQLite unless DATABASE_URL is given), a private
// redis-server, port 0, authentication by API key. Tests of the HTTP API, the worker
// and the Go client use it instead of a hand-written stand-in of the API.
package apptest

import (
	"bytes"
	"context"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/ocrinvoice/ocrinvoice/internal/apikeys"
	"github.com/ocrinvoice/ocrinvoice/internal/app"
	"github.com/ocrinvoice/ocrinvoice/internal/auth"
	"github.com/ocrinvoice/ocrinvoice/internal/config"
	"github.com/ocrinvoice/ocrinvoice/internal/redisproc/redistest"
)

// Config loads the configuration of cmd (config.CmdServe, CmdWorker, CmdAll) from a
// test environment: a data directory in t.TempDir(), a private redis-server, the
// address 127.0.0.1:0, API keys required, no bootstrap key, one OCR slot, a 5 s
// shutdown, a requeue sweep every second, overridden by extra (e.g. "DATABASE_URL", "OCRINVOICE_AUTH": "none").
// Processes started with the same Config share the database, Redis and uploads.
func Config(t testing.TB, cmd string, extra map[string]string) config.Config {
	t.Helper()
	env := map[string]string{
		"OCRINVOICE_ADDR":                "127.0.0.1:0",
		"OCRINVOICE_DATA_DIR":            filepath.Join(t.TempDir(), "data"),
		"OCRINVOICE_AUTH":                "apikey",
		"OCRINVOICE_BOOTSTRAP_ADMIN_KEY": "false",
		"OCRINVOICE_WORKER_CONCURRENCY":  "1",
		"OCRINVOICE_SHUTDOWN_TIMEOUT":    "5s",
		"OCRINVOICE_LOG_LEVEL":           "debug",
		// A task taken while the API marks its job queued can be dropped (the worker
		// reads "created", its conditional start then misses and "queued" is refused);
		// the requeue sweep queues the job again. Sweeping every second makes such a
		// loss cost a second rather than a minute.
		"OCRINVOICE_REQUEUE_INTERVAL": "1s",
	}
	if _, ok := extra["REDIS_URL"]; !ok {
		env["REDIS_URL"] = redistest.Start(t).URL()
	}
	for k, v := range extra {
		env[k] = v
	}
	cfg, err := config.LoadCommand(cmd, nil, func(k string) string { return env[k] })
	if err != nil {
		t.Fatalf("load the test configuration: %v", err)
	}
	return cfg
}

// CreateKey creates an API key of role in the database of cfg and returns its secret.
func CreateKey(t testing.TB, cfg config.Config, name string, role auth.Role) string {
	t.Helper()
	ctx := context.Background()
	db, err := app.OpenDatabase(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("open the test database: %v", err)
	}
	defer db.Close()
	c, err := apikeys.New(db, slog.New(slog.DiscardHandler)).Create(ctx, apikeys.CreateInput{Name: name, Role: role})
	if err != nil {
		t.Fatalf("create API key %s: %v", name, err)
	}
	return c.Key
}

// Process is one running app.
type Process struct {
	App    *app.App
	URL    string // http://host:port of its HTTP listener; "" without one
	Stdout *Buffer
	Log    *Buffer // its JSON log lines, shown when the test fails
	cancel context.CancelFunc
	done   chan error
	once   sync.Once
	err    error
}

// Start builds the parts of cfg with app.New and runs them until the test ends (or
// Stop). It fails the test when New fails.
func Start(t testing.TB, cfg config.Config, parts app.Parts) *Process {
	t.Helper()
	p := &Process{Stdout: &Buffer{}, Log: &Buffer{}, done: make(chan error, 1)}
	logger := slog.New(slog.NewJSONHandler(p.Log, &slog.HandlerOptions{Level: cfg.LogLevel}))
	a, err := app.New(context.Background(), cfg, app.Options{Parts: parts, Logger: logger, Stdout: p.Stdout})
	if err != nil {
		t.Fatalf("app.New: %v\n%s", err, p.Log)
	}
	p.App = a
	if addr := a.Addr(); addr != nil {
		p.URL = "http://" + addr.String()
	}
	ctx, cancel := context.WithCancel(context.Background())
	p.cancel = cancel
	go func() { p.done <- a.Run(ctx) }()
	t.Cleanup(func() {
		if err := p.Stop(t); err != nil {
			t.Errorf("Run returned %v", err)
		}
		if t.Failed() {
			t.Logf("log of the process:\n%s", p.Log)
		}
	})
	return p
}

// Stop cancels Run's context, waits for Run (at most 30 s) and closes the app; it
// returns what Run returned. It may be called more than once.
func (p *Process) Stop(t testing.TB) error {
	t.Helper()
	p.once.Do(func() {
		p.cancel()
		select {
		case p.err = <-p.done:
		case <-time.After(30 * time.Second):
			t.Errorf("the process did not stop within 30 s")
		}
		_ = p.App.Close()
	})
	return p.err
}

// Buffer collects output written from several goroutines.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
