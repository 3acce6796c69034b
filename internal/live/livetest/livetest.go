// Package livetest has small clients of the live streams for tests: GraphQL
// subscriptions over WebSocket (graphql-transport-ws and the legacy graphql-ws) and over
// Server-Sent Events, and a reader of text/event-stream bodies (GraphQL SSE and the REST
// job event stream).
package livetest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/coder/websocket"
)

// The GraphQL WebSocket subprotocols.
const (
	TransportWS = "graphql-transport-ws"
	LegacyWS    = "graphql-ws"
)

// Message is one server message of a subscription, the same for both subprotocols: Type
// is "next" (graphql-ws "data"), "error", "complete", "connection_ack" or
// "connection_error"; keep-alives and pings are answered and not returned.
type Message struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// Response is the payload of a "next" message (and of an SSE "next" event).
type Response struct {
	Data   json.RawMessage `json:"data"`
	Errors []struct {
		Message    string         `json:"message"`
		Extensions map[string]any `json:"extensions"`
	} `json:"errors"`
}

// Code returns extensions.code of the first error, "" without errors.
func (r Response) Code() string {
	if len(r.Errors) == 0 {
		return ""
	}
	c, _ := r.Errors[0].Extensions["code"].(string)
	return c
}

// WS is a GraphQL WebSocket client connection.
type WS struct {
	conn     *websocket.Conn
	protocol string
	mu       sync.Mutex // serialises writes
}

// DialWS opens a WebSocket to url (ws://host/graphql) with subprotocol protocol and
// header (may be nil). It does not send connection_init: call Init.
func DialWS(ctx context.Context, url, protocol string, header http.Header) (*WS, *http.Response, error) {
	c, resp, err := websocket.Dial(ctx, url, &websocket.DialOptions{Subprotocols: []string{protocol}, HTTPHeader: header})
	if err != nil {
		return nil, resp, err
	}
	c.SetReadLimit(16 << 20)
	if c.Subprotocol() != protocol {
		_ = c.CloseNow()
		return nil, resp, fmt.Errorf("server chose subprotocol %q, want %q", c.Subprotocol(), protocol)
	}
	return &WS{conn: c, protocol: protocol}, resp, nil
}

// Protocol is the negotiated subprotocol.
func (w *WS) Protocol() string { return w.protocol }

func (w *WS) send(ctx context.Context, m any) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.conn.Write(ctx, websocket.MessageText, b)
}

// Init sends connection_init and waits for connection_ack.
func (w *WS) Init(ctx context.Context) error {
	if err := w.send(ctx, map[string]any{"type": "connection_init"}); err != nil {
		return err
	}
	m, err := w.Next(ctx)
	if err != nil {
		return err
	}
	if m.Type != "connection_ack" {
		return fmt.Errorf("got %s %s, want connection_ack", m.Type, m.Payload)
	}
	return nil
}

// Subscribe starts operation id.
func (w *WS) Subscribe(ctx context.Context, id, query string, vars map[string]any) error {
	typ := "subscribe"
	if w.protocol == LegacyWS {
		typ = "start"
	}
	return w.send(ctx, map[string]any{"id": id, "type": typ, "payload": map[string]any{"query": query, "variables": vars}})
}

// Stop ends operation id from the client side.
func (w *WS) Stop(ctx context.Context, id string) error {
	typ := "complete"
	if w.protocol == LegacyWS {
		typ = "stop"
	}
	return w.send(ctx, map[string]any{"id": id, "type": typ})
}

// Next returns the next message that is not a keep-alive; pings are answered with pongs.
func (w *WS) Next(ctx context.Context) (Message, error) {
	for {
		_, b, err := w.conn.Read(ctx)
		if err != nil {
			return Message{}, err
		}
		var m Message
		if err := json.Unmarshal(b, &m); err != nil {
			return Message{}, fmt.Errorf("decode %s: %w", b, err)
		}
		switch m.Type {
		case "ka", "pong":
			continue
		case "ping":
			if err := w.send(ctx, map[string]any{"type": "pong"}); err != nil {
				return Message{}, err
			}
			continue
		case "data":
			m.Type = "next"
		}
		return m, nil
	}
}

// Collect reads operation id's "next" payloads until its "complete" (or "error", whose
// payload is returned as err). It stops early when stop returns true for a response.
func (w *WS) Collect(ctx context.Context, id string, stop func(Response) bool) ([]Response, error) {
	var out []Response
	for {
		m, err := w.Next(ctx)
		if err != nil {
			return out, err
		}
		if m.ID != id {
			continue
		}
		switch m.Type {
		case "next":
			var r Response
			if err := json.Unmarshal(m.Payload, &r); err != nil {
				return out, err
			}
			out = append(out, r)
			if stop != nil && stop(r) {
				return out, nil
			}
		case "complete":
			return out, nil
		case "error":
			return out, fmt.Errorf("subscription error: %s", m.Payload)
		}
	}
}

// Close closes the connection normally.
func (w *WS) Close() error { return w.conn.Close(websocket.StatusNormalClosure, "") }

// CloseNow closes the connection without a close handshake.
func (w *WS) CloseNow() error { return w.conn.CloseNow() }

// Event is one Server-Sent Event.
type Event struct {
	ID, Event string
	Data      []byte
}

// ReadEvents reads text/event-stream events from r and calls fn with each until fn
// returns false or r ends. Comment lines are skipped.
func ReadEvents(r io.Reader, fn func(Event) bool) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	var ev Event
	var has bool
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if has && !fn(ev) {
				return nil
			}
			ev, has = Event{}, false
		case strings.HasPrefix(line, ":"):
		case strings.HasPrefix(line, "id:"):
			ev.ID, has = strings.TrimSpace(line[3:]), true
		case strings.HasPrefix(line, "event:"):
			ev.Event, has = strings.TrimSpace(line[6:]), true
		case strings.HasPrefix(line, "data:"):
			d := strings.TrimPrefix(line[5:], " ")
			if ev.Data != nil {
				ev.Data = append(ev.Data, '\n')
			}
			ev.Data, has = append(ev.Data, d...), true
		}
	}
	return sc.Err()
}

// PostSSE sends a GraphQL operation to url (http://host/graphql) asking for
// text/event-stream; the caller reads and closes the response body.
func PostSSE(ctx context.Context, client *http.Client, url, query string, vars map[string]any) (*http.Response, error) {
	b, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	return client.Do(req)
}

// CollectSSE reads GraphQL SSE "next" events from r until "complete" (or stop returns
// true for a response).
func CollectSSE(r io.Reader, stop func(Response) bool) ([]Response, error) {
	var out []Response
	var derr error
	completed := false
	err := ReadEvents(r, func(ev Event) bool {
		switch ev.Event {
		case "next":
			var resp Response
			if derr = json.Unmarshal(ev.Data, &resp); derr != nil {
				return false
			}
			out = append(out, resp)
			return stop == nil || !stop(resp)
		case "complete":
			completed = true
			return false
		}
		return true
	})
	if err == nil {
		err = derr
	}
	if err == nil && !completed && (stop == nil || len(out) == 0 || !stop(out[len(out)-1])) {
		err = errors.New("the stream ended without a complete event")
	}
	return out, err
}
