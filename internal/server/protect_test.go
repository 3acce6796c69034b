package server

import (
	"context"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ocrinvoice/ocrinvoice/internal/apikeys"
	"github.com/ocrinvoice/ocrinvoice/internal/auth"
	"github.com/ocrinvoice/ocrinvoice/internal/database/databasetest"
	"github.com/ocrinvoice/ocrinvoice/internal/reqid"
)

// keys are real API keys of a real store on the test's own SQLite database.
type keys struct {
	store                             *apikeys.Store
	admin, submitter, viewer, revoked string
	unknown                           string // well-formed, never stored
	all                               []string
}

func (k *keys) create(t *testing.T, in apikeys.CreateInput) string {
	t.Helper()
	c, err := k.store.Create(context.Background(), in)
	if err != nil {
		t.Fatalf("create key %s: %v", in.Name, err)
	}
	k.all = append(k.all, c.Key)
	return c.Key
}

func newKeys(t *testing.T, logger *slog.Logger) *keys {
	t.Helper()
	k := &keys{store: apikeys.New(databasetest.Open(t), logger)}
	k.admin = k.create(t, apikeys.CreateInput{Name: "ops", Role: auth.RoleAdmin})
	k.submitter = k.create(t, apikeys.CreateInput{Name: "team-a", Role: auth.RoleSubmitter})
	k.viewer = k.create(t, apikeys.CreateInput{Name: "auditor", Role: auth.RoleViewer})
	k.revoked = k.create(t, apikeys.CreateInput{Name: "gone", Role: auth.RoleAdmin})
	id, _, err := auth.ParseKey(k.revoked)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k.store.Revoke(context.Background(), id); err != nil {
		t.Fatal(err)
	}
	k.unknown, _, _, _ = auth.NewKey()
	k.all = append(k.all, k.unknown)
	return k
}

// whoami answers with its name and the principal it runs as, so a test can tell which
// handler got the request and how it was authenticated.
func whoami(name string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Handler", name)
		who := "none"
		if p, ok := auth.FromContext(r.Context()); ok {
			who = string(p.Role) + ":" + p.Name
		}
		w.Header().Set("X-Principal", who)
		_, _ = io.Copy(io.Discard, r.Body)
		io.WriteString(w, name)
	})
}

// newAuthServer is a server with authentication by a real key store, whose logs
// (the server's and the store's) go to one buffer.
func newAuthServer(t *testing.T, opts Options) (*Server, *keys, *syncBuffer) {
	t.Helper()
	logs := &syncBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	k := newKeys(t, logger)
	opts.Auth = k.store
	opts.Logger = logger
	if opts.GraphQL == nil {
		opts.GraphQL = whoami("graphql")
	}
	if opts.REST == nil {
		opts.REST = whoami("rest")
	}
	if opts.Extra == nil {
		opts.Extra = map[string]http.Handler{"/monitor/": whoami("monitor")}
	}
	s, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return s, k, logs
}

