package apikeys

import (
	"context"
	"testing"
	"time"

	"github.com/ocrinvoice/ocrinvoice/ent"
	"github.com/ocrinvoice/ocrinvoice/internal/apperr"
	"github.com/ocrinvoice/ocrinvoice/internal/auth"
	"github.com/ocrinvoice/ocrinvoice/internal/database/databasetest"
)

func TestStore(t *testing.T) {
	databasetest.Each(t, func(t *testing.T, db *ent.Client) {
		ctx := context.Background()
		s := New(db, nil)
		c, err := s.Create(ctx, CreateInput{Name: "team-a", Role: auth.RoleSubmitter, Limits: Limits{RatePerSecond: 3}})
		if err != nil {
			t.Fatal(err)
		}
		// Only the hash is stored.
		stored, err := db.APIKey.Get(ctx, c.APIKey.ID)
		if err != nil {
			t.Fatal(err)
		}
		if stored.KeyHash == "" || stored.KeyHash == c.Key || len(stored.KeyHash) != 64 {
			t.Fatalf("stored hash %q for key %q", stored.KeyHash, c.Key)
		}
		p, err := s.Authenticate(ctx, c.Key)
		if err != nil {
			t.Fatal(err)
		}
		want := auth.Principal{KeyID: c.APIKey.ID, Name: "team-a", Role: auth.RoleSubmitter, Owner: "team-a", RateLimit: 3}
		if p != want {
			t.Fatalf("principal %+v, want %+v", p, want)
		}

		// A second Store (another process) does not share the cache.
		other := New(db, nil)
		if _, err := other.Authenticate(ctx, c.Key); err != nil {
			t.Fatal(err)
		}
		// A wrong secret with the right id, garbage, and an unknown id are all the same error.
		forged := c.Key[:len(c.Key)-2] + "AA"
		if forged == c.Key {
			forged = c.Key[:len(c.Key)-2] + "BB"
		}
		for _, bad := range []string{forged, "oik_nope", "", c.Key + "x"} {
			if _, err := s.Authenticate(ctx, bad); apperr.KindOf(err) != apperr.KindUnauthenticated {
				t.Errorf("Authenticate(%q): %v", bad, err)
			}
		}

		if _, err := s.Revoke(ctx, c.APIKey.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Authenticate(ctx, c.Key); apperr.KindOf(err) != apperr.KindUnauthenticated {
			t.Fatalf("revoked key in the revoking store: %v", err)
		}
		// The other store trusts its cache for at most CacheTTL.
		other.now = func() time.Time { return time.Now().Add(CacheTTL + time.Second) }
		if _, err := other.Authenticate(ctx, c.Key); apperr.KindOf(err) != apperr.KindUnauthenticated {
			t.Fatalf("revoked key in another store after the cache TTL: %v", err)
		}
		if _, err := s.Revoke(ctx, c.APIKey.ID); err != nil {
			t.Fatalf("revoking twice: %v", err)
		}
		if _, err := s.Revoke(ctx, "0123456789abcdef01234567"); apperr.KindOf(err) != apperr.KindNotFound {
			t.Fatalf("revoke unknown: %v", err)
		}

		for _, in := range []CreateInput{
			{Role: auth.RoleAdmin},
			{Name: "x", Role: "root"},
			{Name: "x", Role: auth.RoleViewer, Limits: Limits{RatePerSecond: -1}},
			{Name: "x", Role: auth.RoleViewer, Limits: Limits{UploadConcurrency: MaxUploadConcurrency + 1}},
		} {
			if _, err := s.Create(ctx, in); apperr.KindOf(err) != apperr.KindInvalid {
				t.Errorf("Create(%+v): %v", in, err)
			}
		}
		n, err := s.CountActive(ctx, "")
		if err != nil || n != 0 {
			t.Fatalf("active keys: %d %v", n, err)
		}
		keys, err := s.List(ctx, false)
		if err != nil || len(keys) != 1 || keys[0].RevokedAt == nil {
			t.Fatalf("list with revoked: %v %v", keys, err)
		}
	})
}

// Wrong secrets for a real id and a revoked key are answered from the cache: guessing
// does not cost a query per attempt (checked by closing the database after the first).
func TestFailedAttemptsAreCached(t *testing.T) {
	db := databasetest.Open(t)
	ctx := context.Background()
	s := New(db, nil)
	good, err := s.Create(ctx, CreateInput{Name: "a", Role: auth.RoleViewer})
	if err != nil {
		t.Fatal(err)
	}
	gone, err := s.Create(ctx, CreateInput{Name: "b", Role: auth.RoleViewer})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := New(db, nil).Revoke(ctx, gone.APIKey.ID); err != nil { // revoked elsewhere
		t.Fatal(err)
	}
	wrong := good.Key[:len(good.Key)-4] + "AAAA"
	if wrong == good.Key {
		wrong = good.Key[:len(good.Key)-4] + "BBBB"
	}
	for _, k := range []string{wrong, gone.Key} {
		if _, err := s.Authenticate(ctx, k); apperr.KindOf(err) != apperr.KindUnauthenticated {
			t.Fatalf("first attempt: %v", err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{wrong, gone.Key} {
		if _, err := s.Authenticate(ctx, k); apperr.KindOf(err) != apperr.KindUnauthenticated {
			t.Fatalf("a repeated attempt reached the database: %v", err)
		}
	}
	if _, err := s.Authenticate(ctx, good.Key); err != nil {
		t.Fatalf("the real key after a wrong guess: %v", err)
	}
}
