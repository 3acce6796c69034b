package graph_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/ocrinvoice/ocrinvoice/graph"
	"github.com/ocrinvoice/ocrinvoice/internal/auth"
	"github.com/ocrinvoice/ocrinvoice/internal/live/livetest"
)

// wsClient is a bare GraphQL WebSocket client that can send a connection_init payload
// (livetest's sends none).
type wsClient struct {
	c     *websocket.Conn
	proto string
}

func (w *wsClient) send(ctx context.Context, m map[string]any) error {
	b, _ := json.Marshal(m)
	return w.c.Write(ctx, websocket.MessageText, b)
}

// read returns the next message that is not a keep-alive (answering pings).
func (w *wsClient) read(ctx context.Context) (livetest.Message, error) {
	for {
		_, b, err := w.c.Read(ctx)
		if err != nil {
			return livetest.Message{}, err
		}
		var m livetest.Message
		if err := json.Unmarshal(b, &m); err != nil {
			return m, err
		}
		switch m.Type {
		case "ka", "pong":
			continue
		case "ping":
			_ = w.send(ctx, map[string]any{"type": "pong"})
			continue
		case "data":
			m.Type = "next"
		}
		return m, nil
	}
}

func (w *wsClient) next(t *testing.T, ctx context.Context) livetest.Message {
	t.Helper()
	m, err := w.read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func (w *wsClient) subscribe(t *testing.T, ctx context.Context, id, query string, vars map[string]any) {
	t.Helper()
	typ := "subscribe"
	if w.proto == livetest.LegacyWS {
		typ = "start"
	}
	if err := w.send(ctx, map[string]any{"id": id, "type": typ, "payload": map[string]any{"query": query, "variables": vars}}); err != nil {
		t.Fatal(err)
	}
}

// initWS dials url and sends connection_init with payload (none when nil); it returns
// the connection and the server's answer: a message, or the error reading it (a close).
func initWS(t *testing.T, ctx context.Context, url, proto string, header http.Header, payload map[string]any) (*wsClient, livetest.Message, error) {
	t.Helper()
	c, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{Subprotocols: []string{proto}, HTTPHeader: header})
	if err != nil {
		t.Fatal(err)
	}
	w := &wsClient{c: c, proto: proto}
	init := map[string]any{"type": "connection_init"}
	if payload != nil {
		init["payload"] = payload
	}
	if err := w.send(ctx, init); err != nil {
		t.Fatal(err)
	}
	m, err := w.read(ctx)
	return w, m, err
}

// dialInit is initWS that must be acknowledged.
func dialInit(t *testing.T, ctx context.Context, url, proto string, payload map[string]any) *wsClient {
	t.Helper()
	w, m, err := initWS(t, ctx, url, proto, nil, payload)
	if err != nil || m.Type != "connection_ack" {
		t.Fatalf("connection_init: %s %s, %v; want connection_ack", m.Type, m.Payload, err)
	}
	return w
}