func bearer(key string) http.Header { return http.Header{"Authorization": {"Bearer " + key}} }
func apiKey(key string) http.Header { return http.Header{"X-Api-Key": {key}} }
func basic(key string) http.Header {
	return http.Header{"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte("anyone:"+key))}}
}

// withHeader returns h with name set to value.
func withHeader(h http.Header, name, value string) http.Header {
	h = h.Clone()
	h.Set(name, value)
	return h
}

func wsUpgrade(h http.Header) http.Header {
	if h == nil {
		h = http.Header{}
	}
	h.Set("Connection", "keep-alive, Upgrade")
	h.Set("Upgrade", "websocket")
	h.Set("Sec-WebSocket-Version", "13")
	h.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
	return h
}

func doH(t *testing.T, h http.Handler, method, target string, header http.Header) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	for k, v := range header {
		req.Header[http.CanonicalHeaderKey(k)] = v
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// errorCode returns the error code of a body in any of the three error shapes, and
// which shape it was.
func errorCode(t *testing.T, body []byte) (code, shape, requestID string) {
	t.Helper()
	var v struct {
		Success *bool `json:"success"`
		Error   *struct {
			Code      string   `json:"code"`
			Message   string   `json:"message"`
			Details   []string `json:"details"`
			RequestID string   `json:"requestId"`
		} `json:"error"`
		Errors []struct {
			Message    string `json:"message"`
			Extensions struct {
				Code      string `json:"code"`
				RequestID string `json:"requestId"`
			} `json:"extensions"`
		} `json:"errors"`
	}
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("error body %q: %v", body, err)
	}
	switch {
	case v.Success != nil && v.Error != nil:
		if *v.Success || v.Error.Details == nil || v.Error.Message == "" {
			t.Errorf("REST envelope %s: want success false, a message and details []", body)
		}
		return v.Error.Code, "rest", v.Error.RequestID
	case len(v.Errors) == 1:
		if v.Errors[0].Message == "" {
			t.Errorf("GraphQL error %s without message", body)
		}
		return v.Errors[0].Extensions.Code, "graphql", v.Errors[0].Extensions.RequestID
	case v.Error != nil:
		return v.Error.Code, "plain", v.Error.RequestID
	}
	t.Fatalf("body %s is no error shape", body)
	return
}

func TestAuthentication(t *testing.T) {
	s, k, _ := newAuthServer(t, Options{})
	h := s.Handler()
	const (
		bearerChallenge  = `Bearer realm="ocrinvoice"`
		invalidChallenge = `Bearer realm="ocrinvoice", error="invalid_token"`
		basicChallenge   = `Basic realm="ocrinvoice", charset="UTF-8"`
	)
	tests := []struct {
		name           string
		method, target string
		header         http.Header
		wantCode       int
		wantHandler    string // "" when the middleware answers
		wantPrincipal  string // X-Principal of the handler
		wantChallenge  string
		wantErr, shape string // error code and body shape of a refusal
	}{
		// No key.
		{"graphql without key", "POST", "/graphql", nil, 401, "", "", bearerChallenge, "UNAUTHENTICATED", "graphql"},
		{"graphql GET without key", "GET", "/graphql?query={__typename}", nil, 401, "", "", bearerChallenge, "UNAUTHENTICATED", "graphql"},
		{"rest without key", "GET", "/api/v1/ocr-invoice-jobs", nil, 401, "", "", bearerChallenge, "UNAUTHENTICATED", "rest"},
		{"rest unknown path without key", "GET", "/api/v1/nothing-here", nil, 401, "", "", bearerChallenge, "UNAUTHENTICATED", "rest"},
		{"dashboard without key", "GET", "/monitor/", nil, 401, "", "", basicChallenge, "UNAUTHENTICATED", "plain"},
		{"dashboard asset without key", "GET", "/monitor/static/js/main.js", nil, 401, "", "", basicChallenge, "UNAUTHENTICATED", "plain"},
		{"playground is public", "GET", "/playground", nil, 200, "", "", "", "", ""},
		{"openapi is public", "GET", "/openapi.json", nil, 200, "rest", "none", "", "", ""},
		{"healthz is public", "GET", "/healthz", nil, 200, "", "", "", "", ""},
		{"readyz is public", "GET", "/readyz", nil, 200, "", "", "", "", ""},
		{"metrics is public", "GET", "/metrics", nil, 200, "", "", "", "", ""},
		{"root redirect is public", "GET", "/", nil, 302, "", "", "", "", ""},

		// Keys that do not authenticate.
		{"malformed key", "POST", "/graphql", bearer("oik_nope"), 401, "", "", invalidChallenge, "UNAUTHENTICATED", "graphql"},
		{"unknown key", "GET", "/api/v1/ocr-invoice-jobs", bearer(k.unknown), 401, "", "", invalidChallenge, "UNAUTHENTICATED", "rest"},
		{"revoked key rest", "GET", "/api/v1/ocr-invoice-jobs", bearer(k.revoked), 401, "", "", invalidChallenge, "UNAUTHENTICATED", "rest"},
		{"revoked key graphql", "POST", "/graphql", apiKey(k.revoked), 401, "", "", invalidChallenge, "UNAUTHENTICATED", "graphql"},
		{"revoked key dashboard", "GET", "/monitor/", basic(k.revoked), 401, "", "", basicChallenge, "UNAUTHENTICATED", "plain"},
		{"unknown key dashboard", "GET", "/monitor/", basic(k.unknown), 401, "", "", basicChallenge, "UNAUTHENTICATED", "plain"},

		// Valid keys, each way of presenting them.
		{"viewer bearer graphql", "POST", "/graphql", bearer(k.viewer), 200, "graphql", "viewer:auditor", "", "", ""},
		{"submitter x-api-key graphql", "POST", "/graphql", apiKey(k.submitter), 200, "graphql", "submitter:team-a", "", "", ""},
		{"viewer bearer rest", "GET", "/api/v1/ocr-invoice-jobs", bearer(k.viewer), 200, "rest", "viewer:auditor", "", "", ""},
		{"basic refused by rest", "POST", "/api/v1/ocr-invoice-jobs", basic(k.submitter), 401, "", "", `Bearer realm="ocrinvoice", error="invalid_request"`, "UNAUTHENTICATED", "rest"},
		{"basic refused by graphql", "POST", "/graphql", basic(k.admin), 401, "", "", `Bearer realm="ocrinvoice", error="invalid_request"`, "UNAUTHENTICATED", "graphql"},
		{"dashboard cross-site POST", "POST", "/monitor/api/queues/default:pause", withHeader(basic(k.admin), "Origin", "https://evil.example"), 403, "", "", "", "FORBIDDEN", "plain"},
		{"dashboard cross-site by fetch metadata", "POST", "/monitor/api/queues/default:pause", withHeader(basic(k.admin), "Sec-Fetch-Site", "cross-site"), 403, "", "", "", "FORBIDDEN", "plain"},
		{"dashboard same-origin POST", "POST", "/monitor/api/queues/default:pause", withHeader(basic(k.admin), "Origin", "http://example.com"), 200, "monitor", "admin:ops", "", "", ""},
		{"admin basic dashboard", "GET", "/monitor/", basic(k.admin), 200, "monitor", "admin:ops", "", "", ""},
		{"admin bearer dashboard", "GET", "/monitor/queues/ocr:urgent", bearer(k.admin), 200, "monitor", "admin:ops", "", "", ""},
		{"submitter dashboard is forbidden", "GET", "/monitor/", basic(k.submitter), 403, "", "", "", "FORBIDDEN", "plain"},
		{"viewer dashboard is forbidden", "GET", "/monitor/", bearer(k.viewer), 403, "", "", "", "FORBIDDEN", "plain"},
		{"key on a public path is ignored", "GET", "/healthz", bearer("oik_nope"), 200, "", "", "", "", ""},

		// WebSocket upgrades of /graphql authenticate in connection_init when they
		// bring no key, here when they do.
		{"websocket without key passes", "GET", "/graphql", wsUpgrade(nil), 200, "graphql", "none", "", "", ""},
		{"websocket with key is authenticated", "GET", "/graphql", wsUpgrade(bearer(k.viewer)), 200, "graphql", "viewer:auditor", "", "", ""},
		{"websocket with revoked key", "GET", "/graphql", wsUpgrade(bearer(k.revoked)), 401, "", "", invalidChallenge, "UNAUTHENTICATED", "graphql"},
		{"websocket upgrade of rest needs a key", "GET", "/api/v1/ocr-invoice-jobs", wsUpgrade(nil), 401, "", "", bearerChallenge, "UNAUTHENTICATED", "rest"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := doH(t, h, tc.method, tc.target, tc.header)
			if rec.Code != tc.wantCode {
				t.Fatalf("code %d, want %d; body %s", rec.Code, tc.wantCode, rec.Body)
			}
			if got := rec.Header().Get("X-Handler"); got != tc.wantHandler {
				t.Errorf("handler %q, want %q", got, tc.wantHandler)
			}
			if got := rec.Header().Get("X-Principal"); got != tc.wantPrincipal {
				t.Errorf("principal %q, want %q", got, tc.wantPrincipal)
			}
			if got := rec.Header().Get("WWW-Authenticate"); got != tc.wantChallenge {
				t.Errorf("WWW-Authenticate %q, want %q", got, tc.wantChallenge)
			}
			if tc.wantErr == "" {
				return
			}
			code, shape, id := errorCode(t, rec.Body.Bytes())
			if code != tc.wantErr || shape != tc.shape {
				t.Errorf("error %s in %s shape, want %s in %s shape: %s", code, shape, tc.wantErr, tc.shape, rec.Body)
			}
			if id == "" || id != rec.Header().Get(reqid.Header) {
				t.Errorf("body request id %q, header %q", id, rec.Header().Get(reqid.Header))
			}
		})
	}
	refused := map[string]int{}
	for _, tc := range tests {
		refused[tc.wantErr]++
	}
	metrics := doH(t, h, "GET", "/metrics", nil).Body.String()
	for _, want := range []string{
		fmt.Sprintf(`ocrinvoice_http_rejections_total{reason="unauthenticated"} %d`, refused["UNAUTHENTICATED"]),
		fmt.Sprintf(`ocrinvoice_http_rejections_total{reason="forbidden"} %d`, refused["FORBIDDEN"]),
		`ocrinvoice_http_rejections_total{reason="rate_limited"} 0`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

func TestAuthenticationOff(t *testing.T) {
	// Without an authenticator every request is the local admin, without limits.
	s, _ := newTestServer(t, Options{
		GraphQL: whoami("graphql"), REST: whoami("rest"),
		Extra:     map[string]http.Handler{"/monitor/": whoami("monitor")},
		RateLimit: 1, RateBurst: 1, UploadConcurrency: 1,
	})
	for _, target := range []string{"/graphql", "/api/v1/ocr-invoice-jobs", "/api/v1/uploads", "/monitor/", "/graphql"} {
		for range 3 {
			rec := doH(t, s.Handler(), "POST", target, nil)
			if rec.Code != 200 || rec.Header().Get("X-Principal") != "admin:local" {
				t.Fatalf("POST %s = %d as %q", target, rec.Code, rec.Header().Get("X-Principal"))
			}
		}
	}
}

func TestSecurityHeaders(t *testing.T) {
	panicky := http.NewServeMux()
	panicky.HandleFunc("/api/v1/boom", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Header().Set("X-Frame-Options", "SAMEORIGIN")
		panic("boom")
	})
	panicky.Handle("/", whoami("rest"))
	s, k, _ := newAuthServer(t, Options{REST: panicky})
	h := s.Handler()
	tests := []struct {
		name           string
		method, target string
		header         http.Header
		wantCode       int
		wantCSP        string // "" means APICSP
		wantNoStore    bool
	}{
		{"graphql", "POST", "/graphql", bearer(k.viewer), 200, "", true},
		{"rest", "GET", "/api/v1/ocr-invoice-jobs", bearer(k.viewer), 200, "", true},
		{"unauthenticated", "GET", "/api/v1/ocr-invoice-jobs", nil, 401, "", true},
		{"forbidden", "GET", "/monitor/", bearer(k.viewer), 403, "", false},
		{"panic", "GET", "/api/v1/boom", bearer(k.viewer), 500, "", true},
		{"not found", "GET", "/nowhere", nil, 404, "", false},
		{"method not allowed", "POST", "/healthz", nil, 405, "", false},
		{"healthz", "GET", "/healthz", nil, 200, "", false},
		{"metrics", "GET", "/metrics", nil, 200, "", false},
		{"openapi", "GET", "/openapi.json", nil, 200, "", false},
		{"dashboard", "GET", "/monitor/", bearer(k.admin), 200, DashboardCSP, false},
		{"playground", "GET", "/playground", nil, 200, "playground", false},
		{"preflight", "OPTIONS", "/graphql", http.Header{"Origin": {"https://evil.example"}, "Access-Control-Request-Method": {"POST"}}, 403, "", true},
	}
	for _, tc := range tests {
		for _, scheme := range []string{"http", "https"} {
			t.Run(tc.name+" "+scheme, func(t *testing.T) {
				rec := doH(t, h, tc.method, scheme+"://ocr.example.com"+tc.target, tc.header)
				if rec.Code != tc.wantCode {
					t.Fatalf("code %d, want %d: %s", rec.Code, tc.wantCode, rec.Body)
				}
				hd := rec.Header()
				for k, want := range map[string]string{
					"X-Content-Type-Options": "nosniff",
					"X-Frame-Options":        "DENY",
					"Referrer-Policy":        "no-referrer",
					"Vary":                   "Origin",
				} {
					if got := hd.Get(k); got != want {
						t.Errorf("%s = %q, want %q", k, got, want)
					}
				}
				switch csp := hd.Get("Content-Security-Policy"); tc.wantCSP {
				case "":
					if csp != APICSP {
						t.Errorf("CSP %q, want %q", csp, APICSP)
					}
				case "playground":
					if !strings.HasPrefix(csp, "default-src 'none'; script-src 'self';") {
						t.Errorf("playground CSP %q", csp)
					}
				default:
					if csp != tc.wantCSP {
						t.Errorf("CSP %q, want %q", csp, tc.wantCSP)
					}
				}
				if got := hd.Get("Cache-Control") == "no-store"; got != tc.wantNoStore && tc.wantNoStore {
					t.Errorf("Cache-Control %q, want no-store", hd.Get("Cache-Control"))
				}
				if !reqid.Valid(hd.Get(reqid.Header)) {
					t.Errorf("request id %q", hd.Get(reqid.Header))
				}
				hsts := hd.Get("Strict-Transport-Security")
				if scheme == "https" && hsts != hstsValue || scheme == "http" && hsts != "" {
					t.Errorf("over %s: Strict-Transport-Security %q", scheme, hsts)
				}
				if tc.wantCode == 500 {
					if ct := hd.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
						t.Errorf("panic answered as %q", ct)
					}
					if code, shape, id := errorCode(t, rec.Body.Bytes()); code != "INTERNAL" || shape != "rest" || id != hd.Get(reqid.Header) {
						t.Errorf("panic body %s", rec.Body)
					}
				}
			})
		}
	}
}

