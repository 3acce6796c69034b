// Package auth is who may do what in ocrinvoice: API keys, the roles they carry, the
// principal a request runs as, and the owner scope that keeps one team's jobs from
// another's.
//
// A request is authenticated once, at the edge (internal/server), and runs with a
// Principal in its context. Three roles exist, each including the one below it:
//
//	viewer     reads jobs, groups, templates and results, and subscribes to them
//	submitter  also creates, updates, cancels and retries jobs and groups, and uploads
//	admin      also writes templates, manages API keys and sees every owner's data
//
// A submitter always acts for its key's owner: the jobs and groups it creates carry that
// owner as createdBy, and it sees only jobs and groups with that createdBy (anything
// else is "not found", never "forbidden", so that ids of other owners reveal nothing).
// A viewer with an owner is scoped the same way; a viewer without one reads everything.
//
// A context without a Principal is the process itself (a worker, the batch runner, the
// command line): unrestricted. The HTTP layer therefore never lets a request through
// without one.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/ocrinvoice/ocrinvoice/internal/apperr"
	"github.com/ocrinvoice/ocrinvoice/internal/ids"
)

// Role is what an API key may do.
type Role string

// The roles, weakest first.
const (
	RoleViewer    Role = "viewer"
	RoleSubmitter Role = "submitter"
	RoleAdmin     Role = "admin"
)

// Roles lists the roles, weakest first.
var Roles = []Role{RoleViewer, RoleSubmitter, RoleAdmin}

// ParseRole returns the role named s (case-insensitive).
func ParseRole(s string) (Role, error) {
	r := Role(strings.ToLower(strings.TrimSpace(s)))
	if !slices.Contains(Roles, r) {
		return "", fmt.Errorf("unknown role %q (want admin, submitter or viewer)", s)
	}
	return r, nil
}

// Includes reports whether r may do what min may: admin includes submitter, which
// includes viewer. An unknown role includes nothing.
func (r Role) Includes(min Role) bool {
	have, want := slices.Index(Roles, r), slices.Index(Roles, min)
	return have >= 0 && want >= 0 && have >= want
}

// Principal is who a request runs as.
type Principal struct {
	KeyID string // the API key's id; "" for the local principal of OCRINVOICE_AUTH=none
	Name  string // the key's name, for logs
	Role  Role
	// Owner is the createdBy of what the principal creates, and the scope of what a
	// submitter (or a viewer with an owner) sees.
	Owner string
	// RateLimit and UploadConcurrency are the key's own limits (requests per second,
	// uploads at once); 0 means the configured default.
	RateLimit         float64
	UploadConcurrency int
}

// Local is the principal of every request when authentication is off
// (OCRINVOICE_AUTH=none): an admin without an owner.
var Local = Principal{Name: "local", Role: RoleAdmin}

// Scope returns the owner whose jobs and groups p may see, and true; or "", false when p
// sees every owner's (an admin, a viewer without an owner).
func (p Principal) Scope() (string, bool) {
	switch {
	case p.Role == RoleAdmin:
		return "", false
	case p.Role == RoleViewer && p.Owner == "":
		return "", false
	default:
		return p.Owner, true
	}
}

type principalKey struct{}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// FromContext returns the principal of ctx, if any.
func FromContext(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}

// ScopeOf returns the owner scope of ctx's principal (see Principal.Scope); a context
// without a principal (the process itself) is unscoped.
func ScopeOf(ctx context.Context) (string, bool) {
	p, ok := FromContext(ctx)
	if !ok {
		return "", false
	}
	return p.Scope()
}

// Require returns nil when ctx's principal has at least role min; Unauthenticated when
// ctx has no principal, Forbidden when its role is too weak. Every API operation calls
// it (through the REST route table and the GraphQL operation policy), so a request that
// somehow arrived without a principal is refused rather than run as the process.
func Require(ctx context.Context, min Role) error {
	p, ok := FromContext(ctx)
	if !ok {
		return apperr.Unauthenticated("an API key is required: send Authorization: Bearer <key>")
	}
	if !p.Role.Includes(min) {
		return apperr.Forbidden(fmt.Sprintf("the %s role may not do this; it needs %s", p.Role, min))
	}
	return nil
}

