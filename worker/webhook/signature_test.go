package webhook

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

func TestVerify(t *testing.T) {
	const secret = "s3cret"
	body := []byte(`{"_id":"0123456789abcdef01234567","status":"completed"}`)
	sent := time.Unix(1_700_000_000, 0)
	header := Sign(secret, sent, body)
	if want := fmt.Sprintf("t=%d,v1=", sent.Unix()); header[:len(want)] != want || len(header) != len(want)+64 {
		t.Fatalf("Sign = %q, want %s<64 hex>", header, want)
	}
	other := Sign("old-secret", sent, body)
	tests := []struct {
		name   string
		secret string
		header string
		body   []byte
		now    time.Time
		tol    time.Duration
		want   error
	}{
		{"valid", secret, header, body, sent.Add(time.Minute), 0, nil},
		{"valid at the edge of the tolerance", secret, header, body, sent.Add(30 * time.Second), 30 * time.Second, nil},
		{"receiver clock a little behind", secret, header, body, sent.Add(-time.Minute), 0, nil},
		{"rotation: one of two v1 matches", secret, other + ",v1=" + header[len(header)-64:], body, sent, 0, nil},
		{"unknown keys ignored", secret, header + ",v0=abc", body, sent, 0, nil},
		{"upper-case hex", secret, header[:len(header)-64] + upper(header[len(header)-64:]), body, sent, 0, nil},
		{"wrong secret", "not-the-secret", header, body, sent, 0, ErrSignatureMismatch},
		{"tampered body", secret, header, []byte(`{"_id":"0123456789abcdef01234567","status":"failed"}`), sent, 0, ErrSignatureMismatch},
		{"tampered timestamp", secret, fmt.Sprintf("t=%d,%s", sent.Unix()+1, header[len("t=1700000000,"):]), body, sent, 0, ErrSignatureMismatch},
		{"old timestamp", secret, header, body, sent.Add(DefaultTolerance + time.Second), 0, ErrSignatureExpired},
		{"old for a short tolerance", secret, header, body, sent.Add(2 * time.Second), time.Second, ErrSignatureExpired},
		{"timestamp far in the future", secret, header, body, sent.Add(-time.Hour), 0, ErrSignatureExpired},
		{"future at the edge of the tolerance", secret, header, body, sent.Add(-DefaultTolerance), 0, nil},
		{"future just beyond the tolerance", secret, header, body, sent.Add(-DefaultTolerance - time.Second), 0, ErrSignatureExpired},
		{"future beyond a short tolerance", secret, header, body, sent.Add(-2 * time.Second), time.Second, ErrSignatureExpired},
		{"empty header", secret, "", body, sent, 0, ErrNoSignature},
		{"no v1", secret, "t=1700000000", body, sent, 0, ErrNoSignature},
		{"no timestamp", secret, "v1=" + header[len(header)-64:], body, sent, 0, ErrMalformedSignature},
		{"timestamp not a number", secret, "t=yesterday,v1=00", body, sent, 0, ErrMalformedSignature},
		{"not key=value", secret, "garbage", body, sent, 0, ErrMalformedSignature},
		{"two timestamps", secret, "t=1,t=2,v1=00", body, sent, 0, ErrMalformedSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Verify(tt.secret, tt.header, tt.body, tt.now, tt.tol)
			if tt.want == nil && err != nil {
				t.Fatalf("Verify = %v, want nil", err)
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("Verify = %v, want %v", err, tt.want)
			}
		})
	}
}

func upper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'f' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}
