package graph_test

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/ocrinvoice/ocrinvoice/internal/apikeys"
	"github.com/ocrinvoice/ocrinvoice/internal/auth"
	"github.com/ocrinvoice/ocrinvoice/internal/reqid"
)

// anonymousHeader makes testAuth let a request through without a principal.
const anonymousHeader = "X-Test-Anonymous"

// testAuth stands in for the server's authentication middleware: a request with a key
// (auth.TokenFromRequest) runs as the key's principal, or is answered 401 when the key
// does not authenticate; a WebSocket upgrade without a key goes through without a
// principal (it authenticates in connection_init); any other request runs as
// auth.Local, or without a principal when it has anonymousHeader. Every request gets a
// request id.
func testAuth(keys *apikeys.Store, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := reqid.With(r.Context(), reqid.FromRequest(r))
		token := auth.TokenFromRequest(r)
		switch {
		case token != "":
			p, err := keys.Authenticate(ctx, token)
			if err != nil {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusUnauthorized)
				_ = json.NewEncoder(w).Encode(map[string]any{"errors": []map[string]any{{"message": err.Error(), "extensions": map[string]any{"code": "UNAUTHENTICATED"}}}})
				return
			}
			ctx = auth.WithPrincipal(ctx, p)
		case r.Header.Get("Upgrade") != "", r.Header.Get(anonymousHeader) != "":
		default:
			ctx = auth.WithPrincipal(ctx, auth.Local)
		}
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// useKeys in Config.Authenticator makes newLiveEnv authenticate with its key store
// (which it also does for RequireAuth without an Authenticator).
var useKeys auth.Authenticator = placeholderAuthenticator{}

type placeholderAuthenticator struct{}

func (placeholderAuthenticator) Authenticate(context.Context, string) (auth.Principal, error) {
	panic("useKeys is replaced by newLiveEnv")
}

// headerTransport adds header to every request (for livetest.PostSSE, which takes a
// client but no headers).
type headerTransport http.Header

func (h headerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	for k, vs := range h {
		r.Header[k] = vs
	}
	return http.DefaultTransport.RoundTrip(r)
}

// bearerClient is an HTTP client that sends key as a bearer token.
func bearerClient(key string) *http.Client {
	return &http.Client{Transport: headerTransport{"Authorization": {"Bearer " + key}}}
}

// newKey creates an API key of role for owner and returns the secret.
func newKey(t interface {
	Helper()
	Fatal(...any)
}, keys *apikeys.Store, name string, role auth.Role, owner string) string {
	t.Helper()
	c, err := keys.Create(context.Background(), apikeys.CreateInput{Name: name, Role: role, Owner: owner})
	if err != nil {
		t.Fatal(err)
	}
	return c.Key
}
