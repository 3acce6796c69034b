// Package redisproc starts and stops a private redis-server child process on a free
// loopback port. The binary uses it when REDIS_URL is unset, so that `make run` works on a
// fresh machine; tests use it (through redistest) so that no test touches a shared Redis.
package redisproc

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// ErrNotInstalled is returned when no redis-server executable can be found.
var ErrNotInstalled = errors.New("redis-server not found in PATH (install it, e.g. `apt-get install redis-server`, or set REDIS_URL)")

// Server is a running private redis-server.
type Server struct {
	Addr string // host:port on loopback
	cmd  *exec.Cmd
	dir  string
	once sync.Once
	done chan struct{}
}

// URL returns the redis:// URL of the server.
func (s *Server) URL() string { return "redis://" + s.Addr + "/0" }

// Start launches redis-server on a free 127.0.0.1 port, keeping nothing on disk, and
// waits until it answers PING (at most 10 s). dir holds its working files; when empty a
// temporary directory is made and removed on Stop. The process is also ended when ctx
// is cancelled.
func Start(ctx context.Context, dir string) (*Server, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, ErrNotInstalled
	}
	tmp := ""
	if dir == "" {
		if tmp, err = os.MkdirTemp("", "ocrinvoice-redis-*"); err != nil {
			return nil, fmt.Errorf("make redis directory: %w", err)
		}
		dir = tmp
	}
	// Picking a port and then binding it races with other processes; retry a few times.
	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		s := &Server{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), dir: tmp, done: make(chan struct{})}
		s.cmd = exec.Command(bin,
			"--port", strconv.Itoa(port), "--bind", "127.0.0.1",
			"--save", "", "--appendonly", "no", "--dir", dir,
			"--daemonize", "no", "--loglevel", "warning")
		// Its own process group, so a Ctrl-C in a terminal reaches us first and we stop it in order.
		s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
		if err := s.cmd.Start(); err != nil {
			return nil, fmt.Errorf("start redis-server: %w", err)
		}
		go func() { _ = s.cmd.Wait(); close(s.done) }()
		if err := s.waitReady(ctx, 10*time.Second); err != nil {
			lastErr = err
			s.kill()
			continue
		}
		go func() {
			select {
			case <-ctx.Done():
				_ = s.Stop()
			case <-s.done:
			}
		}()
		return s, nil
	}
	if tmp != "" {
		_ = os.RemoveAll(tmp)
	}
	return nil, fmt.Errorf("start redis-server: %w", lastErr)
}

func (s *Server) waitReady(ctx context.Context, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		select {
		case <-s.done:
			return errors.New("redis-server exited during start-up")
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		if ping(s.Addr) == nil {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("redis-server on %s did not answer within %s", s.Addr, limit)
}

func ping(addr string) error {
	c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(500 * time.Millisecond))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if !strings.HasPrefix(line, "+PONG") {
		return fmt.Errorf("unexpected PING answer %q", strings.TrimSpace(line))
	}
	return nil
}

// Stop ends the server (SIGTERM, then SIGKILL after 5 s) and removes its temporary
// directory. It is safe to call more than once.
func (s *Server) Stop() error {
	s.once.Do(func() {
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.done:
		case <-time.After(5 * time.Second):
			s.kill()
		}
		if s.dir != "" {
			_ = os.RemoveAll(s.dir)
		}
	})
	return nil
}

func (s *Server) kill() {
	_ = s.cmd.Process.Kill()
	<-s.done
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
