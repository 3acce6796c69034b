package graph_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/ocrinvoice/ocrinvoice/graph"
	"github.com/ocrinvoice/ocrinvoice/internal/apikeys"
	"github.com/ocrinvoice/ocrinvoice/internal/apperr"
	"github.com/ocrinvoice/ocrinvoice/internal/auth"
	"github.com/ocrinvoice/ocrinvoice/internal/database/databasetest"
	"github.com/ocrinvoice/ocrinvoice/internal/live/livetest"
)

const createKey = `mutation($in: CreateApiKeyInput!) {
  createApiKey(input: $in) { key apiKey { id name role owner createdAt revokedAt lastUsedAt rateLimit uploadConcurrency } }
}`

type apiKeyOut struct {
	ID, Name, Role, Owner string
	CreatedAt             time.Time
	RevokedAt, LastUsedAt *time.Time
	RateLimit             *float64
	UploadConcurrency     *int
}

func TestAPIKeyManagement(t *testing.T) {
	c := databasetest.Open(t)
	keys := apikeys.New(c, quiet())
	base := newEnv(t, c, nil, graph.Config{APIKeys: keys})
	adm := base.as(&admin)
	ctx := context.Background()

	var created struct {
		CreateApiKey struct {
			Key    string
			APIKey apiKeyOut `json:"apiKey"`
		}
	}
	r := adm.do(createKey, map[string]any{"in": map[string]any{"name": "ci", "role": "submitter", "owner": "team-z", "rateLimit": 5, "uploadConcurrency": 2}})
	if len(r.Errors) > 0 {
		t.Fatalf("createApiKey: %+v", r.Errors)
	}
	if strings.Contains(strings.ToLower(string(r.Data)), "hash") {
		t.Errorf("the answer mentions the hash: %s", r.Data)
	}
	if err := json.Unmarshal(r.Data, &created); err != nil {
		t.Fatal(err)
	}
	k := created.CreateApiKey
	adm.ok(createKey, map[string]any{"in": map[string]any{"name": "ci-2", "role": "viewer"}}, &created)
	viewerKey := created.CreateApiKey
	if !strings.HasPrefix(k.Key, auth.KeyPrefix) || len(k.Key) != auth.KeyLen {
		t.Fatalf("key %q", k.Key)
	}
	if a := k.APIKey; a.Name != "ci" || a.Role != "submitter" || a.Owner != "team-z" || a.RevokedAt != nil || a.RateLimit == nil || *a.RateLimit != 5 || a.UploadConcurrency == nil || *a.UploadConcurrency != 2 || a.CreatedAt.IsZero() {
		t.Fatalf("apiKey %+v", a)
	}
	p, err := keys.Authenticate(ctx, k.Key)
	if err != nil || p.Role != auth.RoleSubmitter || p.Owner != "team-z" || p.KeyID != k.APIKey.ID {
		t.Fatalf("the new key authenticates as %+v, %v", p, err)
	}

	t.Run("apiKeys lists them, never a secret", func(t *testing.T) {
		var out struct{ ApiKeys []apiKeyOut }
		adm.ok(`{ apiKeys { id name role owner } }`, nil, &out)
		if len(out.ApiKeys) != 2 || out.ApiKeys[0].Name != "ci-2" || out.ApiKeys[1].Name != "ci" {
			t.Fatalf("apiKeys %+v, want ci-2 then ci (newest first)", out.ApiKeys)
		}
	})
	t.Run("only admins", func(t *testing.T) {
		for _, who := range []*auth.Principal{&submitter, &viewer} {
			e := base.as(who)
			e.fails(`{ apiKeys { id } }`, nil, "FORBIDDEN")
			e.fails(createKey, map[string]any{"in": map[string]any{"name": "x", "role": "admin"}}, "FORBIDDEN")
			e.fails(`mutation($id: ID!) { revokeApiKey(id: $id) { id } }`, map[string]any{"id": k.APIKey.ID}, "FORBIDDEN")
		}
		base.as(nil).fails(`{ apiKeys { id } }`, nil, "UNAUTHENTICATED")
		if n, _ := keys.CountActive(ctx, ""); n != 2 {
			t.Errorf("%d active keys after refused attempts, want 2", n)
		}
	})
	t.Run("invalid input", func(t *testing.T) {
		r := adm.fails(createKey, map[string]any{"in": map[string]any{"name": " ", "role": "viewer"}}, "BAD_USER_INPUT")
		if !strings.Contains(r.Errors[0].Message+string(mustJSON(r.Errors[0].Extensions)), "name") {
			t.Errorf("error does not name the field: %+v", r.Errors[0])
		}
		adm.fails(createKey, map[string]any{"in": map[string]any{"name": "x", "role": "root"}}, "GRAPHQL_VALIDATION_FAILED")
		adm.fails(`mutation { revokeApiKey(id: "0123456789abcdef01234567") { id } }`, nil, "NOT_FOUND")
		adm.fails(`mutation { revokeApiKey(id: "nope") { id } }`, nil, "BAD_USER_INPUT")
	})
	t.Run("a revoked key stops authenticating", func(t *testing.T) {
		var out struct{ RevokeApiKey apiKeyOut }
		adm.ok(`mutation($id: ID!) { revokeApiKey(id: $id) { id revokedAt } }`, map[string]any{"id": k.APIKey.ID}, &out)
		if out.RevokeApiKey.RevokedAt == nil {
			t.Fatalf("revokedAt not set: %+v", out.RevokeApiKey)
		}
		if _, err := keys.Authenticate(ctx, k.Key); apperr.KindOf(err) != apperr.KindUnauthenticated {
			t.Fatalf("revoked key authenticates: %v", err)
		}
		var active, all struct{ ApiKeys []apiKeyOut }
		adm.ok(`{ apiKeys { id } }`, nil, &active)
		adm.ok(`{ apiKeys(includeRevoked: true) { id revokedAt } }`, nil, &all)
		if len(active.ApiKeys) != 1 || len(all.ApiKeys) != 2 {
			t.Errorf("active %d, all %d; want 1 and 2", len(active.ApiKeys), len(all.ApiKeys))
		}
		if _, err := keys.Authenticate(ctx, viewerKey.Key); err != nil {
			t.Errorf("another key stopped working: %v", err)
		}
	})
	t.Run("unavailable without a key store", func(t *testing.T) {
		off := newEnv(t, c, nil, graph.Config{}).as(&admin)
		off.fails(`{ apiKeys { id } }`, nil, "UNAVAILABLE")
		off.fails(createKey, map[string]any{"in": map[string]any{"name": "x", "role": "viewer"}}, "UNAVAILABLE")
	})
}

