package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"mime"
	"net/http"
	"strconv"
	"sync/atomic"

	"github.com/ocrinvoice/ocrinvoice/internal/auth"
)

// MaxBatchOperations is the largest batched request (a JSON array of operations, as
// graphql-request's batchRequests and Apollo's BatchHttpLink send): a larger one is
// refused whole (400, code BAD_REQUEST) before any of its operations runs.
const MaxBatchOperations = 20

// batches serves a POST whose JSON body is an array of operations: each runs as if it
// had been sent on its own (the same policy, depth, cost and size limits apply to each),
// in order, and the answer is the JSON array of their answers, in the same order, with
// HTTP 200. The server's rate limit counted the request once; every further operation is
// counted with allow (when the caller has a key), and one over the rate is answered with
// RATE_LIMITED and extensions.retryAfter in its place, the others still running.
//
// It also checks that a single operation's body is an object whose members have the
// types of the GraphQL-over-HTTP request (query and operationName strings, variables and
// extensions objects), so that a malformed body gets a short BAD_REQUEST, never a
// decoder's message naming Go types. Its input is a body that checkBody read and found
// to be JSON.
func batches(next http.Handler, allow OperationLimiter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.Body == nil || r.Header.Get("Upgrade") != "" {
			next.ServeHTTP(w, r)
			return
		}
		if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
			next.ServeHTTP(w, r) // gqlgen's POST and SSE transports take JSON only
			return
		}
		var body bytes.Buffer
		if _, err := body.ReadFrom(r.Body); err != nil {
			writeError(w, r, http.StatusBadRequest, "BAD_REQUEST", "could not read the request body")
			return
		}
		raw := bytes.TrimSpace(body.Bytes())
		if len(raw) == 0 || raw[0] != '[' {
			if len(raw) > 0 {
				if msg := checkParams(raw); msg != "" {
					writeError(w, r, http.StatusBadRequest, "BAD_REQUEST", msg)
					return
				}
			}
			r.Body = nopBody(raw)
			next.ServeHTTP(w, r)
			return
		}
		var ops []json.RawMessage
		if err := json.Unmarshal(raw, &ops); err != nil {
			writeError(w, r, http.StatusBadRequest, "BAD_REQUEST", "the request body is not valid JSON")
			return
		}
		switch {
		case isSSE(r):
			writeError(w, r, http.StatusBadRequest, "BAD_REQUEST", "a batch of operations cannot be answered as an event stream; send each subscription on its own")
			return
		case len(ops) == 0:
			writeError(w, r, http.StatusBadRequest, "BAD_REQUEST", "the batch holds no operation")
			return
		case len(ops) > MaxBatchOperations:
			writeError(w, r, http.StatusBadRequest, "BAD_REQUEST", fmt.Sprintf("a batch holds at most %d operations; this one has %d", MaxBatchOperations, len(ops)))
			return
		}
		p, hasKey := auth.FromContext(r.Context())
		hasKey = hasKey && p.KeyID != ""
		answers := make([]json.RawMessage, len(ops))
		for i, op := range ops {
			if msg := checkParams(op); msg != "" {
				answers[i] = errorAnswer(r, "BAD_REQUEST", fmt.Sprintf("operation %d of the batch: %s", i, msg), nil)
				continue
			}
			if i > 0 && allow != nil && hasKey {
				if ok, retry := allow(r.Context(), p); !ok {
					secs := max(1, int(math.Ceil(retry.Seconds())))
					answers[i] = errorAnswer(r, "RATE_LIMITED", fmt.Sprintf("rate limit exceeded; retry in %d s", secs), map[string]any{"retryAfter": secs})
					continue
				}
			}
			// Each answer is its own: one operation's outage does not make the batch a 503.
			sub := r.Clone(context.WithValue(r.Context(), unavailableKey{}, new(atomic.Bool)))
			sub.Body = nopBody(op)
			sub.ContentLength = int64(len(op))
			sub.Header.Set("Content-Length", strconv.Itoa(len(op)))
			rec := &bufferedResponse{header: http.Header{}}
			next.ServeHTTP(rec, sub)
			if out := bytes.TrimSpace(rec.body.Bytes()); json.Valid(out) && len(out) > 0 && out[0] == '{' {
				answers[i] = out
			} else {
				answers[i] = errorAnswer(r, "INTERNAL", "internal error", nil)
			}
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_ = json.NewEncoder(w).Encode(answers)
	})
}

// checkParams returns why raw is not a GraphQL-over-HTTP request object, or "".
func checkParams(raw []byte) string {
	var members map[string]json.RawMessage
	if len(raw) == 0 || raw[0] != '{' || json.Unmarshal(raw, &members) != nil {
		return "the request must be a JSON object with a query (or an array of such objects, a batch)"
	}
	for name, v := range members {
		v = bytes.TrimSpace(v)
		null := bytes.Equal(v, []byte("null"))
		switch name {
		case "query", "operationName":
			if !null && v[0] != '"' {
				return fmt.Sprintf("the member %s must be a string", name)
			}
		case "variables", "extensions":
			if !null && v[0] != '{' {
				return fmt.Sprintf("the member %s must be an object", name)
			}
		}
	}
	return ""
}

// errorAnswer is the JSON of a GraphQL answer holding one error with code (and extra
// extensions), for one operation of a batch.
func errorAnswer(r *http.Request, code, msg string, extra map[string]any) json.RawMessage {
	ext := withRequestID(r.Context(), map[string]any{"code": code})
	for k, v := range extra {
		ext[k] = v
	}
	b, _ := json.Marshal(map[string]any{"errors": []map[string]any{{"message": msg, "extensions": ext}}})
	return b
}

// bufferedResponse keeps the answer to one operation of a batch.
type bufferedResponse struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (b *bufferedResponse) Header() http.Header { return b.header }

func (b *bufferedResponse) WriteHeader(status int) {
	if b.status == 0 {
		b.status = status
	}
}

func (b *bufferedResponse) Write(p []byte) (int, error) { return b.body.Write(p) }

type readCloser struct{ *bytes.Reader }

func (readCloser) Close() error { return nil }

func nopBody(b []byte) readCloser { return readCloser{bytes.NewReader(b)} }
