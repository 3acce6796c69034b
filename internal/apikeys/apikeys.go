// Package apikeys stores API keys (ent's APIKey) and authenticates requests with them.
// A key is shown once, when it is created; the database keeps its name, role, owner and
// the SHA-256 of its secret, never the secret (see internal/auth for the format).
package apikeys

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/ocrinvoice/ocrinvoice/ent"
	"github.com/ocrinvoice/ocrinvoice/ent/apikey"
	"github.com/ocrinvoice/ocrinvoice/internal/apperr"
	"github.com/ocrinvoice/ocrinvoice/internal/auth"
	"github.com/ocrinvoice/ocrinvoice/internal/ids"
)

// CacheTTL is how long a verified key is trusted without asking the database again. A
// key revoked through another process (the command line, another API replica) stops
// working within this time; one revoked through this Store stops at once.
const CacheTTL = 5 * time.Second

// lastUsedEvery throttles the last_used_at write of a key to one per interval.
const lastUsedEvery = time.Minute

// Bounds of the caches. Verified keys come from the database, so their cache is bounded
// by the keys that exist; unknown ids are whatever clients send, so theirs is bounded by
// count: beyond maxUnknown, expired ids go (looked for at most once per unknownSweep)
// and then arbitrary ones. Losing one only costs its next attempt a query.
const (
	maxCached    = 10000
	maxUnknown   = 10000
	unknownSweep = time.Second
)

// Limits of a key's fields.
const (
	MaxNameLen  = 128
	MaxOwnerLen = 256
	// MaxRateLimit bounds a per-key requests-per-second override.
	MaxRateLimit = 1e6
	// MaxUploadConcurrency bounds a per-key concurrent-uploads override.
	MaxUploadConcurrency = 10000
)

// Store creates, lists, revokes and verifies API keys. It is an auth.Authenticator. It is
// safe for concurrent use.
type Store struct {
	db  *ent.Client
	log *slog.Logger
	now func() time.Time

	mu    sync.Mutex
	cache map[string]cached // by key id
	// unknown holds ids the database did not have, until when they are answered as
	// unknown without asking it again (CacheTTL after the query). A separate map, so
	// that random ids cannot push verified keys out of cache.
	unknown   map[string]time.Time
	lastSweep time.Time // of unknown
}

type cached struct {
	hash     string
	p        auth.Principal
	limits   Limits
	until    time.Time
	lastUsed time.Time
}

// Limits are a key's own rate limits; zero fields mean "the configured default".
type Limits struct {
	RatePerSecond     float64
	UploadConcurrency int
}

// New returns a Store over db. logger may be nil.
func New(db *ent.Client, logger *slog.Logger) *Store {
	if logger == nil {
		logger = slog.Default()
	}
	return &Store{db: db, log: logger, now: time.Now, cache: map[string]cached{}, unknown: map[string]time.Time{}}
}

// CreateInput describes a new key.
type CreateInput struct {
	Name  string
	Role  auth.Role
	Owner string // defaults to Name for a submitter; may stay empty for admin and viewer
	// Limits override the configured rate limits for this key (zero: the default).
	Limits Limits
}

// Created is a new key: Key is the secret to hand over, shown this once.
type Created struct {
	Key    string
	APIKey *ent.APIKey
}

