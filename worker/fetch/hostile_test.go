package fetch

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"
)

// countingResolver is a stubResolver that records every name it is asked about.
type countingResolver struct {
	stub  stubResolver
	mu    sync.Mutex
	asked []string
}

func (c *countingResolver) LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error) {
	c.mu.Lock()
	c.asked = append(c.asked, host)
	c.mu.Unlock()
	return c.stub.LookupNetIP(ctx, network, host)
}

// TestGetRefusesInternalTargets: every spelling of an internal address, a name resolving
// to one, and a redirect from an allowed server to one are refused by the guard before a
// connection is made, naming the rule. Nothing here dials outside loopback: names go to a
// stub resolver, and every literal is refused before dialling.
func TestGetRefusesInternalTargets(t *testing.T) {
	var hits int
	var hitsMu sync.Mutex
	mux := http.NewServeMux()
	mux.HandleFunc("/doc.pdf", func(w http.ResponseWriter, r *http.Request) {
		hitsMu.Lock()
		hits++
		hitsMu.Unlock()
		w.Write([]byte("%PDF-1.4 secret"))
	})
	mux.HandleFunc("/to", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, r.URL.Query().Get("u"), http.StatusFound)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	port := srv.Listener.Addr().(interface{ String() string }).String()
	port = port[strings.LastIndexByte(port, ':')+1:]

	res := &countingResolver{stub: stubResolver{
		"invoices.corp.example":  {netip.MustParseAddr("10.0.0.5")},
		"metadata.corp.example":  {netip.MustParseAddr("169.254.169.254")},
		"loopback.corp.example":  {netip.MustParseAddr("127.0.0.1")},
		"v6.corp.example":        {netip.MustParseAddr("fd00::1")},
		"site.corp.example":      {netip.MustParseAddr("fec0::10")},
		"mapped.corp.example":    {netip.MustParseAddr("::ffff:10.1.1.1")},
		"all-private.example":    {netip.MustParseAddr("10.0.0.5"), netip.MustParseAddr("192.168.1.1"), netip.MustParseAddr("::1")},
		"public-docs.example":    {netip.MustParseAddr("127.0.0.1")}, // the test server, opened by the allow-list
		"compat.corp.example":    {netip.MustParseAddr("::7f00:1")},
		"sixtofour.corp.example": {netip.MustParseAddr("2002:7f00:1::1")},
	}}
	// closed: the whole guard. open: the test server (127.0.0.1 only) is reachable, as a
	// public document server would be.
	closed := New(Options{Resolver: res, Timeout: 5 * time.Second})
	open := New(Options{Resolver: res, Timeout: 5 * time.Second, Allow: loopbackOnly()})
	redirect := func(to string) string { return "http://public-docs.example:" + port + "/to?u=" + to }

	cases := []struct {
		name, url string
		f         *Fetcher
		want      string
	}{
		{"loopback", "http://127.0.0.1:" + port + "/doc.pdf", closed, "loopback"},
		{"loopback 127.0.0.2", "http://127.0.0.2:" + port + "/doc.pdf", open, "loopback"},
		{"private 10/8", "http://10.0.0.1/doc.pdf", closed, "private (RFC 1918)"},
		{"private 172.16/12", "http://172.20.0.1/", closed, "private"},
		{"private 192.168/16", "http://192.168.0.1/", closed, "private"},
		{"cloud metadata", "http://169.254.169.254/latest/meta-data", closed, "link-local (cloud metadata)"},
		{"IPv6 loopback", "http://[::1]/", closed, "loopback"},
		{"IPv6 unique-local", "http://[fd00::1]/", closed, "unique-local"},
		{"IPv6 link-local with a zone", "http://[fe80::1%25lo]/", closed, "link-local"},
		{"IPv6 site-local", "http://[fec0::1]/", closed, "site-local"},
		{"IPv4-mapped loopback", "http://[::ffff:127.0.0.1]/", closed, "loopback"},
		{"IPv4-mapped metadata", "http://[::ffff:a9fe:a9fe]/", closed, "link-local"},
		{"IPv4-compatible loopback", "http://[::127.0.0.1]/", closed, "IPv4-compatible"},
		{"6to4 of loopback", "http://[2002:7f00:1::1]/", closed, "6to4"},
		{"NAT64 of metadata", "http://[64:ff9b::a9fe:a9fe]/", closed, "NAT64"},
		{"unspecified", "http://0.0.0.0:" + port + "/doc.pdf", closed, "unspecified"},
		{"unspecified IPv6", "http://[::]:" + port + "/doc.pdf", closed, "unspecified"},
		{"CGNAT", "http://100.64.0.1/", closed, "carrier-grade NAT"},
		{"broadcast", "http://255.255.255.255/", closed, "reserved"},
		{"decimal IPv4", "http://2130706433:" + port + "/doc.pdf", open, "non-standard form"},
		{"hex IPv4", "http://0x7f.0.0.1:" + port + "/doc.pdf", open, "non-standard form"},
		{"hex IPv4 whole", "http://0x7f000001/", open, "non-standard form"},
		{"octal IPv4", "http://0177.0.0.1/", open, "non-standard form"},
		{"short IPv4", "http://127.1/", open, "non-standard form"},
		{"metadata name", "http://metadata.google.internal/computeMetadata/v1/", closed, "cloud metadata service"},
		{"metadata name with a dot", "http://metadata.google.internal./", closed, "cloud metadata service"},
		{"name resolving to 10/8", "http://invoices.corp.example/a.pdf", closed, "private"},
		{"name resolving to metadata", "http://metadata.corp.example/latest", closed, "link-local"},
		{"name resolving to unique-local", "http://v6.corp.example/", closed, "unique-local"},
		{"name resolving to site-local", "http://site.corp.example/", closed, "site-local"},
		{"name resolving to IPv4-mapped private", "http://mapped.corp.example/", closed, "private"},
		{"name resolving to IPv4-compatible", "http://compat.corp.example/", closed, "IPv4-compatible"},
		{"name resolving to 6to4", "http://sixtofour.corp.example/", closed, "6to4"},
		{"name resolving only to private addresses", "http://all-private.example/", closed, "is"},
		{"name resolving to loopback, not allowed", "http://loopback.corp.example:" + port + "/doc.pdf", closed, "loopback"},
		{"redirect to loopback 127.0.0.2", redirect("http://127.0.0.2:" + port + "/doc.pdf"), open, "loopback"},
		{"redirect to 10/8", redirect("http://10.0.0.1/"), open, "private"},
		{"redirect to metadata", redirect("http://169.254.169.254/latest/meta-data"), open, "link-local"},
		{"redirect to IPv6 loopback", redirect("http://[::1]/"), open, "loopback"},
		{"redirect to a decimal IPv4", redirect("http://2130706433/"), open, "non-standard form"},
		{"redirect to a metadata name", redirect("http://metadata.google.internal/"), open, "cloud metadata"},
		{"redirect to a private name", redirect("http://invoices.corp.example/"), open, "private"},
		{"redirect to file", redirect("file:///etc/passwd"), open, "scheme"},
		{"redirect to gopher", redirect("gopher://127.0.0.1:6379/_INFO"), open, "scheme"},
		{"file scheme", "file:///etc/passwd", open, "scheme"},
		{"gopher scheme", "gopher://127.0.0.1:6379/_INFO", open, "scheme"},
		{"ftp scheme", "ftp://10.0.0.1/a.pdf", open, "scheme"},
		{"dict scheme", "dict://127.0.0.1:11211/", open, "scheme"},
		{"data scheme", "data:application/pdf,%25PDF-1.4", open, "scheme"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := c.f.Get(context.Background(), c.url)
			if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Get(%s) = %v, want ErrRefused naming %q", c.url, err, c.want)
			}
		})
	}
	// The server's document itself was never served: every redirect hop was refused.
	if hits != 0 {
		t.Errorf("the document was served %d times, want 0", hits)
	}
	// Numeric and metadata names are refused without a DNS query.
	for _, name := range res.asked {
		if strings.HasPrefix(name, "0x") || name == "2130706433" || strings.HasPrefix(name, "0177") || name == "127.1" || strings.HasPrefix(name, "metadata.google") {
			t.Errorf("resolver asked about %q", name)
		}
	}
	// The allow-list still opens what it names, through a name or a redirect.
	if b, err := open.Get(context.Background(), redirect("http://public-docs.example:"+port+"/doc.pdf")); err != nil || string(b) != "%PDF-1.4 secret" {
		t.Errorf("allowed redirect: %q, %v", b, err)
	}
}

func TestCheckHost(t *testing.T) {
	for host, refused := range map[string]bool{
		"2130706433": true, "0x7f.0.0.1": true, "0X7F000001": true, "0177.0.0.1": true, "127.1": true,
		"10.0.0.1.5": true, "1.2.3.04": true, "metadata": true, "Metadata.Google.Internal": true,
		"example.com": false, "127.0.0.1": false, "::1": false, "[::1]": false, "a1.example": false,
		"123.example.com": false, "0x.example": false, "cafe": false, "xn--caf-dma.example": false,
	} {
		err := CheckHost(host)
		if refused != (err != nil) {
			t.Errorf("CheckHost(%q) = %v, want refused %v", host, err, refused)
		}
		if err != nil && !errors.Is(err, ErrRefused) {
			t.Errorf("CheckHost(%q) = %v, want ErrRefused", host, err)
		}
	}
}