func TestWebSocketAuthentication(t *testing.T) {
	e := newLiveEnv(t, graph.Config{RequireAuth: true})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	key := newKey(t, e.keys, "watcher", auth.RoleViewer, "")
	revoked := newKey(t, e.keys, "old", auth.RoleViewer, "")
	id, _, err := auth.ParseKey(revoked)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.keys.Revoke(ctx, id); err != nil {
		t.Fatal(err)
	}
	jobID := e.createJob(t, "WSA-1")

	for _, proto := range []string{livetest.TransportWS, livetest.LegacyWS} {
		t.Run(proto, func(t *testing.T) {
			accepted := func(t *testing.T, w *wsClient) {
				t.Helper()
				defer w.c.CloseNow()
				w.subscribe(t, ctx, "1", progressSub, map[string]any{"id": jobID})
				m := w.next(t, ctx)
				if m.Type != "next" || !strings.Contains(string(m.Payload), `"status":"queued"`) {
					t.Fatalf("got %s %s, want the job's state", m.Type, m.Payload)
				}
			}
			t.Run("key in connection_init as Authorization", func(t *testing.T) {
				accepted(t, dialInit(t, ctx, e.wsURL(), proto, map[string]any{"Authorization": "Bearer " + key}))
			})
			t.Run("key in connection_init as apiKey", func(t *testing.T) {
				accepted(t, dialInit(t, ctx, e.wsURL(), proto, map[string]any{"apiKey": key}))
			})
			t.Run("key on the upgrade request", func(t *testing.T) {
				w, m, err := initWS(t, ctx, e.wsURL(), proto, http.Header{"Authorization": {"Bearer " + key}}, nil)
				if err != nil || m.Type != "connection_ack" {
					t.Fatalf("%s %s, %v", m.Type, m.Payload, err)
				}
				accepted(t, w)
			})
			for name, tc := range map[string]struct {
				payload map[string]any
				msg     string
			}{
				"no key":      {nil, "an API key is required"},
				"empty init":  {map[string]any{}, "an API key is required"},
				"bad key":     {map[string]any{"Authorization": "Bearer oik_nope"}, "invalid or revoked API key"},
				"revoked key": {map[string]any{"apiKey": revoked}, "invalid or revoked API key"},
			} {
				t.Run(name+" is refused", func(t *testing.T) {
					w, m, err := initWS(t, ctx, e.wsURL(), proto, nil, tc.payload)
					defer w.c.CloseNow()
					if proto == livetest.LegacyWS {
						// graphql-ws: a connection_error saying why, then the close.
						if err != nil || m.Type != "connection_error" || !strings.Contains(string(m.Payload), tc.msg) {
							t.Fatalf("got %s %s, %v; want connection_error %q", m.Type, m.Payload, err, tc.msg)
						}
						_, err = w.read(ctx)
					}
					var ce websocket.CloseError
					if !errors.As(err, &ce) || ce.Code != 4403 || !strings.Contains(ce.Reason, tc.msg) {
						t.Fatalf("got %s %s, %v; want closed with 4403 %q", m.Type, m.Payload, err, tc.msg)
					}
				})
			}
		})
	}
}

// TestWebSocketAuthOptional: with an authenticator but RequireAuth off, a connection
// without a key runs as auth.Local and a bad key is still refused; without an
// authenticator (authentication off) every connection runs as auth.Local.
func TestWebSocketAuthOptional(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	const admin = `subscription { ocrInvoiceJobUpdated { id } }`
	for name, cfg := range map[string]graph.Config{"optional": {Authenticator: useKeys}, "off": {}} {
		t.Run(name, func(t *testing.T) {
			e := newLiveEnv(t, cfg)
			w := dialInit(t, ctx, e.wsURL(), livetest.TransportWS, nil)
			defer w.c.CloseNow()
			w.subscribe(t, ctx, "1", admin, nil)
			// The subscription starts on the server after the message is read: a job
			// created before that is not told. Create jobs until one is.
			got := make(chan livetest.Message, 1)
			go func() {
				m, _ := w.read(ctx)
				got <- m
			}()
			var m livetest.Message
			for i := 0; ; i++ {
				e.createJob(t, fmt.Sprintf("OPT-%s-%d", name, i))
				select {
				case m = <-got:
				case <-time.After(200 * time.Millisecond):
					continue
				}
				break
			}
			if m.Type != "next" || strings.Contains(string(m.Payload), "errors") {
				t.Fatalf("got %s %s", m.Type, m.Payload)
			}
			bad, m, err := initWS(t, ctx, e.wsURL(), livetest.TransportWS, nil, map[string]any{"apiKey": "oik_nope"})
			defer bad.c.CloseNow()
			var ce websocket.CloseError
			switch {
			case name == "off" && (err != nil || m.Type != "connection_ack"):
				t.Fatalf("auth off: a key in connection_init is ignored, got %s %v", m.Type, err)
			case name == "optional" && (!errors.As(err, &ce) || ce.Code != 4403):
				t.Fatalf("optional: bad key got %s %v, want closed 4403", m.Type, err)
			}
		})
	}
}