// Create stores a new key and returns it with its secret. A submitter without an owner
// gets its name as owner: every submitter acts for some owner.
// Errors: Invalid (naming the field).
func (s *Store) Create(ctx context.Context, in CreateInput) (*Created, error) {
	// The owner is compared with the createdBy of jobs, which internal/jobs stores in
	// Unicode normalisation form C: the key's owner must be in the same form.
	in.Name, in.Owner = strings.TrimSpace(in.Name), norm.NFC.String(strings.TrimSpace(in.Owner))
	var details []apperr.Detail
	if in.Name == "" || utf8.RuneCountInString(in.Name) > MaxNameLen {
		details = append(details, apperr.Detail{Field: "name", Message: fmt.Sprintf("is required, at most %d characters", MaxNameLen)})
	}
	if _, err := auth.ParseRole(string(in.Role)); err != nil {
		details = append(details, apperr.Detail{Field: "role", Message: "must be admin, submitter or viewer"})
	}
	if utf8.RuneCountInString(in.Owner) > MaxOwnerLen {
		details = append(details, apperr.Detail{Field: "owner", Message: fmt.Sprintf("must be at most %d characters", MaxOwnerLen)})
	}
	if r := in.Limits.RatePerSecond; r < 0 || r > MaxRateLimit || math.IsNaN(r) {
		details = append(details, apperr.Detail{Field: "rateLimit", Message: fmt.Sprintf("must be 0..%g requests per second (0: the default)", float64(MaxRateLimit))})
	}
	if c := in.Limits.UploadConcurrency; c < 0 || c > MaxUploadConcurrency {
		details = append(details, apperr.Detail{Field: "uploadConcurrency", Message: fmt.Sprintf("must be 0..%d (0: the default)", MaxUploadConcurrency)})
	}
	if len(details) > 0 {
		return nil, apperr.Invalid("invalid API key", details...)
	}
	if in.Role == auth.RoleSubmitter && in.Owner == "" {
		in.Owner = in.Name
	}
	key, id, hash, err := auth.NewKey()
	if err != nil {
		return nil, apperr.Internal(err)
	}
	c := s.db.APIKey.Create().
		SetID(id).
		SetName(in.Name).
		SetRole(apikey.Role(in.Role)).
		SetOwner(in.Owner).
		SetKeyHash(hash)
	if in.Limits.RatePerSecond > 0 {
		c.SetRateLimit(in.Limits.RatePerSecond)
	}
	if in.Limits.UploadConcurrency > 0 {
		c.SetUploadConcurrency(in.Limits.UploadConcurrency)
	}
	k, err := c.Save(ctx)
	if err != nil {
		return nil, apperr.Internal(fmt.Errorf("store API key: %w", err))
	}
	s.log.InfoContext(ctx, "API key created", slog.String("key_id", k.ID), slog.String("name", k.Name),
		slog.String("role", string(k.Role)), slog.String("owner", k.Owner))
	return &Created{Key: key, APIKey: k}, nil
}

// List returns every key, newest first; revoked ones too unless activeOnly.
func (s *Store) List(ctx context.Context, activeOnly bool) ([]*ent.APIKey, error) {
	q := s.db.APIKey.Query().Order(ent.Desc(apikey.FieldCreatedAt), ent.Desc(apikey.FieldID))
	if activeOnly {
		q.Where(apikey.RevokedAtIsNil())
	}
	keys, err := q.All(ctx)
	if err != nil {
		return nil, apperr.Internal(fmt.Errorf("list API keys: %w", err))
	}
	return keys, nil
}

// CountActive returns the number of keys that are not revoked, of role when role is set.
func (s *Store) CountActive(ctx context.Context, role auth.Role) (int, error) {
	q := s.db.APIKey.Query().Where(apikey.RevokedAtIsNil())
	if role != "" {
		q.Where(apikey.RoleEQ(apikey.Role(role)))
	}
	n, err := q.Count(ctx)
	if err != nil {
		return 0, apperr.Internal(fmt.Errorf("count API keys: %w", err))
	}
	return n, nil
}

// Revoke marks the key revoked; it stops working at once in this process and within
// CacheTTL in others. Revoking a revoked key is a no-op that returns it.
// Errors: Invalid (not an id), NotFound.
func (s *Store) Revoke(ctx context.Context, id string) (*ent.APIKey, error) {
	if !ids.Valid(id) {
		return nil, apperr.InvalidField("id", "must be 24 lowercase hexadecimal characters")
	}
	k, err := s.db.APIKey.Get(ctx, id)
	if ent.IsNotFound(err) {
		return nil, apperr.NotFound(fmt.Sprintf("API key %s not found", id))
	}
	if err != nil {
		return nil, apperr.Internal(fmt.Errorf("get API key: %w", err))
	}
	s.mu.Lock()
	delete(s.cache, id)
	s.mu.Unlock()
	if k.RevokedAt != nil {
		return k, nil
	}
	k, err = k.Update().SetRevokedAt(s.now().UTC().Truncate(time.Microsecond)).Save(ctx)
	if err != nil {
		return nil, apperr.Internal(fmt.Errorf("revoke API key: %w", err))
	}
	s.mu.Lock()
	delete(s.cache, id)
	s.mu.Unlock()
	s.log.InfoContext(ctx, "API key revoked", slog.String("key_id", id), slog.String("name", k.Name))
	return k, nil
}

// errUnknownKey is the one answer for every key that does not authenticate, whatever
// the reason (malformed, unknown, wrong secret, revoked), so that it reveals nothing.
var errUnknownKey = apperr.Unauthenticated("invalid or revoked API key")

