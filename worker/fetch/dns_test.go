package fetch

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// dnsServer is a tiny DNS server on a free UDP port of 127.0.0.1 that answers by name:
// NXDOMAIN for names starting "nx.", SERVFAIL for "fail.", nothing at all for "slow."
// (the client times out), and 127.0.0.1 for the A query of any other name.
type dnsServer struct {
	conn net.PacketConn
}

func startDNS(t *testing.T) *dnsServer {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &dnsServer{conn: pc}
	t.Cleanup(func() { _ = pc.Close() })
	go s.serve()
	return s
}

// resolver is a Go resolver that sends every query to the server.
func (s *dnsServer) resolver() *net.Resolver {
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "udp", s.conn.LocalAddr().String())
	}}
}

func (s *dnsServer) serve() {
	buf := make([]byte, 1500)
	for {
		n, addr, err := s.conn.ReadFrom(buf)
		if err != nil {
			return
		}
		if resp := dnsAnswer(buf[:n]); resp != nil {
			_, _ = s.conn.WriteTo(resp, addr)
		}
	}
}

// dnsAnswer builds the response to one query (RFC 1035 section 4.1), or nil for none.
func dnsAnswer(q []byte) []byte {
	if len(q) < 12 || binary.BigEndian.Uint16(q[4:6]) != 1 {
		return nil
	}
	// The question: labels up to the root, then type and class.
	i := 12
	var labels []string
	for i < len(q) && q[i] != 0 {
		l := int(q[i])
		if i+1+l > len(q) {
			return nil
		}
		labels = append(labels, string(q[i+1:i+1+l]))
		i += 1 + l
	}
	if i+5 > len(q) {
		return nil
	}
	qtype := binary.BigEndian.Uint16(q[i+1 : i+3])
	question := q[12 : i+5]
	name := strings.ToLower(strings.Join(labels, "."))
	rcode, answer := uint16(0), []byte(nil)
	switch {
	case strings.HasPrefix(name, "slow."):
		return nil
	case strings.HasPrefix(name, "nx."):
		rcode = 3 // NXDOMAIN
	case strings.HasPrefix(name, "fail."):
		rcode = 2 // SERVFAIL
	case qtype == 1: // A
		answer = []byte{0xC0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 127, 0, 0, 1}
	}
	resp := make([]byte, 12, 12+len(question)+len(answer))
	copy(resp[0:2], q[0:2])                                           // id
	flags := 0x8000 | 0x0080 | binary.BigEndian.Uint16(q[2:4])&0x0100 // QR, RA, RD as asked
	binary.BigEndian.PutUint16(resp[2:4], flags|rcode)
	binary.BigEndian.PutUint16(resp[4:6], 1)
	if answer != nil {
		binary.BigEndian.PutUint16(resp[6:8], 1)
	}
	resp = append(resp, question...)
	return append(resp, answer...)
}

// TestGetDNSFailures: a name that does not exist (NXDOMAIN) is a permanent failure that
// says so; a SERVFAIL or a resolver that does not answer stays worth retrying.
func TestGetDNSFailures(t *testing.T) {
	dns := startDNS(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "%PDF-1.4 body") }))
	defer srv.Close()
	port := srv.URL[strings.LastIndex(srv.URL, ":")+1:]
	f := New(Options{Resolver: dns.resolver(), Allow: loopbackOnly(), Timeout: 2 * time.Second})

	body, err := f.Get(context.Background(), "http://ok.example.test:"+port+"/doc.pdf")
	if err != nil || string(body) != "%PDF-1.4 body" {
		t.Fatalf("through the test resolver: %q, %v", body, err)
	}

	_, err = f.Get(context.Background(), "http://nx.example.test:"+port+"/doc.pdf")
	if !errors.Is(err, ErrPermanent) || !strings.Contains(err.Error(), "no such host") || !strings.Contains(err.Error(), "nx.example.test") {
		t.Errorf("NXDOMAIN: %v, want a permanent failure naming the host and saying no such host", err)
	}

	_, err = f.Get(context.Background(), "http://fail.example.test:"+port+"/doc.pdf")
	if err == nil || errors.Is(err, ErrPermanent) || errors.Is(err, ErrRefused) {
		t.Errorf("SERVFAIL: %v, want a transient failure", err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err = f.Get(ctx, "http://slow.example.test:"+port+"/doc.pdf")
	if err == nil || errors.Is(err, ErrPermanent) || errors.Is(err, ErrRefused) {
		t.Errorf("DNS timeout: %v, want a transient failure", err)
	}
}

// TestGetReservedTLD: a name under .invalid (RFC 6761), which never resolves, fails for
// good through the system's resolver.
func TestGetReservedTLD(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := net.DefaultResolver.LookupNetIP(ctx, "ip", "ocrinvoice-probe.invalid"); err != nil {
		var d *net.DNSError
		if !errors.As(err, &d) || !d.IsNotFound {
			t.Skipf("the system resolver does not answer NXDOMAIN here (%v)", err)
		}
	}
	_, err := New(Options{}).Get(ctx, "https://invoices.no-such-host.invalid/doc.pdf")
	if !errors.Is(err, ErrPermanent) || !strings.Contains(err.Error(), "no such host") {
		t.Errorf("Get on a .invalid host: %v, want a permanent no such host", err)
	}
}
