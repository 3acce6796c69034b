package apperr

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/lib/pq"
	_ "github.com/mattn/go-sqlite3"
	"github.com/redis/go-redis/v9"
)

// closedAddr returns a local address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return addr
}

// lockedSQLiteError returns the error SQLite gives a writer while another connection
// holds the write lock, with no busy timeout.
func lockedSQLiteError(t *testing.T) error {
	t.Helper()
	dsn := "file:" + filepath.Join(t.TempDir(), "locked.db") + "?_busy_timeout=0"
	a, err := sql.Open("sqlite3", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Close() })
	b, err := sql.Open("sqlite3", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	if _, err := a.Exec(`CREATE TABLE t (x INTEGER)`); err != nil {
		t.Fatal(err)
	}
	tx, err := a.Begin()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tx.Rollback() })
	if _, err := tx.Exec(`INSERT INTO t VALUES (1)`); err != nil {
		t.Fatal(err)
	}
	_, err = b.Exec(`INSERT INTO t VALUES (2)`)
	if err == nil {
		t.Fatal("second writer was not refused")
	}
	return err
}

// TestDependencyDown classifies the errors the drivers give when a dependency is
// unreachable as Unavailable, wherever they are wrapped, and leaves every other error
// alone.
func TestDependencyDown(t *testing.T) {
	addr := closedAddr(t)
	_, dialErr := net.DialTimeout("tcp", addr, time.Second)
	pg, err := sql.Open("postgres", "postgres://x@"+addr+"/x?sslmode=disable&connect_timeout=2")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pg.Close() })
	pgErr := pg.PingContext(context.Background())
	rdb := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, DialTimeout: time.Second})
	t.Cleanup(func() { _ = rdb.Close() })
	redisErr := rdb.Ping(context.Background()).Err()

	tests := []struct {
		name string
		err  error
		down bool
	}{
		{"postgres refused", pgErr, true},
		{"postgres refused, wrapped", fmt.Errorf("create job: %w", pgErr), true},
		{"dial refused", dialErr, true},
		{"redis refused", redisErr, true},
		{"redis pool timeout", redis.ErrPoolTimeout, true},
		{"bad connection", fmt.Errorf("query: %w", driver.ErrBadConn), true},
		{"connection done", sql.ErrConnDone, true},
		{"ECONNREFUSED", fmt.Errorf("x: %w", syscall.ECONNREFUSED), true},
		{"ECONNRESET", syscall.ECONNRESET, true},
		{"EOF on a connection", fmt.Errorf("read: %w", io.EOF), true},
		{"pq admin shutdown 57P01", &pq.Error{Code: "57P01"}, true},
		{"pq crash shutdown 57P02", &pq.Error{Code: "57P02"}, true},
		{"pq cannot connect now 57P03", &pq.Error{Code: "57P03"}, true},
		{"pq connection failure 08006", &pq.Error{Code: "08006"}, true},
		{"pq connection does not exist 08003", fmt.Errorf("tx: %w", &pq.Error{Code: "08003"}), true},
		{"sqlite database is locked", lockedSQLiteError(t), true},
		{"pq unique violation 23505", &pq.Error{Code: "23505"}, false},
		{"pq syntax error 42601", &pq.Error{Code: "42601"}, false},
		{"no rows", sql.ErrNoRows, false},
		{"plain error", errors.New("disk on fire"), false},
		{"nil", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.down && tt.err == nil {
				t.Fatal("the case produced no error")
			}
			if got := DependencyDown(tt.err); got != tt.down {
				t.Fatalf("DependencyDown(%v) = %v, want %v", tt.err, got, tt.down)
			}
			if tt.err == nil {
				return
			}
			wantKind, wantStatus := KindInternal, http.StatusInternalServerError
			if tt.down {
				wantKind, wantStatus = KindUnavailable, http.StatusServiceUnavailable
			}
			for _, err := range []error{tt.err, Internal(tt.err), Internal(fmt.Errorf("list jobs: %w", tt.err))} {
				if got := KindOf(err); got != wantKind {
					t.Errorf("KindOf(%v) = %s, want %s", err, got, wantKind)
				}
				if got := HTTPStatus(err); got != wantStatus {
					t.Errorf("HTTPStatus(%v) = %d, want %d", err, got, wantStatus)
				}
			}
			if tt.down {
				if msg := Internal(tt.err).PublicMessage(); msg != msgDependencyDown {
					t.Errorf("public message %q, want %q", msg, msgDependencyDown)
				}
			}
		})
	}
}
