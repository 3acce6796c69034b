package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/ocrinvoice/ocrinvoice/internal/auth"
	"github.com/ocrinvoice/ocrinvoice/internal/live/livetest"
)

// The gaps between tenants, end to end through the binary with real keys of two owners
// (team-a, team-b) and an admin:
//   - a relation filter of team-b's (ocrTemplates / ocrJobGroups where hasJobsWith ...)
//     answers the same whether or not it matches team-a's jobs: no oracle;
//   - a template created for team-a is invisible to team-b (lists, gets, jobs);
//   - an admin's PUT without createdBy keeps the job's owner, who still reads it.
func TestTenantGapsEndToEnd(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	admin := createKey(t, dir, "--name", "ops", "--role", "admin")
	keyA := createKey(t, dir, "--name", "team-a", "--role", "submitter")
	keyB := createKey(t, dir, "--name", "team-b", "--role", "submitter")
	p := start(t, testEnv(t, map[string]string{"OCRINVOICE_AUTH": "apikey", "OCRINVOICE_DATA_DIR": dir}), "serve")

	rest := func(key, method, path string, body any) (int, map[string]any) {
		t.Helper()
		var b []byte
		if body != nil {
			b, _ = json.Marshal(body)
		}
		code, raw := p.authRequest(t, key, method, path, string(b))
		var out map[string]any
		if err := json.Unmarshal(raw, &out); err != nil {
			t.Fatalf("%s %s: %d %s", method, path, code, raw)
		}
		return code, out
	}
	gql := func(key, query string) string {
		t.Helper()
		b, _ := json.Marshal(map[string]any{"query": query})
		code, resp := p.authRequest(t, key, "POST", "/graphql", string(b))
		if code != http.StatusOK {
			t.Fatalf("GraphQL %d: %s", code, resp)
		}
		return string(resp)
	}

	job := map[string]any{"jobNumber": "ACME-7731", "documentName": "acme-secret.pdf", "documentUrl": "https://files.example.com/acme.pdf", "template": "generic"}
	code, created := rest(keyA, "POST", "/api/v1/ocr-invoice-jobs", job)
	if code != http.StatusCreated {
		t.Fatalf("team-a creates a job: %d %v", code, created)
	}
	jobID := created["data"].(map[string]any)["_id"].(string)

	t.Run("relation filters are no oracle", func(t *testing.T) {
		for _, q := range []string{
			`{ ocrTemplates(where: {hasJobsWith: {createdBy: "team-a", jobNumberContains: "%s"}}) { totalCount } }`,
			`{ ocrTemplates(where: {hasJobsWith: {search: "%s"}}) { totalCount } }`,
			`{ ocrTemplates(where: {hasJobsWith: {documentNameContains: "%s"}}) { totalCount } }`,
			`{ ocrJobGroups(where: {hasJobsWith: {jobNumberContains: "%s"}}) { totalCount } }`,
			`{ ocrInvoiceJobs(where: {hasTemplateWith: {hasJobsWith: {jobNumberContains: "%s"}}}) { totalCount } }`,
		} {
			hit, miss := strings.Replace(q, "%s", "ACME-77", 1), strings.Replace(q, "%s", "ZZZZ-99", 1)
			if a, b := gql(keyB, hit), gql(keyB, miss); a != b || strings.Contains(a, "errors") {
				t.Errorf("team-b tells team-a's job apart:\n  %s -> %s\n  %s -> %s", hit, a, miss, b)
			}
		}
		// The same filter does find the job for its owner.
		if got := gql(keyA, `{ ocrTemplates(where: {hasJobsWith: {jobNumberContains: "ACME-77"}}) { totalCount } }`); !strings.Contains(got, `"totalCount":1`) {
			t.Errorf("team-a's own filter: %s", got)
		}
	})

	t.Run("a template of team-a's is team-a's", func(t *testing.T) {
		code, tpl := rest(admin, "POST", "/api/v1/ocr-templates", map[string]any{"name": "acme-layout", "createdBy": "team-a", "pricePerPage": 0.5})
		if code != http.StatusCreated {
			t.Fatalf("admin creates a template for team-a: %d %v", code, tpl)
		}
		id := tpl["data"].(map[string]any)["_id"].(string)
		if code, _ := rest(keyA, "GET", "/api/v1/ocr-templates/"+id, nil); code != http.StatusOK {
			t.Errorf("team-a gets its template: %d", code)
		}
		if code, _ := rest(keyB, "GET", "/api/v1/ocr-templates/"+id, nil); code != http.StatusNotFound {
			t.Errorf("team-b gets team-a's template: %d", code)
		}
		if _, list := rest(keyB, "GET", "/api/v1/ocr-templates", nil); list["total"] != 1.0 {
			t.Errorf("team-b lists templates: %v (want generic only)", list)
		}
		if got := gql(keyB, `{ ocrTemplates { totalCount } }`); !strings.Contains(got, `"totalCount":1`) {
			t.Errorf("team-b counts templates over GraphQL: %s", got)
		}
		jobB := map[string]any{"jobNumber": "B-1", "documentName": "b.pdf", "documentUrl": "https://files.example.com/b.pdf", "template": "acme-layout"}
		if code, out := rest(keyB, "POST", "/api/v1/ocr-invoice-jobs", jobB); code != http.StatusBadRequest || !strings.Contains(mustString(out), "no template") {
			t.Errorf("team-b uses team-a's template: %d %v", code, out)
		}
		jobB["template"] = "acme-layout"
		jobB["jobNumber"] = "A-2"
		if code, out := rest(keyA, "POST", "/api/v1/ocr-invoice-jobs", jobB); code != http.StatusCreated {
			t.Errorf("team-a uses its template: %d %v", code, out)
		}
	})

	t.Run("an admin's PUT keeps the owner", func(t *testing.T) {
		put := map[string]any{"jobNumber": "ACME-7731", "documentName": "renamed.pdf", "documentUrl": "https://files.example.com/acme.pdf", "template": "generic"}
		code, out := rest(admin, "PUT", "/api/v1/ocr-invoice-jobs/"+jobID, put)
		if code != http.StatusOK {
			t.Fatalf("admin PUT: %d %v", code, out)
		}
		if got := out["data"].(map[string]any)["createdBy"]; got != "team-a" {
			t.Errorf("createdBy after an admin's PUT without it: %v", got)
		}
		if code, _ := rest(keyA, "GET", "/api/v1/ocr-invoice-jobs/"+jobID, nil); code != http.StatusOK {
			t.Errorf("team-a reads its job after the admin's PUT: %d", code)
		}
	})
}