func TestPlaygroundCSP(t *testing.T) {
	s, _ := newTestServer(t, Options{})
	rec := doH(t, s.Handler(), "GET", "http://localhost:8080/playground", nil)
	if rec.Code != 200 {
		t.Fatalf("code %d", rec.Code)
	}
	csp := rec.Header().Get("Content-Security-Policy")
	directives := map[string][]string{}
	for d := range strings.SplitSeq(csp, ";") {
		f := strings.Fields(d)
		directives[f[0]] = f[1:]
	}
	has := func(dir, src string) bool {
		for _, s := range directives[dir] {
			if s == src {
				return true
			}
		}
		return false
	}
	page := rec.Body.String()
	// Every script and style sheet the page loads comes from this server, pinned by an
	// SRI hash that matches what the server sends; nothing is inline, nothing comes
	// from another host (no CDN, no web font).
	assets := regexp.MustCompile(`(?s)<(script|link rel="stylesheet")(\s[^>]*)>`).FindAllStringSubmatch(page, -1)
	if len(assets) < 6 {
		t.Fatalf("found %d assets in the page", len(assets))
	}
	for _, a := range assets {
		src := regexp.MustCompile(`(?:src|href)="([^"]+)"`).FindStringSubmatch(a[2])
		sri := regexp.MustCompile(`integrity="sha384-([^"]+)"`).FindStringSubmatch(a[2])
		if src == nil || sri == nil || !strings.HasPrefix(src[1], "/playground/assets/") {
			t.Errorf("asset tag %s: want a /playground/assets/ URL with a sha384 integrity", a[0])
			continue
		}
		got := doH(t, s.Handler(), "GET", "http://localhost:8080"+src[1], nil)
		sum := sha512.Sum384(got.Body.Bytes())
		if got.Code != 200 || base64.StdEncoding.EncodeToString(sum[:]) != html.UnescapeString(sri[1]) {
			t.Errorf("%s: HTTP %d, its body does not match its integrity hash", src[1], got.Code)
		}
		if body := got.Body.String(); strings.HasSuffix(src[1], ".css") && regexp.MustCompile(`url\(\s*['"]?(https?:)?//`).MatchString(body) {
			t.Errorf("%s loads something from another host", src[1])
		}
	}
	if regexp.MustCompile(`<script>|<style|\bstyle="|\bon[a-z]+="`).MatchString(page) {
		t.Error("the page has an inline script or style")
	}
	if regexp.MustCompile(`(?:src|href)="(https?:)?//`).MatchString(page) || strings.Count(page, "<link") != 3 {
		t.Error("the page loads something from another host")
	}
	if !has("script-src", "'self'") || len(directives["script-src"]) != 1 || !has("style-src", "'self'") || len(directives["style-src"]) != 1 {
		t.Errorf("script-src %q, style-src %q: want 'self' only", directives["script-src"], directives["style-src"])
	}
	if miss := doH(t, s.Handler(), "GET", "http://localhost:8080/playground/assets/nothing.js", nil); miss.Code != 404 {
		t.Errorf("unknown asset: HTTP %d", miss.Code)
	}
	for _, dir := range []string{"script-src", "style-src"} {
		for _, src := range directives[dir] {
			if src == "'unsafe-inline'" || src == "'unsafe-eval'" || strings.Contains(src, "*") {
				t.Errorf("%s allows %s", dir, src)
			}
		}
	}
	for dir, want := range map[string]string{"default-src": "'none'", "frame-ancestors": "'none'", "connect-src": "ws://localhost:8080"} {
		if !has(dir, want) {
			t.Errorf("%s lacks %s: %s", dir, want, csp)
		}
	}
	// A host header that is not a plain host[:port] is not written into the policy.
	req := httptest.NewRequest("GET", "/playground", nil)
	req.Host = "x; script-src *"
	rec = httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, req)
	if strings.Contains(rec.Header().Get("Content-Security-Policy"), "script-src *") {
		t.Errorf("host injected into the policy: %s", rec.Header().Get("Content-Security-Policy"))
	}
}

