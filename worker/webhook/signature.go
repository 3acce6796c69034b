package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// DefaultTolerance is the largest age (or clock skew into the future) of a signature
// timestamp that Verify accepts when given a tolerance <= 0.
const DefaultTolerance = 5 * time.Minute

// Errors of Verify; each failure wraps exactly one of them.
var (
	// ErrNoSignature: the header is empty or carries no v1 signature.
	ErrNoSignature = errors.New("webhook signature missing")
	// ErrMalformedSignature: the header is not "t=<unix seconds>,v1=<hex>[,v1=...]".
	ErrMalformedSignature = errors.New("webhook signature malformed")
	// ErrSignatureMismatch: no v1 value is the HMAC of the body with the secret (wrong
	// secret, or a body or timestamp changed on the way).
	ErrSignatureMismatch = errors.New("webhook signature does not match")
	// ErrSignatureExpired: the timestamp is further from now than the tolerance (a
	// replayed delivery, or clocks far apart).
	ErrSignatureExpired = errors.New("webhook signature timestamp outside the tolerance")
)

// Sign returns the X-Ocrinvoice-Signature value of body sent at t:
// "t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<unix seconds>.<body>")>".
func Sign(secret string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + mac(secret, ts, body)
}

func mac(secret, ts string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts))
	m.Write([]byte{'.'})
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// Verify checks an X-Ocrinvoice-Signature header against the raw body received, for
// receivers of ocrinvoice webhooks: the header must name a timestamp t and at least one
// v1 signature; one v1 must equal the HMAC-SHA256 of "<t>.<body>" under secret (compared
// in constant time; several v1 values are accepted so that a sender may sign with an
// old and a new secret while it is rotated), and t must be within tolerance of now
// (tolerance <= 0 means DefaultTolerance), which bounds replays. Unknown keys in the
// header are ignored. It returns nil when the delivery is authentic.
func Verify(secret, header string, body []byte, now time.Time, tolerance time.Duration) error {
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	header = strings.TrimSpace(header)
	if header == "" {
		return ErrNoSignature
	}
	var ts string
	var sigs []string
	for _, part := range strings.Split(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return fmt.Errorf("%w: %q is not key=value", ErrMalformedSignature, part)
		}
		switch k {
		case "t":
			if ts != "" {
				return fmt.Errorf("%w: two timestamps", ErrMalformedSignature)
			}
			ts = v
		case "v1":
			sigs = append(sigs, v)
		}
	}
	if len(sigs) == 0 {
		return ErrNoSignature
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: timestamp %q is not unix seconds", ErrMalformedSignature, ts)
	}
	want := mac(secret, ts, body)
	matched := false
	for _, s := range sigs {
		if hmac.Equal([]byte(strings.ToLower(s)), []byte(want)) {
			matched = true
		}
	}
	if !matched {
		return ErrSignatureMismatch
	}
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return fmt.Errorf("%w: signed at %s, %s from now (tolerance %s)", ErrSignatureExpired,
			time.Unix(sec, 0).UTC().Format(time.RFC3339), d.Round(time.Second), tolerance)
	}
	return nil
}
