package server

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/ocrinvoice/ocrinvoice/internal/apperr"
	"github.com/ocrinvoice/ocrinvoice/internal/auth"
)

// surface is a class of protected route: it decides the challenge of a 401 and the
// rules beyond authentication.
type surface int

const (
	surfaceGraphQL   surface = iota // /graphql: a WebSocket upgrade may come without a key
	surfaceREST                     // /api/v1/...
	surfaceDashboard                // Extra routes: admins only, HTTP Basic challenge
)

// Rejection reasons, the label of ocrinvoice_http_rejections_total and the "rejected"
// attribute of the request log.
const (
	rejectUnauthenticated   = "unauthenticated"
	rejectForbidden         = "forbidden"
	rejectRateLimited       = "rate_limited"
	rejectUploadConcurrency = "upload_concurrency"
	rejectCORS              = "cors"
	rejectAuthFailures      = "auth_failures"
	rejectAnonymousRate     = "anonymous_rate"
	rejectQueryBudget       = "query_budget"
)

var rejectReasons = []string{rejectUnauthenticated, rejectForbidden, rejectRateLimited, rejectUploadConcurrency, rejectCORS, rejectAuthFailures, rejectAnonymousRate, rejectQueryBudget}

const (
	realm            = `realm="ocrinvoice"`
	msgKeyRequired   = "an API key is required: send Authorization: Bearer <key> (or X-API-Key)"
	msgAdminRequired = "this page needs an admin API key"
	// The API refuses HTTP Basic: only the dashboard takes it.
	msgBasicDashboardOnly = "send the API key as Authorization: Bearer <key> (or X-API-Key); HTTP Basic is accepted by the queue dashboard only"
	msgCrossSite          = "cross-site requests that change the queue are refused"
)

// protect authenticates a request to a protected route and applies the per-key limits,
// then serves it with the principal in its context:
//
//   - Auth nil: the request runs as auth.Local, limited per client address
//     (Options.AnonymousRate: 429 with Retry-After beyond).
//   - No key: limited per client address like Auth nil, then 401 with a Bearer
//     challenge (Basic on the dashboard), except a WebSocket upgrade of /graphql, which
//     passes without a principal and authenticates in connection_init.
//   - A key from a client address over its failed authentications
//     (Options.AuthFailureRate): 429 with Retry-After, the key not looked up.
//   - A key that does not authenticate: 401, and one failure counted for the client
//     address (the one over its budget: 429); the authenticator unavailable: 503.
//   - Dashboard and not an admin: 403.
//   - Over the key's rate (Options.RateLimiter's when set, shared by the replicas; this
//     process's own while it fails): 429 with Retry-After; an upload beyond the key's
//     concurrent uploads (Options.UploadLeases' count when set, shared by the replicas;
//     this process's while they fail): 429 with Retry-After: 1. The upload holds its
//     slot until it is answered.
//   - Its database work runs under Options.QueryTimeout per statement; a client (key,
//     or address without one) whose budget of database time (Options.QueryBudget) is
//     spent: 429 with Retry-After (see boundQueries).
//
// The key itself is never logged; the request log names the key id of a valid key.
func (s *Server) protect(sf surface, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := auth.Local
		if s.opts.Auth == nil && !s.allowAnonymous(w, r) {
			return
		}
		if s.opts.Auth != nil {
			if sf != surfaceDashboard && isBasicAuth(r) {
				// Browsers replay cached Basic credentials on their own; the API takes
				// keys only from headers a page cannot make a browser send cross-site.
				s.unauthenticated(w, r, sf, msgBasicDashboardOnly, "invalid_request")
				return
			}
			if sf == surfaceDashboard && crossSite(r) {
				// The dashboard is opened in a browser with Basic credentials, which the
				// browser would also attach to a forged cross-site form POST.
				s.reject(r, rejectForbidden)
				writeError(w, r, apperr.Forbidden(msgCrossSite))
				return
			}
			key := auth.TokenFromRequest(r)
			if key == "" {
				if !s.allowAnonymous(w, r) {
					return
				}
				if sf == surfaceGraphQL && isWebSocketUpgrade(r) {
					// The key comes in connection_init; it draws from the same budget
					// of failures as a key in a header (see auth.FailureGate).
					if s.opts.AuthFailureRate > 0 {
						r = derive(r, auth.WithFailureGate(r.Context(), failureGate{s: s, client: s.failureClient(r)}))
					}
					next.ServeHTTP(w, r)
					return
				}
				s.unauthenticated(w, r, sf, msgKeyRequired, "")
				return
			}
			// Failed authentications are limited per client address before the key is
			// looked up: guessing keys, or sending a stolen revoked one in a loop, must
			// not cost a lookup each time.
			client := ""
			if s.opts.AuthFailureRate > 0 {
				client = s.failureClient(r)
				if retry, blocked := s.limits.blocked(client); blocked {
					s.tooManyFailures(w, r, retry)
					return
				}
			}
			var err error
			p, err = s.opts.Auth.Authenticate(r.Context(), key)
			if err != nil {
				if client != "" && apperr.KindOf(err) == apperr.KindUnauthenticated {
					if ok, retry := s.limits.spend(r.Context(), client, s.opts.AuthFailureRate, s.authFailureBurst()); !ok {
						s.tooManyFailures(w, r, retry)
						return
					}
				}
				s.authFailed(w, r, sf, err)
				return
			}
			if st := stateOf(r); st != nil {
				st.keyID = p.KeyID
			}
			if sf == surfaceDashboard && !p.Role.Includes(auth.RoleAdmin) {
				s.reject(r, rejectForbidden)
				writeError(w, r, apperr.Forbidden(msgAdminRequired))
				return
			}
		}
		if p.KeyID != "" && !s.allowRate(w, r, p) {
			return
		}
		r = derive(r, auth.WithPrincipal(r.Context(), p))
		r, charge, ok := s.boundQueries(w, r, p)
		if !ok {
			return
		}
		defer charge()
		if p.KeyID != "" && isUpload(sf, r) {
			limit := s.opts.UploadConcurrency
			if p.UploadConcurrency > 0 {
				limit = p.UploadConcurrency
			}
			if limit > 0 {
				release, ok := s.limits.acquireUpload(r.Context(), p.KeyID, limit)
				if !ok {
					w.Header().Set("Retry-After", "1")
					s.reject(r, rejectUploadConcurrency)
					writeError(w, r, apperr.RateLimited(
						fmt.Sprintf("this API key already has %d uploads in flight; retry when one has finished", limit)))
					return
				}
				defer release()
			}
		}
		next.ServeHTTP(w, r)
	})
}