func TestRequestID(t *testing.T) {
	s, k, logs := newAuthServer(t, Options{GraphQL: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The handler sees the id in its context.
		io.WriteString(w, reqid.From(r.Context()))
	})})
	long := strings.Repeat("a", 200)
	tests := []struct {
		name, sent string
		adopt      bool
	}{
		{"sane id is adopted", "client-id_1.2", true},
		{"64 characters are adopted", strings.Repeat("b", 64), true},
		{"200 characters are replaced", long, false},
		{"newline is replaced", "abc\ninjected", false},
		{"quote is replaced", `abc"def`, false},
		{"space is replaced", "abc def", false},
		{"none is generated", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, target := range []string{"/graphql", "/api/v1/ocr-invoice-jobs"} {
				h := bearer(k.viewer)
				if target != "/graphql" {
					h = http.Header{} // a 401: the id must be in the error body too
				}
				if tc.sent != "" {
					h[reqid.Header] = []string{tc.sent}
				}
				rec := doH(t, s.Handler(), "POST", target, h)
				got := rec.Header().Get(reqid.Header)
				if tc.adopt && got != tc.sent {
					t.Errorf("%s: id %q, want %q adopted", target, got, tc.sent)
				}
				if !tc.adopt && (got == tc.sent || !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(got)) {
					t.Errorf("%s: id %q, want a fresh one", target, got)
				}
				if target == "/graphql" && rec.Body.String() != got {
					t.Errorf("handler saw id %q, response says %q", rec.Body.String(), got)
				}
				if target != "/graphql" {
					if _, _, id := errorCode(t, rec.Body.Bytes()); id != got {
						t.Errorf("error body id %q, header %q", id, got)
					}
				}
				if !strings.Contains(logs.String(), `"request_id":"`+got+`"`) {
					t.Errorf("request id %s not logged", got)
				}
			}
		})
	}
	if strings.Contains(logs.String(), long) || strings.Contains(logs.String(), "injected") {
		t.Error("an insane request id reached the log")
	}
}

