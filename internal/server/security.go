package server

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/ocrinvoice/ocrinvoice/internal/apperr"
)

// Security headers. APICSP is the Content-Security-Policy of every response but the
// GraphiQL page and the Extra routes: API answers are data, never documents to render.
const (
	APICSP = "default-src 'none'; frame-ancestors 'none'"
	// DashboardCSP is the policy of the Extra routes (the asynqmon queue dashboard, an
	// admin-only single-page app): its scripts and styles from this origin, its two
	// inline bootstrap scripts (their text depends on the mount path, so they cannot be
	// pinned by hash), and the Google fonts its page links.
	DashboardCSP = "default-src 'self'; script-src 'self' 'unsafe-inline'; " +
		"style-src 'self' 'unsafe-inline' https://fonts.googleapis.com; font-src 'self' https://fonts.gstatic.com; " +
		"img-src 'self' data:; connect-src 'self'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
	hstsValue = "max-age=31536000"
)

// CORS answers: the methods of the API and the request headers API and GraphQL clients
// send (Apollo's CSRF and client-awareness headers, graphql-sse's stream token, the
// event stream's Last-Event-ID, the conditional headers of corrections and page images),
// and the response headers they read (the ETag a correction's If-Match quotes).
var (
	corsAllowMethods = "GET, POST, PUT, PATCH, DELETE, OPTIONS"
	corsAllowHeaders = strings.Join([]string{
		"Authorization", "Content-Type", "X-API-Key", "X-Request-Id",
		"Apollo-Require-Preflight", "X-Apollo-Operation-Name",
		"Apollographql-Client-Name", "Apollographql-Client-Version",
		"X-GraphQL-Event-Stream-Token", "Last-Event-ID", "If-Match", "If-None-Match",
	}, ", ")
	corsExposeHeaders = "Retry-After, X-Request-Id, ETag"
	corsMaxAge        = strconv.Itoa(600) // seconds a browser may cache a preflight
)

// headers sets the headers of every response and answers CORS preflights before routing
// (a preflight carries no credentials, so it must not reach authentication).
func (s *Server) headers(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.setResponseHeaders(w, r)
		if r.Method == http.MethodOptions && r.Header.Get("Origin") != "" &&
			r.Header.Get("Access-Control-Request-Method") != "" {
			s.preflight(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// setResponseHeaders sets the security headers and, for a listed origin, the CORS
// headers of an actual (non-preflight) response. Handlers may override the CSP (the
// playground and the dashboard do).
func (s *Server) setResponseHeaders(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Security-Policy", APICSP)
	if strings.HasPrefix(r.URL.Path, "/api/") || r.URL.Path == "/graphql" {
		h.Set("Cache-Control", "no-store")
	}
	// Only a browser that reached us over TLS may be told to insist on it: over plain
	// HTTP the header is meaningless, and it would be a lie behind an unknown proxy.
	if r.TLS != nil {
		h.Set("Strict-Transport-Security", hstsValue)
	}
	h.Add("Vary", "Origin")
	if allow, ok := s.cors.allow(r.Header.Get("Origin")); ok {
		h.Set("Access-Control-Allow-Origin", allow)
		h.Set("Access-Control-Expose-Headers", corsExposeHeaders)
	}
}

// preflight answers a CORS preflight: 204 with the allowed methods and headers for a
// listed origin, 403 without any CORS header for another.
func (s *Server) preflight(w http.ResponseWriter, r *http.Request) {
	st := stateOf(r)
	if st != nil {
		st.route = "preflight"
	}
	if _, ok := s.cors.allow(r.Header.Get("Origin")); !ok {
		s.reject(r, rejectCORS)
		writeError(w, r, apperr.Forbidden("this origin may not call the API from a browser"))
		return
	}
	h := w.Header()
	h.Set("Access-Control-Allow-Methods", corsAllowMethods)
	h.Set("Access-Control-Allow-Headers", corsAllowHeaders)
	h.Set("Access-Control-Max-Age", corsMaxAge)
	h.Del("Access-Control-Expose-Headers") // for actual responses only
	w.WriteHeader(http.StatusNoContent)
}

// corsPolicy is the set of origins allowed to call the API from a browser.
type corsPolicy struct {
	any     bool
	origins map[string]bool
}

// newCORSPolicy validates the configured origins: "*", or lowercase
// "http(s)://host[:port]" without path, query or user info.
func newCORSPolicy(list []string) (corsPolicy, error) {
	p := corsPolicy{origins: map[string]bool{}}
	for _, o := range list {
		if o == "*" {
			p.any = true
			continue
		}
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
			u.Path != "" || u.RawQuery != "" || u.Fragment != "" || strings.HasSuffix(o, "?") ||
			o != strings.ToLower(o) || o != u.Scheme+"://"+u.Host {
			return corsPolicy{}, fmt.Errorf("CORS origin %q: want a lowercase scheme://host[:port] such as https://app.example.com, or *", o)
		}
		p.origins[o] = true
	}
	return p, nil
}

// allow returns the Access-Control-Allow-Origin value for origin, and whether it is
// allowed at all. The origin is echoed as sent; "*" only when any origin is allowed.
func (p corsPolicy) allow(origin string) (string, bool) {
	switch {
	case origin == "":
		return "", false
	case p.any:
		return "*", true
	case p.origins[strings.ToLower(origin)]:
		return origin, true
	}
	return "", false
}

// dashboardCSP serves h (an Extra route) under DashboardCSP.
func dashboardCSP(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", DashboardCSP)
		h.ServeHTTP(w, r)
	})
}
