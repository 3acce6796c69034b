// Package redact removes the secrets a URL may carry before the URL reaches an error
// message, a log line, a job's errorLog or a queue task's stored error. Pre-signed
// document URLs carry their signature and credential in the query
// (X-Amz-Signature=..., sig=...), callback URLs often a token, and any http(s) URL may
// carry a user name and password; Go's own errors (net/http's *url.Error) repeat the
// URL they failed on in full.
//
// URL is the one rule; Text applies it to every URL found in a message, and Error to an
// error's message and to the *url.Error values in its chain. The package is a leaf: it
// imports nothing of ocrinvoice.
package redact

import (
	"net/url"
	"strings"
)

// Mask replaces every secret.
const Mask = "REDACTED"

// uploadKeyShown is how many characters of an upload key URL keeps: enough to tell
// uploads apart in a log, far too few to name one (the key is a SHA-256 in hex, and
// whoever knows it may create jobs reading the document).
const uploadKeyShown = 8

// URL returns raw with its secrets replaced:
//
//   - the user information (user name and password) becomes Mask:
//     https://REDACTED@host/path;
//   - every query value becomes Mask and the keys stay, in their order, so that the URL
//     can still be recognised: ?X-Amz-Signature=REDACTED&X-Amz-Credential=REDACTED (an
//     empty value stays empty; a query element without "=" may itself be a token and
//     becomes Mask);
//   - a fragment becomes Mask;
//   - an upload URL keeps the first 8 characters of its key: upload://3fa9c2d1…
//
// Scheme, host, port and path are kept as given. URL does not need raw to parse as a
// URL (it works on the text, so an invalid URL in an error message is redacted too), is
// idempotent, and returns "" for "".
func URL(raw string) string {
	if raw == "" {
		return ""
	}
	s, frag, hasFrag := strings.Cut(raw, "#")
	s, query, hasQuery := strings.Cut(s, "?")
	if i := strings.Index(s, "://"); i >= 0 {
		scheme, rest := s[:i], s[i+3:]
		if strings.EqualFold(scheme, "upload") {
			rest = UploadKey(rest)
		} else {
			authority, path := rest, ""
			if j := strings.IndexByte(rest, '/'); j >= 0 {
				authority, path = rest[:j], rest[j:]
			}
			if at := strings.LastIndexByte(authority, '@'); at >= 0 {
				authority = Mask + "@" + authority[at+1:]
			}
			rest = authority + path
		}
		s = scheme + "://" + rest
	}
	var b strings.Builder
	b.Grow(len(raw))
	b.WriteString(s)
	if hasQuery {
		b.WriteByte('?')
		for i, part := range strings.Split(query, "&") {
			if i > 0 {
				b.WriteByte('&')
			}
			key, value, hasValue := strings.Cut(part, "=")
			switch {
			case !hasValue && part != "":
				b.WriteString(Mask)
			case !hasValue:
			case value == "":
				b.WriteString(key + "=")
			default:
				b.WriteString(key + "=" + Mask)
			}
		}
	}
	if hasFrag {
		b.WriteByte('#')
		if frag != "" {
			b.WriteString(Mask)
		}
	}
	return b.String()
}

// UploadKey is how logs and messages name an upload key (internal/uploads): its first
// uploadKeyShown characters and "…", so that no log line hands out a full key, which
// with an owner's record is what a job needs to name the document.
func UploadKey(key string) string {
	if len(key) <= uploadKeyShown || strings.HasSuffix(key, "…") && len(key) <= uploadKeyShown+len("…") {
		return key
	}
	return key[:uploadKeyShown] + "…"
}

// Text returns s with every URL in it (scheme://..., up to white space, a quote or an
// angle bracket) replaced by URL's redaction. Punctuation that ends a sentence or a
// clause after a URL (".", ",", ";", ":", ")") is kept outside it. Text without "://"
// is returned as it is.
func Text(s string) string {
	if !strings.Contains(s, "://") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	done := 0 // s[:done] is written
	for from := 0; ; {
		i := strings.Index(s[from:], "://")
		if i < 0 {
			break
		}
		i += from
		start := i
		for start > done && isSchemeChar(s[start-1]) {
			start--
		}
		// A scheme starts with a letter; skip digits and signs that only look like one.
		for start < i && !isLetter(s[start]) {
			start++
		}
		end := i + 3
		for end < len(s) && !endsURL(s, end) {
			end++
		}
		if start == i {
			from = i + 3 // "://" without a scheme
			continue
		}
		for end > i+3 && strings.IndexByte(".,;:)]}!", s[end-1]) >= 0 {
			end--
		}
		b.WriteString(s[done:start])
		b.WriteString(URL(s[start:end]))
		done, from = end, end
	}
	b.WriteString(s[done:])
	return b.String()
}

// endsURL reports whether s[i] ends a URL embedded in text. A quote escaped with a
// backslash (as %q writes a quote inside a URL) does not end it.
func endsURL(s string, i int) bool {
	switch c := s[i]; c {
	case ' ', '\t', '\n', '\r', '\'', '<', '>', '`':
		return true
	case '"':
		return i == 0 || s[i-1] != '\\'
	default:
		return false
	}
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

func isSchemeChar(c byte) bool {
	return isLetter(c) || c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.'
}

// Error returns err with the URLs of its message redacted: nil for nil, err itself
// when its message names no URL, else an error whose message is Text(err.Error()) and
// which unwraps to err, so that errors.Is and errors.As still see the whole chain. The
// URL of every *url.Error in the chain is redacted in place first, so that code reaching
// one with errors.As prints no secret either (the errors of an HTTP request belong to
// its caller, who is the one calling Error).
func Error(err error) error {
	if err == nil {
		return nil
	}
	redactURLErrors(err, 0)
	msg := err.Error()
	red := Text(msg)
	if red == msg {
		return err
	}
	return &redacted{msg: red, err: err}
}

// redacted is an error with a redacted message over the original chain.
type redacted struct {
	msg string
	err error
}

func (r *redacted) Error() string { return r.msg }
func (r *redacted) Unwrap() error { return r.err }

// redactURLErrors redacts the URL of every *url.Error in err's chain (both kinds of
// Unwrap), to a bounded depth.
func redactURLErrors(err error, depth int) {
	if err == nil || depth > 64 {
		return
	}
	if ue, ok := err.(*url.Error); ok && ue != nil {
		ue.URL = URL(ue.URL)
	}
	switch u := err.(type) {
	case interface{ Unwrap() error }:
		redactURLErrors(u.Unwrap(), depth+1)
	case interface{ Unwrap() []error }:
		for _, e := range u.Unwrap() {
			redactURLErrors(e, depth+1)
		}
	}
}