func TestPanicLogsRequestID(t *testing.T) {
	s, logs := newTestServer(t, Options{GraphQL: http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		panic("secret internal detail")
	})})
	rec := doH(t, s.Handler(), "POST", "/graphql", http.Header{reqid.Header: {"trace-42"}})
	if rec.Code != 500 || rec.Header().Get(reqid.Header) != "trace-42" {
		t.Fatalf("code %d, id %q", rec.Code, rec.Header().Get(reqid.Header))
	}
	code, shape, id := errorCode(t, rec.Body.Bytes())
	if code != "INTERNAL" || shape != "graphql" || id != "trace-42" {
		t.Errorf("body %s", rec.Body)
	}
	for _, leak := range []string{"secret", "goroutine", ".go:", "panic"} {
		if strings.Contains(rec.Body.String(), leak) {
			t.Errorf("body leaks %q: %s", leak, rec.Body)
		}
	}
	var found bool
	for line := range strings.SplitSeq(logs.String(), "\n") {
		if strings.Contains(line, "HTTP handler panicked") {
			found = strings.Contains(line, `"request_id":"trace-42"`) && strings.Contains(line, "goroutine")
		}
	}
	if !found {
		t.Errorf("panic log without request id or stack: %s", logs)
	}
}

func TestCORS(t *testing.T) {
	preflight := func(origin string) http.Header {
		return http.Header{"Origin": {origin}, "Access-Control-Request-Method": {"POST"},
			"Access-Control-Request-Headers": {"authorization,content-type"}}
	}
	t.Run("closed by default", func(t *testing.T) {
		s, k, _ := newAuthServer(t, Options{})
		rec := doH(t, s.Handler(), "POST", "/graphql", http.Header{"Origin": {"https://app.example.com"}, "Authorization": {"Bearer " + k.viewer}})
		if rec.Code != 200 || rec.Header().Get("Access-Control-Allow-Origin") != "" || rec.Header().Get("Vary") != "Origin" {
			t.Errorf("actual request: %d, headers %v", rec.Code, rec.Header())
		}
		rec = doH(t, s.Handler(), "OPTIONS", "/graphql", preflight("https://app.example.com"))
		if rec.Code != 403 || rec.Header().Get("Access-Control-Allow-Origin") != "" || rec.Header().Get("Access-Control-Allow-Methods") != "" {
			t.Errorf("preflight: %d, headers %v", rec.Code, rec.Header())
		}
		// OPTIONS without preflight headers is routed as usual.
		if rec := doH(t, s.Handler(), "OPTIONS", "/healthz", nil); rec.Code != 405 {
			t.Errorf("plain OPTIONS = %d", rec.Code)
		}
	})
	t.Run("listed origins", func(t *testing.T) {
		s, k, _ := newAuthServer(t, Options{CORSOrigins: []string{"https://app.example.com", "http://localhost:3000"}})
		h := s.Handler()
		for _, target := range []string{"/graphql", "/api/v1/ocr-invoice-jobs", "/api/v1/uploads"} {
			// A preflight needs no key: browsers send none.
			rec := doH(t, h, "OPTIONS", target, preflight("https://app.example.com"))
			if rec.Code != 204 {
				t.Fatalf("preflight %s = %d: %s", target, rec.Code, rec.Body)
			}
			hd := rec.Header()
			if hd.Get("Access-Control-Allow-Origin") != "https://app.example.com" || hd.Get("Vary") != "Origin" ||
				hd.Get("Access-Control-Max-Age") == "" {
				t.Errorf("preflight headers %v", hd)
			}
			// PATCH corrects a job's data, DELETE removes a supplier profile.
			for _, m := range []string{"GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"} {
				if !strings.Contains(hd.Get("Access-Control-Allow-Methods"), m) {
					t.Errorf("Allow-Methods %q lacks %s", hd.Get("Access-Control-Allow-Methods"), m)
				}
			}
			for _, hdr := range []string{"Authorization", "Content-Type", "X-API-Key", "X-Request-Id", "Apollo-Require-Preflight", "If-Match"} {
				if !strings.Contains(hd.Get("Access-Control-Allow-Headers"), hdr) {
					t.Errorf("Allow-Headers %q lacks %s", hd.Get("Access-Control-Allow-Headers"), hdr)
				}
			}
		}
		rec := doH(t, h, "OPTIONS", "/graphql", preflight("https://evil.example.com"))
		if rec.Code != 403 || rec.Header().Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("unlisted preflight: %d %v", rec.Code, rec.Header())
		}
		// Actual requests: a listed origin gets its own origin back and the exposed
		// headers; an unlisted one gets nothing.
		hdr := bearer(k.viewer)
		hdr.Set("Origin", "http://localhost:3000")
		rec = doH(t, h, "GET", "/api/v1/ocr-invoice-jobs", hdr)
		if rec.Header().Get("Access-Control-Allow-Origin") != "http://localhost:3000" ||
			rec.Header().Get("Access-Control-Expose-Headers") != "Retry-After, X-Request-Id, ETag" {
			t.Errorf("listed actual request: %v", rec.Header())
		}
		// Even a refusal carries them, so that the page can read why.
		rec = doH(t, h, "GET", "/api/v1/ocr-invoice-jobs", http.Header{"Origin": {"http://localhost:3000"}})
		if rec.Code != 401 || rec.Header().Get("Access-Control-Allow-Origin") != "http://localhost:3000" {
			t.Errorf("listed 401: %d %v", rec.Code, rec.Header())
		}
		hdr.Set("Origin", "http://localhost:3001")
		rec = doH(t, h, "GET", "/api/v1/ocr-invoice-jobs", hdr)
		if rec.Code != 200 || rec.Header().Get("Access-Control-Allow-Origin") != "" || rec.Header().Get("Access-Control-Expose-Headers") != "" {
			t.Errorf("unlisted actual request: %d %v", rec.Code, rec.Header())
		}
		metrics := doH(t, h, "GET", "/metrics", nil).Body.String()
		for _, want := range []string{`ocrinvoice_http_rejections_total{reason="cors"} 1`, `route="preflight"`} {
			if !strings.Contains(metrics, want) {
				t.Errorf("metrics lack %s", want)
			}
		}
	})
	t.Run("any origin", func(t *testing.T) {
		s, _, _ := newAuthServer(t, Options{CORSOrigins: []string{"*"}})
		rec := doH(t, s.Handler(), "OPTIONS", "/graphql", preflight("https://anything.example"))
		if rec.Code != 204 || rec.Header().Get("Access-Control-Allow-Origin") != "*" {
			t.Errorf("preflight: %d %v", rec.Code, rec.Header())
		}
	})
	t.Run("invalid origins are refused", func(t *testing.T) {
		for _, o := range []string{"https://App.example.com", "https://app.example.com/", "app.example.com", "ftp://x.example", "https://u@x.example", "https://x.example?q", "https://"} {
			if _, err := New(Options{CORSOrigins: []string{o}}); err == nil {
				t.Errorf("origin %q accepted", o)
			}
		}
	})
}

