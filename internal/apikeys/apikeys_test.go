package apikeys

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
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

// queryCounter counts the queries an ent client sends to its database.
type queryCounter struct{ n atomic.Int64 }

func countQueries(db *ent.Client) *queryCounter {
	c := &queryCounter{}
	db.Intercept(ent.InterceptFunc(func(next ent.Querier) ent.Querier {
		return ent.QuerierFunc(func(ctx context.Context, q ent.Query) (ent.Value, error) {
			c.n.Add(1)
			return next.Query(ctx, q)
		})
	}))
	return c
}

// TestUnknownIdIsCached: an id the database does not have costs one query per CacheTTL,
// like a real id with a wrong secret; another id costs its own; a key stored since (by
// another process) is found once the TTL has passed.
func TestUnknownIdIsCached(t *testing.T) {
	db := databasetest.Open(t)
	ctx := context.Background()
	queries := countQueries(db)
	s := New(db, nil)
	clock := time.Now()
	s.now = func() time.Time { return clock }
	authenticate := func(key string) error {
		t.Helper()
		_, err := s.Authenticate(ctx, key)
		return err
	}
	key, id, hash, err := auth.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	other, _, _, _ := auth.NewKey()

	steps := []struct {
		name    string
		key     string
		advance time.Duration
		queries int64 // in total after the step
	}{
		{"first attempt asks the database", key, 0, 1},
		{"second attempt is answered from memory", key, 0, 1},
		{"still within the TTL", key, CacheTTL - time.Millisecond, 1},
		{"another unknown id asks", other, 0, 2},
		{"after the TTL the database is asked again", key, time.Millisecond, 3},
		{"and remembered again", key, 0, 3},
	}
	for _, st := range steps {
		clock = clock.Add(st.advance)
		if err := authenticate(st.key); apperr.KindOf(err) != apperr.KindUnauthenticated {
			t.Fatalf("%s: %v, want unauthenticated", st.name, err)
		}
		if got := queries.n.Load(); got != st.queries {
			t.Errorf("%s: %d queries in total, want %d", st.name, got, st.queries)
		}
	}

	// Another process stores a key under the cached id: found once the TTL has passed.
	if err := db.APIKey.Create().SetID(id).SetName("late").SetRole("viewer").SetKeyHash(hash).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if err := authenticate(key); apperr.KindOf(err) != apperr.KindUnauthenticated {
		t.Fatalf("within the TTL: %v, want the cached answer", err)
	}
	clock = clock.Add(CacheTTL)
	if err := authenticate(key); err != nil {
		t.Fatalf("after the TTL: %v", err)
	}

}

// TestUnknownCacheIsBounded: random ids cannot grow the cache beyond maxUnknown, expired
// ids go first, and verified keys are not pushed out by them.
func TestUnknownCacheIsBounded(t *testing.T) {
	db := databasetest.Open(t)
	ctx := context.Background()
	s := New(db, nil)
	good, err := s.Create(ctx, CreateInput{Name: "a", Role: auth.RoleViewer})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate(ctx, good.Key); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	for i := range maxUnknown {
		s.rememberUnknown(fmt.Sprintf("old-%d", i), now)
	}
	later := now.Add(CacheTTL + time.Second)
	for i := range 3 * maxUnknown / 2 {
		s.rememberUnknown(fmt.Sprintf("new-%d", i), later)
	}
	s.mu.Lock()
	n, old := len(s.unknown), 0
	for k := range s.unknown {
		if strings.HasPrefix(k, "old-") {
			old++
		}
	}
	_, verified := s.cache[good.APIKey.ID]
	s.mu.Unlock()
	if n > maxUnknown {
		t.Errorf("%d unknown ids cached, want at most %d", n, maxUnknown)
	}
	if old != 0 {
		t.Errorf("%d expired ids kept while fresh ones were dropped", old)
	}
	if !verified {
		t.Error("the verified key was pushed out of its cache by unknown ids")
	}
}

// BenchmarkAuthenticate measures the answers to the kinds of key a client may send, from
// memory (the same key again within CacheTTL) and from the database (a new id each
// time). An unknown id answered from memory costs what a wrong secret for a real id does.
func BenchmarkAuthenticate(b *testing.B) {
	db := databasetest.Open(b)
	ctx := context.Background()
	s := New(db, nil)
	good, err := s.Create(ctx, CreateInput{Name: "a", Role: auth.RoleViewer})
	if err != nil {
		b.Fatal(err)
	}
	wrong := good.Key[:len(good.Key)-4] + "AAAA"
	if wrong == good.Key {
		wrong = good.Key[:len(good.Key)-4] + "BBBB"
	}
	unknown, _, _, _ := auth.NewKey()
	for _, bc := range []struct{ name, key string }{
		{"valid key cached", good.Key},
		{"wrong secret cached", wrong},
		{"unknown id cached", unknown},
	} {
		b.Run(bc.name, func(b *testing.B) {
			_, _ = s.Authenticate(ctx, bc.key)
			for b.Loop() {
				_, _ = s.Authenticate(ctx, bc.key)
			}
		})
	}
	b.Run("unknown id from the database", func(b *testing.B) {
		keys := make([]string, 0, 1024)
		for range cap(keys) {
			k, _, _, _ := auth.NewKey()
			keys = append(keys, k)
		}
		i := 0
		for b.Loop() {
			s.mu.Lock()
			clear(s.unknown)
			s.mu.Unlock()
			_, _ = s.Authenticate(ctx, keys[i%len(keys)])
			i++
		}
	})
}

// TestOwnersAreUnicodeSafe: a key's owner is what the jobs it creates get as createdBy,
// which internal/jobs keeps in NFC and limits in characters; the key's owner follows the
// same rules, so an NFD spelling is stored as NFC and 256 CJK characters fit.
func TestOwnersAreUnicodeSafe(t *testing.T) {
	databasetest.Each(t, func(t *testing.T, db *ent.Client) {
		ctx := context.Background()
		s := New(db, nil)
		const nfd, nfc = "Mu\u0308ller", "M\u00fcller"
		c, err := s.Create(ctx, CreateInput{Name: "nfd", Role: auth.RoleSubmitter, Owner: nfd})
		if err != nil {
			t.Fatal(err)
		}
		if c.APIKey.Owner != nfc {
			t.Errorf("owner %q, want the NFC %q", c.APIKey.Owner, nfc)
		}
		p, err := s.Authenticate(ctx, c.Key)
		if err != nil || p.Owner != nfc {
			t.Errorf("principal owner %q (%v), want %q", p.Owner, err, nfc)
		}
		long := strings.Repeat("請", MaxOwnerLen)
		if _, err := s.Create(ctx, CreateInput{Name: strings.Repeat("名", MaxNameLen), Role: auth.RoleSubmitter, Owner: long}); err != nil {
			t.Errorf("%d CJK characters of owner and %d of name: %v", MaxOwnerLen, MaxNameLen, err)
		}
		_, err = s.Create(ctx, CreateInput{Name: "x", Role: auth.RoleSubmitter, Owner: long + "請"})
		if ae := apperr.As(err); ae == nil || len(ae.Details) != 1 || ae.Details[0].Field != "owner" {
			t.Errorf("an owner of %d characters: %v, want Invalid naming owner", MaxOwnerLen+1, err)
		}
	})
}
