package graph_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ocrinvoice/ocrinvoice/graph"
	"github.com/ocrinvoice/ocrinvoice/internal/auth"
	"github.com/ocrinvoice/ocrinvoice/internal/database/databasetest"
	"github.com/ocrinvoice/ocrinvoice/internal/redisproc/redistest"
	"github.com/ocrinvoice/ocrinvoice/internal/reqid"
)

// explosion is a document whose fragments each spread the next one twice, n deep: it
// expands to 2^n fields although it is a few lines long.
func explosion(n int) string {
	var b strings.Builder
	b.WriteString("query { ocrTemplates { ...F0 } }\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "fragment F%d on OcrTemplateConnection { ...F%d ...F%d }\n", i, i+1, i+1)
	}
	fmt.Fprintf(&b, "fragment F%d on OcrTemplateConnection { totalCount }\n", n)
	return b.String()
}

func aliases(n int) string {
	var b strings.Builder
	b.WriteString("{")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, " a%d: ocrTemplates { totalCount }", i)
	}
	b.WriteString(" }")
	return b.String()
}

func TestAliasAndFieldLimits(t *testing.T) {
	c := databasetest.Open(t)
	e := newEnv(t, c, nil, graph.Config{MaxAliases: 3, MaxFields: 10})
	t.Run("aliases up to the limit", func(t *testing.T) {
		e.ok(aliases(3), nil, nil)
	})
	t.Run("aliases over the limit", func(t *testing.T) {
		r := e.fails(aliases(4), nil, "ALIAS_LIMIT_EXCEEDED")
		if !strings.Contains(r.Errors[0].Message, "3 aliases") {
			t.Errorf("message %q does not say the limit", r.Errors[0].Message)
		}
	})
	t.Run("aliases in a fragment count each time it is spread", func(t *testing.T) {
		q := `query { x: ocrTemplates { ...A } y: ocrTemplates { ...A } } fragment A on OcrTemplateConnection { n: totalCount }`
		e.fails(q, nil, "ALIAS_LIMIT_EXCEEDED") // x, y, and n twice
	})
	t.Run("no alias at all when negative", func(t *testing.T) {
		none := newEnv(t, c, nil, graph.Config{MaxAliases: -1})
		none.ok(`{ ocrTemplates { totalCount } }`, nil, nil)
		none.fails(aliases(1), nil, "ALIAS_LIMIT_EXCEEDED")
	})
	t.Run("fields up to the limit", func(t *testing.T) {
		e.ok(`{ ocrTemplates { totalCount pageInfo { hasNextPage hasPreviousPage startCursor } edges { cursor node { id } } } }`, nil, nil) // 10
	})
	t.Run("fields over the limit", func(t *testing.T) {
		r := e.fails(`{ ocrTemplates { totalCount pageInfo { hasNextPage hasPreviousPage startCursor } edges { cursor node { id name } } } }`, nil, "FIELD_LIMIT_EXCEEDED") // 11
		if !strings.Contains(r.Errors[0].Message, "10 fields") {
			t.Errorf("message %q does not say the limit", r.Errors[0].Message)
		}
	})
	t.Run("fragments count where they are spread", func(t *testing.T) {
		q := `query { a: ocrTemplates { ...P } b: ocrTemplates { ...P } c: ocrTemplates { ...P } } fragment P on OcrTemplateConnection { pageInfo { hasNextPage hasPreviousPage startCursor } }`
		e.fails(q, nil, "FIELD_LIMIT_EXCEEDED") // 3 + 3*4; the text has 7
	})
	t.Run("a fragment explosion is refused at once", func(t *testing.T) {
		big := newEnv(t, c, nil, graph.Config{}) // the defaults: 500 fields
		start := time.Now()
		big.fails(explosion(40), nil, "FIELD_LIMIT_EXCEEDED")
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("refusing 2^40 fields took %v", d)
		}
	})
	t.Run("a fragment cycle is refused", func(t *testing.T) {
		q := `query { ocrTemplates { ...A } } fragment A on OcrTemplateConnection { totalCount ...B } fragment B on OcrTemplateConnection { ...A }`
		e.fails(q, nil, "GRAPHQL_VALIDATION_FAILED")
	})
}

// apqRequest is a POST with the persisted-query extension of query's hash, and the
// query itself unless hashOnly.
func apqRequest(query string, hashOnly bool) *http.Request {
	sum := sha256.Sum256([]byte(query))
	body := map[string]any{"extensions": map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": hex.EncodeToString(sum[:])}}}
	if !hashOnly {
		body["query"] = query
	}
	b, _ := json.Marshal(body)
	req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	return req
}

// uniquePrefix is a Redis key prefix of this test alone.
func uniquePrefix(t *testing.T) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return "test:" + strings.ReplaceAll(t.Name(), "/", ":") + ":" + hex.EncodeToString(b) + ":"
}