// fakeClock is a clock the test moves.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func TestRateLimit(t *testing.T) {
	s, k, _ := newAuthServer(t, Options{RateLimit: 1, RateBurst: 2})
	clock := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	s.limits.now = clock.now
	h := s.Handler()
	slow := k.create(t, apikeys.CreateInput{Name: "slow", Role: auth.RoleViewer, Limits: apikeys.Limits{RatePerSecond: 0.2}})

	get := func(key, target string) *httptest.ResponseRecorder {
		return doH(t, h, "GET", target, bearer(key))
	}
	for i := range 2 {
		if rec := get(k.viewer, "/api/v1/ocr-invoice-jobs"); rec.Code != 200 {
			t.Fatalf("request %d within the burst = %d", i, rec.Code)
		}
	}
	rec := get(k.viewer, "/api/v1/ocr-invoice-jobs")
	if rec.Code != 429 || rec.Header().Get("Retry-After") != "1" {
		t.Fatalf("over the limit: %d, Retry-After %q", rec.Code, rec.Header().Get("Retry-After"))
	}
	if code, shape, _ := errorCode(t, rec.Body.Bytes()); code != "RATE_LIMITED" || shape != "rest" {
		t.Errorf("body %s", rec.Body)
	}
	// GraphQL answers in its own shape; the same key's bucket is shared by all surfaces.
	rec = doH(t, h, "POST", "/graphql", bearer(k.viewer))
	if code, shape, _ := errorCode(t, rec.Body.Bytes()); rec.Code != 429 || code != "RATE_LIMITED" || shape != "graphql" {
		t.Errorf("graphql over the limit: %d %s", rec.Code, rec.Body)
	}
	// Another key has its own bucket.
	if rec := get(k.submitter, "/api/v1/ocr-invoice-jobs"); rec.Code != 200 {
		t.Errorf("other key = %d", rec.Code)
	}
	// Public paths are not limited.
	if rec := get(k.viewer, "/healthz"); rec.Code != 200 {
		t.Errorf("healthz = %d", rec.Code)
	}
	// After Retry-After the key may go on.
	clock.advance(time.Second)
	if rec := get(k.viewer, "/api/v1/ocr-invoice-jobs"); rec.Code != 200 {
		t.Fatalf("after Retry-After: %d %s", rec.Code, rec.Body)
	}
	if rec := get(k.viewer, "/api/v1/ocr-invoice-jobs"); rec.Code != 429 {
		t.Fatalf("the refill was one token, got %d", rec.Code)
	}

	// A key's own rate replaces the default: 0.2/s, a burst of 2, then 5 s to wait.
	for range 2 {
		if rec := get(slow, "/graphql"); rec.Code != 200 {
			t.Fatalf("slow key within its burst = %d", rec.Code)
		}
	}
	rec = get(slow, "/graphql")
	if rec.Code != 429 || rec.Header().Get("Retry-After") != "5" {
		t.Fatalf("slow key: %d, Retry-After %q", rec.Code, rec.Header().Get("Retry-After"))
	}
	clock.advance(4 * time.Second)
	if rec := get(slow, "/graphql"); rec.Code != 429 || rec.Header().Get("Retry-After") != "1" {
		t.Fatalf("slow key after 4 s: %d, Retry-After %q", rec.Code, rec.Header().Get("Retry-After"))
	}
	clock.advance(time.Second)
	if rec := get(slow, "/graphql"); rec.Code != 200 {
		t.Fatalf("slow key after 5 s: %d", rec.Code)
	}
	metrics := doH(t, h, "GET", "/metrics", nil).Body.String()
	if !strings.Contains(metrics, `ocrinvoice_http_rejections_total{reason="rate_limited"} 5`) {
		t.Errorf("metrics: %s", regexp.MustCompile(`(?m)^ocrinvoice_http_rejections_total.*$`).FindAllString(metrics, -1))
	}
}