// unauthenticated answers 401 with the challenge of the surface.
func (s *Server) unauthenticated(w http.ResponseWriter, r *http.Request, sf surface, msg, bearerError string) {
	challenge := "Bearer " + realm
	switch {
	case sf == surfaceDashboard:
		// A browser prompts for Basic credentials; the key is the password.
		challenge = `Basic ` + realm + `, charset="UTF-8"`
	case bearerError != "":
		challenge += `, error="` + bearerError + `"`
	}
	w.Header().Set("WWW-Authenticate", challenge)
	s.reject(r, rejectUnauthenticated)
	writeError(w, r, apperr.Unauthenticated(msg))
}

// authFailed answers a key that did not authenticate.
func (s *Server) authFailed(w http.ResponseWriter, r *http.Request, sf surface, err error) {
	switch apperr.KindOf(err) {
	case apperr.KindUnauthenticated:
		s.unauthenticated(w, r, sf, apperr.As(err).PublicMessage(), "invalid_token")
	case apperr.KindUnavailable:
		s.logger.WarnContext(r.Context(), "Cannot authenticate a request",
			slog.String("path", r.URL.Path), slog.String("error", err.Error()))
		writeError(w, r, apperr.Unavailable("cannot check the API key now, try again later", err))
	default:
		s.logger.ErrorContext(r.Context(), "Cannot authenticate a request",
			slog.String("path", r.URL.Path), slog.String("error", err.Error()))
		writeError(w, r, &apperr.Error{Kind: apperr.KindInternal, Message: "cannot authenticate the request", Err: err})
	}
}

// authFailurePrefix starts the limiter key of a client address's failed
// authentications (key ids, the keys of request rates, are hexadecimal).
const authFailurePrefix = "authfail:"

// failureClient returns the limiter key of r's client address for failed
// authentications (and records the address for the request log).
func (s *Server) failureClient(r *http.Request) string {
	addr := clientAddr(r, s.opts.TrustedProxies)
	if st := stateOf(r); st != nil {
		st.client = addr
	}
	return authFailurePrefix + clientKey(addr)
}

// failureGate is the auth.FailureGate of one client address, over the server's limiters.
type failureGate struct {
	s      *Server
	client string
}

func (g failureGate) Allow(context.Context) (int, bool) {
	retry, blocked := g.s.limits.blocked(g.client)
	return retry, !blocked
}

func (g failureGate) Failed(ctx context.Context) (int, bool) {
	ok, retry := g.s.limits.spend(ctx, g.client, g.s.opts.AuthFailureRate, g.s.authFailureBurst())
	return retry, ok
}

// authFailureBurst is Options.AuthFailureBurst, or twice the rate rounded up.
func (s *Server) authFailureBurst() int {
	if s.opts.AuthFailureBurst > 0 {
		return s.opts.AuthFailureBurst
	}
	return max(1, int(math.Ceil(2*s.opts.AuthFailureRate)))
}