func TestQuerySizeAndPersistedQueries(t *testing.T) {
	c := databasetest.Open(t)
	rs := redistest.Start(t)
	rdb := redis.NewClient(&redis.Options{Addr: rs.Addr})
	t.Cleanup(func() { _ = rdb.Close() })
	prefix := uniquePrefix(t)
	cache := func() *graph.RedisAPQCache {
		return graph.NewRedisAPQCache(rdb, graph.APQCacheOptions{Prefix: prefix, Logger: quiet()})
	}
	const query = `query Templates { ocrTemplates { totalCount } }`

	t.Run("round trip through Redis, shared by two handlers", func(t *testing.T) {
		one := newEnv(t, c, nil, graph.Config{APQCache: cache()})
		r := one.serve(apqRequest(query, true))
		if r.code(0) != "PERSISTED_QUERY_NOT_FOUND" || r.Errors[0].Message != "PersistedQueryNotFound" {
			t.Fatalf("unknown hash: %+v, want PersistedQueryNotFound", r.Errors)
		}
		if r = one.serve(apqRequest(query, false)); len(r.Errors) > 0 || !strings.Contains(string(r.Data), `"totalCount":1`) {
			t.Fatalf("register: %s %+v", r.Data, r.Errors)
		}
		if r = one.serve(apqRequest(query, true)); len(r.Errors) > 0 || !strings.Contains(string(r.Data), `"totalCount":1`) {
			t.Fatalf("hash only: %s %+v", r.Data, r.Errors)
		}
		two := newEnv(t, c, nil, graph.Config{APQCache: cache()})
		if r = two.serve(apqRequest(query, true)); len(r.Errors) > 0 || !strings.Contains(string(r.Data), `"totalCount":1`) {
			t.Fatalf("hash only on a second handler: %s %+v", r.Data, r.Errors)
		}
		sum := sha256.Sum256([]byte(query))
		key := prefix + hex.EncodeToString(sum[:])
		if got, err := rdb.Get(context.Background(), key).Result(); err != nil || got != query {
			t.Fatalf("Redis %s = %q, %v", key, got, err)
		}
		if ttl := rdb.TTL(context.Background(), key).Val(); ttl <= 23*time.Hour || ttl > graph.DefaultAPQTTL {
			t.Errorf("TTL %v, want about %v", ttl, graph.DefaultAPQTTL)
		}
		other := newEnv(t, c, nil, graph.Config{APQCache: graph.NewRedisAPQCache(rdb, graph.APQCacheOptions{Prefix: uniquePrefix(t), Logger: quiet()})})
		if r = other.serve(apqRequest(query, true)); r.code(0) != "PERSISTED_QUERY_NOT_FOUND" {
			t.Fatalf("another prefix: %+v, want not found", r.Errors)
		}
	})
	t.Run("a hash that is not the query's is refused", func(t *testing.T) {
		e := newEnv(t, c, nil, graph.Config{APQCache: cache()})
		b, _ := json.Marshal(map[string]any{"query": `{ ocrInvoiceJobs { totalCount } }`, "extensions": map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": strings.Repeat("0", 64)}}})
		req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(b))
		req.Header.Set("Content-Type", "application/json")
		if r := e.serve(req); len(r.Errors) == 0 {
			t.Fatal("mismatched hash accepted")
		}
	})
	t.Run("Redis down: a miss, the full query still works", func(t *testing.T) {
		down := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", DialTimeout: 200 * time.Millisecond, MaxRetries: -1})
		t.Cleanup(func() { _ = down.Close() })
		e := newEnv(t, c, nil, graph.Config{APQCache: graph.NewRedisAPQCache(down, graph.APQCacheOptions{Prefix: prefix, Logger: quiet()})})
		if r := e.serve(apqRequest(query, true)); r.code(0) != "PERSISTED_QUERY_NOT_FOUND" {
			t.Fatalf("hash only: %+v", r.Errors)
		}
		if r := e.serve(apqRequest(query, false)); len(r.Errors) > 0 {
			t.Fatalf("full query: %+v", r.Errors)
		}
	})

	t.Run("query over the size limit", func(t *testing.T) {
		small := newEnv(t, c, nil, graph.Config{MaxQueryBytes: 100, APQCache: cache()})
		small.ok(query, nil, nil)
		long := `query Long { ocrTemplates { totalCount } }` + strings.Repeat(" ", 100)
		r := small.fails(long, nil, "TOO_LARGE")
		if !strings.Contains(r.Errors[0].Message, "100") {
			t.Errorf("message %q does not say the limit", r.Errors[0].Message)
		}
		// Not stored when sent as a persisted query.
		if r := small.serve(apqRequest(long, false)); r.code(0) != "TOO_LARGE" {
			t.Fatalf("long persisted query: %+v", r.Errors)
		}
		sum := sha256.Sum256([]byte(long))
		if n := rdb.Exists(context.Background(), prefix+hex.EncodeToString(sum[:])).Val(); n != 0 {
			t.Error("a query over the limit was stored")
		}
		// A hash resolving to a long query (stored by a server of a larger limit) is
		// refused too.
		large := newEnv(t, c, nil, graph.Config{APQCache: cache()})
		if r := large.serve(apqRequest(long, false)); len(r.Errors) > 0 {
			t.Fatalf("register on the larger server: %+v", r.Errors)
		}
		if r := small.serve(apqRequest(long, true)); r.code(0) != "TOO_LARGE" {
			t.Fatalf("hash of a long query: %+v, want TOO_LARGE", r.Errors)
		}
	})
}

func TestErrorsCarryRequestID(t *testing.T) {
	e := newEnv(t, databasetest.Open(t), nil, graph.Config{})
	for name, req := range map[string]func() *http.Request{
		"resolver error": func() *http.Request {
			b, _ := json.Marshal(map[string]any{"query": `{ ocrInvoiceJob(id: "0123456789abcdef01234567") { id } }`})
			return httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(b))
		},
		"validation error": func() *http.Request {
			return httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(`{"query": "{ nope }"}`))
		},
		"malformed body": func() *http.Request {
			return httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(`{"query": `))
		},
	} {
		t.Run(name, func(t *testing.T) {
			r := req()
			r.Header.Set("Content-Type", "application/json")
			r = r.WithContext(reqid.With(r.Context(), "req-123"))
			got := e.serve(r)
			if len(got.Errors) == 0 || got.Errors[0].Extensions["requestId"] != "req-123" {
				t.Fatalf("errors %+v, want extensions.requestId req-123", got.Errors)
			}
		})
	}
	t.Run("refused by the policy", func(t *testing.T) {
		b, _ := json.Marshal(map[string]any{"query": `{ ocrTemplates { totalCount } }`})
		r := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(b))
		r.Header.Set("Content-Type", "application/json")
		r = r.WithContext(reqid.With(r.Context(), "req-456"))
		got := e.as(nil).serve(r)
		if got.code(0) != "UNAUTHENTICATED" || got.Errors[0].Extensions["requestId"] != "req-456" {
			t.Fatalf("errors %+v", got.Errors)
		}
	})
}

