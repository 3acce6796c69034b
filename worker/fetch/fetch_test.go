package fetch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ocrinvoice/ocrinvoice/internal/uploads"
)

// stubResolver maps names to addresses without sending packets.
type stubResolver map[string][]netip.Addr

func (s stubResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	if ips, ok := s[host]; ok {
		return ips, nil
	}
	return nil, fmt.Errorf("no such host %q", host)
}

func loopbackOnly() []netip.Prefix { return []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")} }

func TestCheckRefusesPrivateRanges(t *testing.T) {
	f := New(Options{})
	cases := []struct {
		ip      string
		refused bool
		rule    string
	}{
		{"127.0.0.1", true, "loopback"},
		{"10.1.2.3", true, "private"},
		{"172.16.0.1", true, "private"},
		{"192.168.1.1", true, "private"},
		{"169.254.169.254", true, "link-local"},
		{"100.64.0.1", true, "carrier-grade NAT"},
		{"0.0.0.0", true, "unspecified"},
		{"224.0.0.1", true, "multicast"},
		{"::1", true, "loopback"},
		{"fd00::1", true, "unique-local"},
		{"fe80::1", true, "link-local"},
		{"fec0::1", true, "site-local"},
		{"feff:ffff::1", true, "site-local"},
		{"::ffff:127.0.0.1", true, "loopback"},
		{"93.184.216.34", false, ""},
		{"2606:4700::1111", false, ""},
	}
	for _, c := range cases {
		t.Run(c.ip, func(t *testing.T) {
			err := f.Check(netip.MustParseAddr(c.ip))
			if c.refused {
				if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), c.rule) {
					t.Fatalf("Check(%s) = %v, want refusal naming %q", c.ip, err, c.rule)
				}
				return
			}
			if err != nil {
				t.Fatalf("Check(%s) = %v, want allowed", c.ip, err)
			}
		})
	}
	allowed := New(Options{Allow: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}})
	if err := allowed.Check(netip.MustParseAddr("10.9.9.9")); err != nil {
		t.Fatalf("allow-listed range refused: %v", err)
	}
}

func TestGet(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/doc.pdf", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "%PDF-1.4 body") })
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) { w.Write(make([]byte, 2048)) })
	mux.HandleFunc("/redirect-loopback", func(w http.ResponseWriter, r *http.Request) {
		// 127.0.0.2 is loopback but outside the allow-list: the guard must refuse the hop.
		http.Redirect(w, r, "http://127.0.0.2:"+r.URL.Port()+"/doc.pdf", http.StatusFound)
	})
	mux.HandleFunc("/redirect-ftp", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "ftp://example.org/x", http.StatusFound)
	})
	mux.HandleFunc("/loop", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/loop", http.StatusFound) })
	srv := httptest.NewServer(mux)
	defer srv.Close()

	ctx := context.Background()
	open := New(Options{Allow: loopbackOnly(), MaxBytes: 1024})
	closed := New(Options{})

	t.Run("ok", func(t *testing.T) {
		b, err := open.Get(ctx, srv.URL+"/doc.pdf")
		if err != nil || string(b) != "%PDF-1.4 body" {
			t.Fatalf("Get = %q, %v", b, err)
		}
	})
	refusals := []struct {
		name, url string
		f         *Fetcher
		want      string
	}{
		{"loopback without allow-list", srv.URL + "/doc.pdf", closed, "loopback"},
		{"metadata address", "http://169.254.169.254/latest/meta-data/", closed, "link-local"},
		{"redirect to loopback", srv.URL + "/redirect-loopback", open, "loopback"},
		{"redirect to ftp", srv.URL + "/redirect-ftp", open, "scheme"},
		{"too many redirects", srv.URL + "/loop", open, "redirects"},
		{"over size limit", srv.URL + "/big", open, "limit"},
		{"file scheme", "file:///etc/passwd", open, "scheme"},
		{"name resolving to private", "http://intranet.example/x.pdf",
			New(Options{Resolver: stubResolver{"intranet.example": {netip.MustParseAddr("10.0.0.5")}}}), "private"},
	}
	for _, c := range refusals {
		t.Run(c.name, func(t *testing.T) {
			_, err := c.f.Get(ctx, c.url)
			if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Get(%s) = %v, want refusal mentioning %q", c.url, err, c.want)
			}
		})
	}
	t.Run("404 is permanent", func(t *testing.T) {
		_, err := open.Get(ctx, srv.URL+"/missing")
		if !errors.Is(err, ErrPermanent) || !strings.Contains(err.Error(), "404") {
			t.Fatalf("Get = %v, want permanent 404", err)
		}
	})
}

func TestParseAllow(t *testing.T) {
	p, err := ParseAllow(" 127.0.0.0/8, ::1/128 ,")
	if err != nil || len(p) != 2 {
		t.Fatalf("ParseAllow = %v, %v", p, err)
	}
	if _, err := ParseAllow("not-a-cidr"); err == nil {
		t.Fatal("ParseAllow accepted garbage")
	}
}

func TestGetUpload(t *testing.T) {
	store, err := uploads.New(filepath.Join(t.TempDir(), "uploads"))
	if err != nil {
		t.Fatal(err)
	}
	small := []byte("%PDF-1.4 small document")
	big := append([]byte("%PDF-1.4 "), bytes.Repeat([]byte("x"), 4096)...)
	var stored [2]uploads.Upload
	for i, b := range [][]byte{small, big} {
		if stored[i], err = store.Put(context.Background(), bytes.NewReader(b), 0); err != nil {
			t.Fatal(err)
		}
	}
	missing := "upload://" + strings.Repeat("0", 64)
	// No resolver can answer: reading an upload must never touch the network.
	offline := stubResolver{}

	t.Run("reads the stored bytes", func(t *testing.T) {
		f := New(Options{Uploads: store, Resolver: offline})
		got, err := f.Get(context.Background(), stored[0].URL)
		if err != nil || !bytes.Equal(got, small) {
			t.Fatalf("Get = %q, %v", got, err)
		}
	})
	cases := []struct {
		name string
		opts Options
		url  string
		is   error
		msg  string
	}{
		{"no store", Options{}, stored[0].URL, ErrRefused, "uploads are not available"},
		{"missing key", Options{Uploads: store}, missing, ErrPermanent, "upload not found"},
		{"path traversal", Options{Uploads: store}, "upload://../../etc/passwd", ErrRefused, "invalid upload key"},
		{"trailing path", Options{Uploads: store}, stored[0].URL + "/x", ErrRefused, "invalid upload key"},
		{"over the upload limit", Options{Uploads: store, MaxUploadBytes: 1024}, stored[1].URL, ErrRefused, "over the 1024-byte limit"},
		{"over the general limit", Options{Uploads: store, MaxBytes: 2048}, stored[1].URL, ErrRefused, "over the 2048-byte limit"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.opts.Resolver = offline
			_, err := New(c.opts).Get(context.Background(), c.url)
			if !errors.Is(err, c.is) || !strings.Contains(err.Error(), c.msg) {
				t.Fatalf("Get(%s) = %v, want %v saying %q", c.url, err, c.is, c.msg)
			}
		})
	}
}