// tooManyFailures answers a client address over its failed authentications: 429 with
// Retry-After.
func (s *Server) tooManyFailures(w http.ResponseWriter, r *http.Request, retry int) {
	w.Header().Set("Retry-After", strconv.Itoa(retry))
	s.reject(r, rejectAuthFailures)
	writeError(w, r, apperr.RateLimited(
		fmt.Sprintf("too many requests with invalid API keys from this address; retry in %d s", retry)))
}

// anonymousPrefix starts the limiter key of a client address's requests without a key.
const anonymousPrefix = "anon:"

// anonymous limits next per client address (Options.AnonymousRate): for public pages.
func (s *Server) anonymous(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.allowAnonymous(w, r) {
			next.ServeHTTP(w, r)
		}
	})
}

// allowAnonymous takes one token of the budget of r's client address for requests that
// carry no API key (Options.AnonymousRate), or answers 429 with Retry-After and returns
// false. Like allowRate it asks the shared RateLimiter when there is one.
func (s *Server) allowAnonymous(w http.ResponseWriter, r *http.Request) bool {
	rps := s.opts.AnonymousRate
	if rps <= 0 {
		return true
	}
	burst := s.opts.AnonymousBurst
	if burst <= 0 {
		burst = max(1, int(math.Ceil(2*rps)))
	}
	addr := clientAddr(r, s.opts.TrustedProxies)
	if st := stateOf(r); st != nil {
		st.client = addr
	}
	ok, retry := s.limits.allowRequest(r.Context(), anonymousPrefix+clientKey(addr), rps, burst)
	if ok {
		return true
	}
	w.Header().Set("Retry-After", strconv.Itoa(retry))
	s.reject(r, rejectAnonymousRate)
	writeError(w, r, apperr.RateLimited(
		fmt.Sprintf("too many requests without an API key from this address; retry in %d s", retry)))
	return false
}

// allowRate takes one token of p's rate limiter, or answers 429 and returns false.
func (s *Server) allowRate(w http.ResponseWriter, r *http.Request, p auth.Principal) bool {
	rps := s.opts.RateLimit
	if p.RateLimit > 0 {
		rps = p.RateLimit
	}
	if rps <= 0 {
		return true
	}
	burst := s.opts.RateBurst
	if burst <= 0 {
		burst = max(1, int(math.Ceil(rps)))
	}
	ok, retry := s.limits.allowRequest(r.Context(), p.KeyID, rps, burst)
	if ok {
		return true
	}
	w.Header().Set("Retry-After", strconv.Itoa(retry))
	s.reject(r, rejectRateLimited)
	writeError(w, r, apperr.RateLimited(
		fmt.Sprintf("rate limit of %g requests per second exceeded; retry in %d s", rps, retry)))
	return false
}

// reject counts a refusal by reason and names it in the request log.
func (s *Server) reject(r *http.Request, reason string) {
	s.metrics.rejections.WithLabelValues(reason).Inc()
	if st := stateOf(r); st != nil {
		st.reject = reason
	}
}

// isWebSocketUpgrade reports a WebSocket opening handshake.
func isWebSocketUpgrade(r *http.Request) bool {
	return headerHasToken(r.Header, "Connection", "upgrade") && headerHasToken(r.Header, "Upgrade", "websocket")
}

func headerHasToken(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for t := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

// isUpload reports a document upload: POST /api/v1/uploads, or a multipart GraphQL
// request (the uploadDocument mutation).
func isUpload(sf surface, r *http.Request) bool {
	if r.Method != http.MethodPost {
		return false
	}
	switch sf {
	case surfaceREST:
		return strings.TrimSuffix(r.URL.Path, "/") == "/api/v1/uploads"
	case surfaceGraphQL:
		mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
		return err == nil && mt == "multipart/form-data"
	}
	return false
}

// isBasicAuth reports HTTP Basic credentials in Authorization.
func isBasicAuth(r *http.Request) bool {
	scheme, _, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	return strings.EqualFold(scheme, "basic")
}

// crossSite reports a request that may change state (not GET, HEAD or OPTIONS) and that a
// browser marks as coming from another site: Sec-Fetch-Site cross-site or same-site, or an
// Origin whose host is not the request's.
func crossSite(r *http.Request) bool {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return false
	}
	switch r.Header.Get("Sec-Fetch-Site") {
	case "cross-site", "same-site":
		return true
	}
	origin := r.Header.Get("Origin")
	if origin == "" {
		return false
	}
	if origin == "null" {
		return true
	}
	_, host, ok := strings.Cut(origin, "://")
	return !ok || !strings.EqualFold(host, r.Host)
}