func TestLimiterEviction(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	l := newLimiters(clock.now, newMetrics())
	for i := range 1000 {
		l.allow(fmt.Sprintf("key-%d", i), 1, 1)
	}
	// A key with an upload in flight, and one whose bucket will not refill in time.
	release, _ := l.acquireUpload(context.Background(), "uploading", 1)
	for range 10 {
		l.allow("drained", 1.0/3600, 10)
	}
	if n := len(l.keys); n != 1002 {
		t.Fatalf("%d limiters", n)
	}
	clock.advance(limiterIdle + limiterSweep)
	l.allow("fresh", 1, 1)
	if _, ok := l.keys["key-1"]; ok || len(l.keys) != 3 {
		t.Errorf("after the idle time %d limiters remain", len(l.keys))
	}
	for _, k := range []string{"uploading", "drained", "fresh"} {
		if _, ok := l.keys[k]; !ok {
			t.Errorf("limiter %s was dropped", k)
		}
	}
	// The drained key is still limited: forgetting it would have refilled it.
	if ok, retry := l.allow("drained", 1.0/3600, 10); ok || retry < 60 {
		t.Errorf("drained key: ok %v, retry %d", ok, retry)
	}
	release()
	release() // idempotent
	clock.advance(limiterIdle + limiterSweep)
	l.allow("fresh", 1, 1)
	if _, ok := l.keys["uploading"]; ok {
		t.Error("finished upload's limiter kept")
	}
}