// A key may persist only its hourly quota of new queries (the queue's Redis must not
// fill up with variants of one query); others and the local principal are not affected.
func TestPersistedQueryQuota(t *testing.T) {
	rs := redistest.Start(t)
	rdb := redis.NewClient(&redis.Options{Addr: rs.Addr})
	t.Cleanup(func() { _ = rdb.Close() })
	cache := graph.NewRedisAPQCache(rdb, graph.APQCacheOptions{Prefix: uniquePrefix(t), Logger: quiet(), Quota: 2})
	hash := func(q string) string {
		sum := sha256.Sum256([]byte(q))
		return hex.EncodeToString(sum[:])
	}
	as := func(id string) context.Context {
		return auth.WithPrincipal(context.Background(), auth.Principal{KeyID: id, Role: auth.RoleViewer})
	}
	queries := []string{"{ a }", "{ a  }", "{ a   }"}
	for _, q := range queries {
		cache.Add(as("k1"), hash(q), q)
	}
	for i, q := range queries {
		_, ok := cache.Get(context.Background(), hash(q))
		if want := i < 2; ok != want {
			t.Errorf("query %d stored %v, want %v (quota 2)", i, ok, want)
		}
	}
	cache.Add(as("k2"), hash("{ b }"), "{ b }")
	cache.Add(auth.WithPrincipal(context.Background(), auth.Local), hash("{ c }"), "{ c }")
	for _, q := range []string{"{ b }", "{ c }"} {
		if _, ok := cache.Get(context.Background(), hash(q)); !ok {
			t.Errorf("%s not stored: another key's quota, or the local principal, was counted", q)
		}
	}
}
