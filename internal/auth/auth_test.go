package auth

import (
	"context"
	"crypto/sha256"
	"net/http"
	"strings"
	"testing"

	"github.com/ocrinvoice/ocrinvoice/internal/apperr"
)

func TestRoleIncludes(t *testing.T) {
	cases := []struct {
		have, want Role
		ok         bool
	}{
		{RoleAdmin, RoleAdmin, true}, {RoleAdmin, RoleSubmitter, true}, {RoleAdmin, RoleViewer, true},
		{RoleSubmitter, RoleAdmin, false}, {RoleSubmitter, RoleSubmitter, true}, {RoleSubmitter, RoleViewer, true},
		{RoleViewer, RoleAdmin, false}, {RoleViewer, RoleSubmitter, false}, {RoleViewer, RoleViewer, true},
		{Role("root"), RoleViewer, false}, {Role(""), RoleViewer, false},
	}
	for _, c := range cases {
		if got := c.have.Includes(c.want); got != c.ok {
			t.Errorf("%q includes %q: %v, want %v", c.have, c.want, got, c.ok)
		}
	}
	if _, err := ParseRole("Root"); err == nil {
		t.Error("ParseRole(Root): no error")
	}
	if r, err := ParseRole(" Submitter "); err != nil || r != RoleSubmitter {
		t.Errorf("ParseRole: %q %v", r, err)
	}
}

func TestScope(t *testing.T) {
	cases := []struct {
		p      Principal
		owner  string
		scoped bool
	}{
		{Principal{Role: RoleAdmin, Owner: "ops"}, "", false},
		{Principal{Role: RoleSubmitter, Owner: "team-a"}, "team-a", true},
		{Principal{Role: RoleSubmitter}, "", true}, // a submitter without owner sees only unowned jobs
		{Principal{Role: RoleViewer, Owner: "team-a"}, "team-a", true},
		{Principal{Role: RoleViewer}, "", false},
		{Local, "", false},
	}
	for _, c := range cases {
		owner, scoped := c.p.Scope()
		if owner != c.owner || scoped != c.scoped {
			t.Errorf("%+v: scope %q %v, want %q %v", c.p, owner, scoped, c.owner, c.scoped)
		}
	}
	if _, scoped := ScopeOf(context.Background()); scoped {
		t.Error("the process itself must be unscoped")
	}
}

func TestRequire(t *testing.T) {
	if k := apperr.KindOf(Require(context.Background(), RoleViewer)); k != apperr.KindUnauthenticated {
		t.Errorf("no principal: %v", k)
	}
	ctx := WithPrincipal(context.Background(), Principal{Role: RoleViewer})
	if k := apperr.KindOf(Require(ctx, RoleSubmitter)); k != apperr.KindForbidden {
		t.Errorf("viewer submitting: %v", k)
	}
	if err := Require(ctx, RoleViewer); err != nil {
		t.Errorf("viewer reading: %v", err)
	}
}

func TestKeys(t *testing.T) {
	key, id, hash, err := NewKey()
	if err != nil {
		t.Fatal(err)
	}
	if len(key) != KeyLen || !strings.HasPrefix(key, KeyPrefix+id) || len(hash) != 64 {
		t.Fatalf("key %q id %q hash %q", key, id, hash)
	}
	gotID, sum, err := ParseKey(key)
	if err != nil || gotID != id || !HashMatches(hash, sum) {
		t.Fatalf("ParseKey: %q %v, matches %v", gotID, err, HashMatches(hash, sum))
	}
	other, _, _, _ := NewKey()
	_, sum2, _ := ParseKey(other)
	if HashMatches(hash, sum2) {
		t.Fatal("another key's secret matches")
	}
	// The stored value is the SHA-256 of the secret, not of the whole key.
	if whole := sha256.Sum256([]byte(key)); HashMatches(hash, whole) {
		t.Fatal("hash of the whole key matches")
	}
	for _, bad := range []string{"", "oik_", key[:len(key)-1], key + "A", "xyz" + key[3:],
		KeyPrefix + "ZZZZZZZZZZZZZZZZZZZZZZZZ" + key[len(KeyPrefix)+24:],
		key[:len(key)-1] + "\x00", strings.Repeat("a", KeyLen)} {
		if _, _, err := ParseKey(bad); err == nil {
			t.Errorf("ParseKey(%q): no error", bad)
		}
	}
	if HashMatches("zz", sum) || HashMatches(hash[:62], sum) {
		t.Error("a malformed stored hash matches")
	}
}

func TestTokens(t *testing.T) {
	r, _ := http.NewRequest("GET", "/", nil)
	if TokenFromRequest(r) != "" {
		t.Error("no header: a token")
	}
	r.Header.Set("Authorization", "Bearer  oik_abc ")
	if got := TokenFromRequest(r); got != "oik_abc" {
		t.Errorf("bearer: %q", got)
	}
	r.Header.Set("Authorization", "")
	r.SetBasicAuth("admin", "oik_basic")
	if got := TokenFromRequest(r); got != "oik_basic" {
		t.Errorf("basic: %q", got)
	}
	r.Header.Del("Authorization")
	r.Header.Set("X-API-Key", "oik_header")
	if got := TokenFromRequest(r); got != "oik_header" {
		t.Errorf("X-API-Key: %q", got)
	}
	for payload, want := range map[string]map[string]any{
		"oik_1": {"Authorization": "Bearer oik_1"},
		"oik_2": {"authorization": "bearer oik_2"},
		"oik_3": {"apiKey": "oik_3"},
		"":      {"Authorization": "Basic abc", "other": 1},
	} {
		if got := TokenFromInitPayload(want); got != payload {
			t.Errorf("init payload %v: %q, want %q", want, got, payload)
		}
	}
}
