package redact

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

const upload = "upload://3fa9c2d1e4b5a6978812aabbccddeeff00112233445566778899aabbccddeeff"

func TestURL(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"empty", "", ""},
		{"nothing secret", "https://files.example.com/a/invoice.pdf", "https://files.example.com/a/invoice.pdf"},
		{"pre-signed", "https://bucket.s3.amazonaws.com/inv.pdf?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAEXAMPLE%2F20240101&X-Amz-Signature=SECRETSIG123",
			"https://bucket.s3.amazonaws.com/inv.pdf?X-Amz-Algorithm=REDACTED&X-Amz-Credential=REDACTED&X-Amz-Signature=REDACTED"},
		{"user and password", "https://user:pass@files.example.com:8443/inv.pdf", "https://REDACTED@files.example.com:8443/inv.pdf"},
		{"user only", "http://token@files.example.com/", "http://REDACTED@files.example.com/"},
		{"@ in the password", "http://u:p@ss@h.example/x", "http://REDACTED@h.example/x"},
		{"@ in the path is not user information", "https://h.example/@team/inv.pdf", "https://h.example/@team/inv.pdf"},
		{"both", "http://user:pass@127.0.0.1:8080/x.pdf?sig=abc&v=", "http://REDACTED@127.0.0.1:8080/x.pdf?sig=REDACTED&v="},
		{"bare query element", "https://h.example/x?SECRETTOKEN", "https://h.example/x?REDACTED"},
		{"empty query", "https://h.example/x?", "https://h.example/x?"},
		{"repeated separators", "https://h.example/x?a=1&&b=2", "https://h.example/x?a=REDACTED&&b=REDACTED"},
		{"fragment", "https://h.example/x#access_token=abc", "https://h.example/x#REDACTED"},
		{"query and fragment", "https://h.example/x?k=v#f", "https://h.example/x?k=REDACTED#REDACTED"},
		{"upload", upload, "upload://3fa9c2d1…"},
		{"short upload key", "upload://abc", "upload://abc"},
		{"Go's stripped password", "http://user:***@h.example/x", "http://REDACTED@h.example/x"},
		{"unparsable", "http://user:pass@h.example/%zz?sig=S3CR3T", "http://REDACTED@h.example/%zz?sig=REDACTED"},
		{"no scheme", "files.example.com/x?sig=abc", "files.example.com/x?sig=REDACTED"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := URL(tt.in)
			if got != tt.want {
				t.Fatalf("URL(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if again := URL(got); again != got {
				t.Errorf("not idempotent: URL(%q) = %q", got, again)
			}
		})
	}
}

func TestText(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"no URL", "document is corrupt", "document is corrupt"},
		{"url.Error shape", `download http://h.example/x.pdf?sig=REDACTED: Get "http://user:***@h.example/x.pdf?sig=abc&k=1": EOF`,
			`download http://h.example/x.pdf?sig=REDACTED: Get "http://REDACTED@h.example/x.pdf?sig=REDACTED&k=REDACTED": EOF`},
		{"trailing punctuation stays", "see https://h.example/x?t=abc.", "see https://h.example/x?t=REDACTED."},
		{"in parentheses", "(from https://h.example/x?t=abc)", "(from https://h.example/x?t=REDACTED)"},
		{"two URLs", "http://a.example/?s=1 -> https://u:p@b.example/?s=2", "http://a.example/?s=REDACTED -> https://REDACTED@b.example/?s=REDACTED"},
		{"escaped quote inside a quoted URL", `Get "http://h.example/?s=ab\"cd": EOF`, `Get "http://h.example/?s=REDACTED": EOF`},
		{"upload", "upload not found: " + upload, "upload not found: upload://3fa9c2d1…"},
		{"scheme glued to text", "x:http://h.example/?s=1", "x:http://h.example/?s=REDACTED"},
		{"separator without scheme", "a :// b?c=d", "a :// b?c=d"},
		{"single quotes", "url 'https://h.example/?s=1' refused", "url 'https://h.example/?s=REDACTED' refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Text(tt.in); got != tt.want {
				t.Fatalf("Text(%q)\n = %q\nwant %q", tt.in, got, tt.want)
			}
		})
	}
}

// TestErrorOfARealRequest: the *url.Error net/http returns for a failed request repeats
// the URL with its query; Error removes the secrets from the message and from the
// *url.Error itself, and errors.Is and errors.As still work through the result.
func TestErrorOfARealRequest(t *testing.T) {
	// A port nothing listens on: the connection is refused at once.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	target := "http://user:pass@" + addr + "/inv.pdf?X-Amz-Signature=SECRETSIG123&X-Amz-Credential=AKIAEXAMPLE"
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, reqErr := http.DefaultClient.Do(req)
	if reqErr == nil {
		t.Fatal("request to a closed port succeeded")
	}
	if !strings.Contains(reqErr.Error(), "SECRETSIG123") {
		t.Fatalf("net/http no longer repeats the query (%v): this test plants nothing", reqErr)
	}
	sentinel := errors.New("sentinel")
	wrapped := fmt.Errorf("download %s: %w: %w", target, reqErr, sentinel)
	got := Error(wrapped)
	for _, secret := range []string{"SECRETSIG123", "AKIAEXAMPLE", "pass@", "user:"} {
		if strings.Contains(got.Error(), secret) {
			t.Errorf("redacted error %q still carries %q", got, secret)
		}
	}
	if !strings.Contains(got.Error(), "X-Amz-Signature=REDACTED") || !strings.Contains(got.Error(), addr) {
		t.Errorf("redacted error %q lost the shape of the URL", got)
	}
	if !errors.Is(got, sentinel) {
		t.Error("errors.Is does not see through the redacted error")
	}
	var ue *url.Error
	if !errors.As(got, &ue) || strings.Contains(ue.URL, "SECRETSIG123") || strings.Contains(ue.Error(), "pass") {
		t.Errorf("*url.Error in the chain: %v", ue)
	}
	if Error(nil) != nil {
		t.Error("Error(nil) != nil")
	}
	plain := errors.New("document is corrupt")
	if Error(plain) != plain {
		t.Error("an error without a URL was wrapped")
	}
}

func BenchmarkText(b *testing.B) {
	msg := `download https://bucket.s3.amazonaws.com/inv.pdf?X-Amz-Signature=REDACTED: Get "https://bucket.s3.amazonaws.com/inv.pdf?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=SECRETSIG123": dial tcp: i/o timeout`
	for b.Loop() {
		_ = Text(msg)
	}
}