// Key format: "oik_", the key's 24-hex id, then its 32 random bytes in unpadded
// base64url (43 characters): 71 characters in all. The id finds the stored key; the
// secret is compared, as a SHA-256, in constant time.
const (
	KeyPrefix    = "oik_"
	secretBytes  = 32
	secretChars  = 43 // base64.RawURLEncoding of 32 bytes
	KeyLen       = len(KeyPrefix) + ids.Len + secretChars
	hashHexChars = 2 * sha256.Size
)

// NewKey returns a new key (to show once), its id and the hex SHA-256 of its secret
// (to store).
func NewKey() (key, id, hash string, err error) {
	secret := make([]byte, secretBytes)
	if _, err := rand.Read(secret); err != nil {
		return "", "", "", fmt.Errorf("generate API key: %w", err)
	}
	id = ids.New()
	sum := sha256.Sum256(secret)
	return KeyPrefix + id + base64.RawURLEncoding.EncodeToString(secret), id, hex.EncodeToString(sum[:]), nil
}

// ErrMalformedKey is a token that is not an ocrinvoice API key.
var ErrMalformedKey = errors.New("not an ocrinvoice API key (want oik_ followed by 67 characters)")

// ParseKey splits key into its id and the SHA-256 of its secret.
func ParseKey(key string) (id string, sum [sha256.Size]byte, err error) {
	if len(key) != KeyLen || !strings.HasPrefix(key, KeyPrefix) {
		return "", sum, ErrMalformedKey
	}
	id = key[len(KeyPrefix) : len(KeyPrefix)+ids.Len]
	secret, derr := base64.RawURLEncoding.DecodeString(key[len(KeyPrefix)+ids.Len:])
	if !ids.Valid(id) || derr != nil || len(secret) != secretBytes {
		return "", sum, ErrMalformedKey
	}
	return id, sha256.Sum256(secret), nil
}

// HashMatches compares the SHA-256 of a presented secret with a stored hex hash in
// constant time.
func HashMatches(storedHex string, sum [sha256.Size]byte) bool {
	stored, err := hex.DecodeString(storedHex)
	if err != nil || len(stored) != sha256.Size || len(storedHex) != hashHexChars {
		return false
	}
	return subtle.ConstantTimeCompare(stored, sum[:]) == 1
}

// Authenticator turns a presented key into the principal it stands for. Errors:
// apperr Unauthenticated (unknown, malformed or revoked key), or an internal error.
type Authenticator interface {
	Authenticate(ctx context.Context, key string) (Principal, error)
}

// TokenFromRequest returns the API key a request presents: the bearer token of
// Authorization, the password of HTTP Basic authorization (so that a browser can open
// the queue dashboard), or X-API-Key. "" when none.
func TokenFromRequest(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if scheme, rest, ok := strings.Cut(h, " "); ok {
		switch strings.ToLower(scheme) {
		case "bearer":
			return strings.TrimSpace(rest)
		case "basic":
			if _, pw, ok := r.BasicAuth(); ok {
				return pw
			}
		}
	}
	return strings.TrimSpace(r.Header.Get("X-API-Key"))
}

// TokenFromInitPayload returns the API key of a GraphQL WebSocket connection_init
// payload: "Authorization" (or "authorization") as "Bearer <key>", or "apiKey".
func TokenFromInitPayload(payload map[string]any) string {
	for _, k := range []string{"Authorization", "authorization"} {
		if s, ok := payload[k].(string); ok {
			if scheme, rest, ok := strings.Cut(s, " "); ok && strings.EqualFold(scheme, "bearer") {
				return strings.TrimSpace(rest)
			}
		}
	}
	for _, k := range []string{"apiKey", "api_key", "X-API-Key"} {
		if s, ok := payload[k].(string); ok {
			return strings.TrimSpace(s)
		}
	}
	return ""
}