func TestUploadConcurrency(t *testing.T) {
	entered := make(chan string, 10)
	upload := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		entered <- r.URL.Path
		n, err := io.Copy(io.Discard, r.Body)
		if err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		fmt.Fprintf(w, "%d bytes", n)
	})
	s, k, _ := newAuthServer(t, Options{REST: upload, GraphQL: upload, UploadConcurrency: 1, RateLimit: 1000, RateBurst: 1000})
	wide := k.create(t, apikeys.CreateInput{Name: "bulk", Role: auth.RoleSubmitter, Limits: apikeys.Limits{UploadConcurrency: 2}})
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)

	post := func(key, path, contentType string, body io.Reader) *http.Response {
		t.Helper()
		req, err := http.NewRequest("POST", srv.URL+path, body)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", contentType)
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}
	// hold starts an upload whose body stays open until the returned function is called,
	// and waits until the handler has it.
	hold := func(key, path, contentType string) (finish func() *http.Response) {
		t.Helper()
		pr, pw := io.Pipe()
		done := make(chan *http.Response, 1)
		go func() {
			req, _ := http.NewRequest("POST", srv.URL+path, pr)
			req.Header.Set("Authorization", "Bearer "+key)
			req.Header.Set("Content-Type", contentType)
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Error(err)
				done <- nil
				return
			}
			done <- resp
		}()
		if _, err := pw.Write([]byte("%PDF-1.7 first bytes")); err != nil {
			t.Fatal(err)
		}
		select {
		case <-entered:
		case <-time.After(5 * time.Second):
			t.Fatal("upload did not reach the handler")
		}
		return func() *http.Response {
			pw.Close()
			resp := <-done
			if resp != nil {
				t.Cleanup(func() { resp.Body.Close() })
			}
			return resp
		}
	}
	const multipart = "multipart/form-data; boundary=xyz"
	finish := hold(k.submitter, "/api/v1/uploads", "application/pdf")

	// While it is in flight, the same key's next upload, by REST or GraphQL, is refused.
	for _, c := range [][2]string{{"/api/v1/uploads", "application/pdf"}, {"/graphql", multipart}} {
		resp := post(k.submitter, c[0], c[1], strings.NewReader("more"))
		if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "1" {
			t.Errorf("second upload to %s: %d, Retry-After %q", c[0], resp.StatusCode, resp.Header.Get("Retry-After"))
		}
		b, _ := io.ReadAll(resp.Body)
		if code, _, _ := errorCode(t, b); code != "RATE_LIMITED" {
			t.Errorf("body %s", b)
		}
	}
	// Requests that are not uploads, and other keys' uploads, go through.
	for _, c := range []struct{ key, path, ct string }{
		{k.submitter, "/graphql", "application/json"},
		{k.submitter, "/api/v1/ocr-invoice-jobs", "application/json"},
		{k.admin, "/api/v1/uploads", "application/pdf"},
	} {
		resp := post(c.key, c.path, c.ct, strings.NewReader("{}"))
		if resp.StatusCode != 200 {
			t.Errorf("POST %s = %d", c.path, resp.StatusCode)
		}
		<-entered
	}
	// Once the upload is answered its slot is free again.
	if resp := finish(); resp == nil || resp.StatusCode != 200 {
		t.Fatalf("held upload: %v", resp)
	}
	resp := post(k.submitter, "/graphql", multipart, strings.NewReader("--xyz--"))
	if resp.StatusCode != 200 {
		t.Errorf("upload after the first finished = %d", resp.StatusCode)
	}
	<-entered

	// A key's own concurrency replaces the default.
	f1 := hold(wide, "/api/v1/uploads", "application/pdf")
	f2 := hold(wide, "/graphql", multipart)
	if resp := post(wide, "/api/v1/uploads", "application/pdf", strings.NewReader("x")); resp.StatusCode != 429 {
		t.Errorf("third upload of a key allowed two = %d", resp.StatusCode)
	}
	for _, f := range []func() *http.Response{f1, f2} {
		if resp := f(); resp == nil || resp.StatusCode != 200 {
			t.Errorf("held upload: %v", resp)
		}
	}
	metrics := doH(t, s.Handler(), "GET", "/metrics", nil).Body.String()
	if !strings.Contains(metrics, `ocrinvoice_http_rejections_total{reason="upload_concurrency"} 3`) {
		t.Errorf("metrics: %s", regexp.MustCompile(`(?m)^ocrinvoice_http_rejections_total.*$`).FindAllString(metrics, -1))
	}
}

func TestNoKeyInLogs(t *testing.T) {
	s, k, logs := newAuthServer(t, Options{RateLimit: 1, RateBurst: 1, UploadConcurrency: 1,
		GraphQL: http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") })})
	h := s.Handler()
	for _, key := range k.all {
		for _, hdr := range []http.Header{bearer(key), apiKey(key), basic(key), wsUpgrade(bearer(key))} {
			for _, target := range []string{"/graphql", "/api/v1/ocr-invoice-jobs", "/api/v1/uploads", "/monitor/", "/healthz", "/nowhere"} {
				doH(t, h, "POST", target+"?token=x", hdr)
				doH(t, h, "GET", target, hdr)
			}
		}
	}
	out := logs.String()
	for _, key := range k.all {
		secret := key[len(auth.KeyPrefix)+24:]
		if strings.Contains(out, secret) {
			t.Fatalf("a key's secret is in the log")
		}
	}
	for _, want := range []string{`"rejected":"unauthenticated"`, `"rejected":"rate_limited"`, `"rejected":"forbidden"`, "HTTP handler panicked", `"key_id":"`} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %s", want)
		}
	}
}

func TestServerTimeouts(t *testing.T) {
	// The API server and the worker's probe listener (Options with only Addr, Logger and
	// Checks) are both built by New: both get every timeout.
	api, _ := newTestServer(t, Options{Addr: "127.0.0.1:0"})
	probes, err := New(Options{Addr: "127.0.0.1:0", Checks: []Check{{Name: "x", Func: func(context.Context) error { return nil }}}})
	if err != nil {
		t.Fatal(err)
	}
	for name, s := range map[string]*Server{"api": api, "probes": probes} {
		hs := s.http
		for field, c := range map[string][2]time.Duration{
			"ReadHeaderTimeout": {hs.ReadHeaderTimeout, ReadHeaderTimeout},
			"ReadTimeout":       {hs.ReadTimeout, ReadTimeout},
			"WriteTimeout":      {hs.WriteTimeout, WriteTimeout},
			"IdleTimeout":       {hs.IdleTimeout, IdleTimeout},
		} {
			if c[0] != c[1] || c[0] <= 0 {
				t.Errorf("%s: %s = %v, want %v", name, field, c[0], c[1])
			}
		}
		if hs.MaxHeaderBytes != MaxHeaderBytes || hs.ErrorLog == nil || hs.Handler == nil {
			t.Errorf("%s: MaxHeaderBytes %d, ErrorLog %v", name, hs.MaxHeaderBytes, hs.ErrorLog)
		}
	}
	if ReadHeaderTimeout > 30*time.Second {
		t.Errorf("ReadHeaderTimeout %v leaves slow-loris room", ReadHeaderTimeout)
	}
}

func TestNewRejectsBadLimits(t *testing.T) {
	for _, o := range []Options{{RateLimit: -1}, {RateBurst: -1}, {UploadConcurrency: -1},
		{AuthFailureRate: -1}, {AuthFailureRate: math.NaN()}, {AuthFailureRate: math.Inf(1)}, {AuthFailureRate: 1, AuthFailureBurst: -1}} {
		if _, err := New(o); err == nil {
			t.Errorf("New(%+v) succeeded", o)
		}
	}
}