// Authenticate returns the principal of key, with the key's own limits. Errors:
// Unauthenticated, Unavailable (the database does not answer).
//
// Each key id costs at most one database query per CacheTTL, whatever the answer: a
// valid key, a wrong secret for a real id, a revoked key, and an id the database does
// not have are all remembered, so that repeated attempts are answered from memory (in
// about the same time, whether or not the id exists). A key created through another
// process may therefore be refused for up to CacheTTL if its id was tried just before.
func (s *Store) Authenticate(ctx context.Context, key string) (auth.Principal, error) {
	p, _, err := s.authenticate(ctx, key)
	return p, err
}

func (s *Store) authenticate(ctx context.Context, key string) (auth.Principal, Limits, error) {
	id, sum, err := auth.ParseKey(key)
	if err != nil {
		return auth.Principal{}, Limits{}, errUnknownKey
	}
	now := s.now()
	s.mu.Lock()
	c, ok := s.cache[id]
	unknownUntil, unknown := s.unknown[id]
	s.mu.Unlock()
	if unknown && now.Before(unknownUntil) {
		return auth.Principal{}, Limits{}, errUnknownKey
	}
	if ok && now.Before(c.until) {
		if !auth.HashMatches(c.hash, sum) {
			return auth.Principal{}, Limits{}, errUnknownKey
		}
		s.touch(ctx, id, c, now)
		return c.p, c.limits, nil
	}
	k, err := s.db.APIKey.Get(ctx, id)
	switch {
	case ent.IsNotFound(err):
		s.rememberUnknown(id, now)
		return auth.Principal{}, Limits{}, errUnknownKey
	case err != nil:
		return auth.Principal{}, Limits{}, apperr.Unavailable("cannot check the API key now", err)
	case k.RevokedAt != nil:
		// Remembered as a hash nothing matches, so that a revoked key (or guesses at the
		// secret of a known id) cost no query per request for CacheTTL.
		s.remember(id, cached{hash: "", until: now.Add(CacheTTL)})
		return auth.Principal{}, Limits{}, errUnknownKey
	}
	c = cached{hash: k.KeyHash, until: now.Add(CacheTTL),
		p: auth.Principal{KeyID: k.ID, Name: k.Name, Role: auth.Role(k.Role), Owner: k.Owner}}
	if k.RateLimit != nil {
		c.limits.RatePerSecond = *k.RateLimit
	}
	if k.UploadConcurrency != nil {
		c.limits.UploadConcurrency = *k.UploadConcurrency
	}
	c.p.RateLimit, c.p.UploadConcurrency = c.limits.RatePerSecond, c.limits.UploadConcurrency
	if k.LastUsedAt != nil {
		c.lastUsed = *k.LastUsedAt
	}
	// The row is remembered whether or not this secret matches: a wrong secret for a
	// real id must not cost a query on every attempt.
	s.remember(id, c)
	if !auth.HashMatches(k.KeyHash, sum) {
		return auth.Principal{}, Limits{}, errUnknownKey
	}
	s.touch(ctx, id, c, now)
	return c.p, c.limits, nil
}

// remember caches the verification data of key id.
func (s *Store) remember(id string, c cached) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.cache) > maxCached { // ids come from the database, but stay bounded anyway
		clear(s.cache)
	}
	s.cache[id] = c
}

// rememberUnknown caches that the database has no key id, for CacheTTL from now, within
// maxUnknown entries.
func (s *Store) rememberUnknown(id string, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.unknown) >= maxUnknown && now.Sub(s.lastSweep) >= unknownSweep {
		s.lastSweep = now
		for k, until := range s.unknown {
			if !now.Before(until) {
				delete(s.unknown, k)
			}
		}
	}
	for k := range s.unknown {
		if len(s.unknown) < maxUnknown {
			break
		}
		delete(s.unknown, k)
	}
	s.unknown[id] = now.Add(CacheTTL)
}

// touch records that the key was used, at most once per lastUsedEvery, without
// holding up the request.
func (s *Store) touch(ctx context.Context, id string, c cached, now time.Time) {
	if now.Sub(c.lastUsed) < lastUsedEvery {
		return
	}
	s.mu.Lock()
	if cur, ok := s.cache[id]; ok {
		cur.lastUsed = now
		s.cache[id] = cur
	}
	s.mu.Unlock()
	go func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		err := s.db.APIKey.UpdateOneID(id).SetLastUsedAt(now.UTC().Truncate(time.Microsecond)).Exec(ctx)
		if err != nil && !ent.IsNotFound(err) && !errors.Is(err, context.Canceled) {
			s.log.Debug("Could not record API key use", slog.String("key_id", id), slog.Any("error", err))
		}
	}()
}
