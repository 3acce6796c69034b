package redisproc

import (
	"context"
	"testing"
)

func TestStartStop(t *testing.T) {
	s, err := Start(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := ping(s.Addr); err != nil {
		t.Fatalf("ping running server: %v", err)
	}
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := ping(s.Addr); err == nil {
		t.Fatal("server still answers after Stop")
	}
	_ = s.Stop() // idempotent
}

func TestStopsWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	s, err := Start(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	<-s.done
	if err := ping(s.Addr); err == nil {
		t.Fatal("server still answers after its context ended")
	}
}
