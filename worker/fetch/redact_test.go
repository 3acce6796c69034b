package fetch

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ocrinvoice/ocrinvoice/internal/uploads"
)

// Secrets planted in the URLs of TestGetErrorsCarryNoSecrets.
const (
	secretSig  = "SECRETSIG123"
	secretCred = "AKIAEXAMPLE7"
	secretPass = "hunter2pass"
	signed     = "X-Amz-Signature=" + secretSig + "&X-Amz-Credential=" + secretCred + "%2F20240101%2Fus-east-1"
)

// wantNoSecrets fails when msg carries a planted secret or lost the shape of the URL.
func wantNoSecrets(t *testing.T, what, msg string) {
	t.Helper()
	for _, s := range []string{secretSig, secretCred, secretPass, "user:"} {
		if strings.Contains(msg, s) {
			t.Errorf("%s carries %q: %s", what, s, msg)
		}
	}
}

// TestGetErrorsCarryNoSecrets: every way a download of a pre-signed URL with a user and
// password can fail (an error answer, a refused connection, a dropped connection, a
// redirect to a URL with its own secrets that the guard or the scheme rule refuses, an
// unparsable URL) returns an error naming the URL without its password and query
// values, and keeps its kind (ErrPermanent, ErrRefused).
func TestGetErrorsCarryNoSecrets(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/500.pdf", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "boom", 500) })
	mux.HandleFunc("/drop.pdf", func(w http.ResponseWriter, r *http.Request) {
		c, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			c.Close()
		}
	})
	mux.HandleFunc("/to", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, r.URL.Query().Get("u"), http.StatusFound)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	_, port, _ := net.SplitHostPort(host)

	// A port nothing listens on.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	_, closedPort, _ := net.SplitHostPort(closed)

	f := New(Options{Allow: loopbackOnly(), Timeout: 5 * time.Second,
		Resolver: stubResolver{"docs.example": {netip.MustParseAddr("127.0.0.1")}}})
	withSecrets := func(hostPort, path string) string {
		return "http://user:" + secretPass + "@" + hostPort + path + "?" + signed
	}
	redirect := func(to string) string {
		return withSecrets(host, "/to") + "&u=" + url.QueryEscape(to)
	}
	tests := []struct {
		name string
		url  string
		is   error  // nil: a transient error
		says string // part of the message
	}{
		{"404", withSecrets(host, "/missing.pdf"), ErrPermanent, "HTTP 404"},
		{"500", withSecrets(host, "/500.pdf"), nil, "HTTP 500"},
		{"connection refused", withSecrets(closed, "/inv.pdf"), nil, "refused"},
		{"connection dropped", withSecrets(host, "/drop.pdf"), nil, "EOF"},
		{"name resolving to loopback, port closed", withSecrets("docs.example:"+closedPort, "/inv.pdf"), nil, "refused"},
		{"redirect to a refused address", redirect(withSecrets("127.0.0.2:"+port, "/inv.pdf")), ErrRefused, "loopback"},
		{"redirect to a refused scheme", redirect("ftp://user:" + secretPass + "@files.example/inv.pdf?" + signed), ErrRefused, "scheme"},
		{"redirect to a closed port", redirect(withSecrets(closed, "/inv.pdf")), nil, "refused"},
		{"invalid URL", "http://user:" + secretPass + "@" + host + "/%zz?" + signed, ErrRefused, "invalid URL"},
		{"refused address", withSecrets("10.0.0.1", "/inv.pdf"), ErrRefused, "private"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.Get(context.Background(), tt.url)
			if err == nil {
				t.Fatal("Get succeeded")
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("Get = %v, want %v", err, tt.is)
			}
			if tt.is == nil && (errors.Is(err, ErrPermanent) || errors.Is(err, ErrRefused)) {
				t.Errorf("Get = %v, want a transient error", err)
			}
			msg := err.Error()
			if !strings.Contains(msg, tt.says) {
				t.Errorf("Get = %v, want it to say %q", err, tt.says)
			}
			wantNoSecrets(t, "error", msg)
			if !strings.Contains(msg, "X-Amz-Signature=REDACTED") {
				t.Errorf("error %q does not show which URL failed", msg)
			}
		})
	}
}

// TestGetUploadErrorsShortenTheKey: an upload's key is a capability (whoever knows it may
// create jobs reading the document): errors show only its first characters.
func TestGetUploadErrorsShortenTheKey(t *testing.T) {
	store, err := uploads.New(filepath.Join(t.TempDir(), "uploads"))
	if err != nil {
		t.Fatal(err)
	}
	up, err := store.Put(context.Background(), bytes.NewReader([]byte("%PDF-1.4 x")), 0)
	if err != nil {
		t.Fatal(err)
	}
	missing := "upload://" + strings.Repeat("ab", 32)
	_, err = New(Options{Uploads: store}).Get(context.Background(), missing)
	if !errors.Is(err, ErrPermanent) || strings.Contains(err.Error(), strings.Repeat("ab", 32)) || !strings.Contains(err.Error(), "upload://abababab…") {
		t.Errorf("missing upload: %v", err)
	}
	key := strings.TrimPrefix(up.URL, "upload://")
	err = hideKey(errors.New("open upload "+key+": open /data/uploads/"+key[:2]+"/"+key+": permission denied"), key)
	if strings.Contains(err.Error(), key) || !strings.Contains(err.Error(), key[:8]+"…") {
		t.Errorf("hideKey = %v", err)
	}
}