// TestRevokedKeyOverTheWire: once revoked through GraphQL, a key is refused by the HTTP
// middleware and in connection_init.
func TestRevokedKeyOverTheWire(t *testing.T) {
	e := newLiveEnv(t, graph.Config{RequireAuth: true})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	adminKey := newKey(t, e.keys, "root", auth.RoleAdmin, "")
	victim := newKey(t, e.keys, "victim", auth.RoleViewer, "")
	id, _, err := auth.ParseKey(victim)
	if err != nil {
		t.Fatal(err)
	}
	post := func(key, query string, vars map[string]any) (int, string) {
		b, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, e.srv.URL+"/graphql", bytes.NewReader(b))
		req.Header.Set("Content-Type", "application/json")
		resp, err := bearerClient(key).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	if code, body := post(victim, `{ ocrTemplates { totalCount } }`, nil); code != http.StatusOK || strings.Contains(body, "errors") {
		t.Fatalf("before: %d %s", code, body)
	}
	dialInit(t, ctx, e.wsURL(), livetest.TransportWS, map[string]any{"apiKey": victim}).c.CloseNow()
	if code, body := post(victim, `mutation($id: ID!) { revokeApiKey(id: $id) { id } }`, map[string]any{"id": id}); !strings.Contains(body, "FORBIDDEN") {
		t.Fatalf("a viewer revoked a key: %d %s", code, body)
	}
	if code, body := post(adminKey, `mutation($id: ID!) { revokeApiKey(id: $id) { id revokedAt } }`, map[string]any{"id": id}); code != http.StatusOK || !strings.Contains(body, `"revokedAt":"`) {
		t.Fatalf("revoke: %d %s", code, body)
	}
	if code, body := post(victim, `{ ocrTemplates { totalCount } }`, nil); code != http.StatusUnauthorized {
		t.Fatalf("after: %d %s, want 401", code, body)
	}
	w, m, err := initWS(t, ctx, e.wsURL(), livetest.TransportWS, nil, map[string]any{"apiKey": victim})
	defer w.c.CloseNow()
	var ce websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != 4403 {
		t.Fatalf("connection_init with a revoked key: %s %v, want closed 4403", m.Type, err)
	}
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}