func mustString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// Keys a GraphQL WebSocket sends in connection_init draw from the same per-address budget
// of failed authentications as keys in headers: past it, the connection is closed with
// 4429 before its key is looked up, a valid key too, and the address's REST requests get
// 429.
func TestWebSocketKeysDrawFromTheFailureBudget(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	good := createKey(t, dir, "--name", "watcher", "--role", "viewer")
	p := start(t, testEnv(t, map[string]string{"OCRINVOICE_AUTH": "apikey", "OCRINVOICE_DATA_DIR": dir,
		"OCRINVOICE_AUTH_FAILURE_RATE": "0.01", "OCRINVOICE_AUTH_FAILURE_BURST": "3"}), "serve")
	// closeCode opens a WebSocket, sends key in connection_init and returns the close
	// status (0 for a connection_ack).
	closeCode := func(key string) websocket.StatusCode {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		c, _, err := websocket.Dial(ctx, "ws://"+p.addr+"/graphql", &websocket.DialOptions{Subprotocols: []string{livetest.TransportWS}})
		if err != nil {
			t.Fatal(err)
		}
		defer c.CloseNow()
		init, _ := json.Marshal(map[string]any{"type": "connection_init", "payload": map[string]any{"Authorization": "Bearer " + key}})
		if err := c.Write(ctx, websocket.MessageText, init); err != nil {
			t.Fatal(err)
		}
		_, msg, err := c.Read(ctx)
		if err == nil {
			if !strings.Contains(string(msg), "connection_ack") {
				t.Fatalf("connection_init answered %s", msg)
			}
			return 0
		}
		return websocket.CloseStatus(err)
	}
	if got := closeCode(good); got != 0 {
		t.Fatalf("a valid key in connection_init: closed %d", got)
	}
	var codes []int
	for range 5 {
		k, _, _, err := auth.NewKey()
		if err != nil {
			t.Fatal(err)
		}
		codes = append(codes, int(closeCode(k)))
	}
	if fmt.Sprint(codes) != "[4403 4403 4403 4429 4429]" {
		t.Errorf("close codes of five invalid keys %v, want three 4403 then 4429", codes)
	}
	if got := closeCode(good); got != 4429 {
		t.Errorf("a valid key from the limited address: closed %d, want 4429", got)
	}
	if code, body := p.authRequest(t, good, "GET", "/api/v1/ocr-templates", ""); code != http.StatusTooManyRequests {
		t.Errorf("REST from the limited address: %d %s", code, body)
	}
}
