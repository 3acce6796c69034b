// Package fetch downloads invoice documents over http(s) with a guard against
// server-side request forgery, a size limit and timeouts, and reads documents uploaded
// to the service (upload://KEY) from the upload store without touching the network.
//
// The guard decides on the address actually dialled (after DNS resolution, for every
// redirect hop), so neither DNS rebinding nor a redirect can reach loopback, private,
// link-local, site-local, unique-local, CGNAT, multicast or unspecified addresses unless an
// allow-list opens a range on purpose.
package fetch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/ocrinvoice/ocrinvoice/internal/redact"
	"github.com/ocrinvoice/ocrinvoice/internal/uploads"
)

// ErrRefused marks a fetch that a rule refused (scheme, address, redirects, size).
// Such a failure is permanent: retrying cannot help.
var ErrRefused = errors.New("fetch refused")

// ErrPermanent marks a failure that retrying cannot fix (for example HTTP 404).
var ErrPermanent = errors.New("permanent fetch failure")

// Options configure a Fetcher. Zero values take the defaults in brackets.
type Options struct {
	MaxBytes     int64          // [50 MiB] largest document accepted
	Timeout      time.Duration  // [60 s] whole download, redirects included
	MaxRedirects int            // [5]
	Allow        []netip.Prefix // ranges opened despite the guard (e.g. 127.0.0.0/8 for tests)
	// Resolver resolves host names; nil means net.DefaultResolver. Tests use it to map
	// names to addresses without sending packets.
	Resolver Resolver
	// Uploads resolves upload://KEY URLs; nil refuses them (uploads not available).
	Uploads *uploads.Store
	// MaxUploadBytes is the largest uploaded document read from Uploads [MaxBytes].
	MaxUploadBytes int64
}

// Resolver resolves host names to addresses; *net.Resolver implements it.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// Guard is the address rule of every outgoing connection of the worker (documents and
// webhooks): loopback, private, link-local, site-local, unique-local, CGNAT, multicast,
// reserved and unspecified addresses are refused unless Allow opens their range. The zero value is
// the whole guard with the default resolver.
type Guard struct {
	Allow    []netip.Prefix // ranges opened despite the rules (OCRINVOICE_FETCH_ALLOW_CIDRS)
	Resolver Resolver       // nil: net.DefaultResolver
}

// Fetcher downloads documents. It is safe for concurrent use.
type Fetcher struct {
	opts   Options
	guard  Guard
	client *http.Client
}

// New returns a Fetcher with the given options.
func New(opts Options) *Fetcher {
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = 50 << 20
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 60 * time.Second
	}
	if opts.MaxRedirects <= 0 {
		opts.MaxRedirects = 5
	}
	if opts.Resolver == nil {
		opts.Resolver = net.DefaultResolver
	}
	if opts.MaxUploadBytes <= 0 {
		opts.MaxUploadBytes = opts.MaxBytes
	}
	f := &Fetcher{opts: opts, guard: Guard{Allow: opts.Allow, Resolver: opts.Resolver}}
	transport := f.guard.Transport()
	f.client = &http.Client{
		Transport: transport,
		Timeout:   opts.Timeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) > opts.MaxRedirects {
				return fmt.Errorf("%w: more than %d redirects", ErrRefused, opts.MaxRedirects)
			}
			return checkScheme(req.URL)
		},
	}
	return f
}

// Transport returns an http.Transport that resolves each host itself, dials only the
// addresses the guard lets through (checked again at dial time, so neither DNS
// rebinding nor a redirect gets around it) and uses no proxy (a proxy would dial on our
// behalf and bypass the guard). A refused address fails the request with an error
// wrapping ErrRefused. Timeouts: 10 s to connect, 10 s for the TLS handshake, 30 s for
// the response headers.
func (g Guard) Transport() *http.Transport {
	dialer := &net.Dialer{Timeout: 10 * time.Second, Control: g.control}
	return &http.Transport{
		Proxy: nil,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			host, port, err := net.SplitHostPort(addr)
			if err != nil {
				return nil, err
			}
			if err := CheckHost(host); err != nil {
				return nil, err
			}
			ips, err := g.resolve(ctx, host)
			if err != nil {
				return nil, err
			}
			var lastErr error
			for _, ip := range ips {
				if err := g.Check(ip); err != nil {
					lastErr = err
					continue
				}
				c, err := dialer.DialContext(ctx, network, net.JoinHostPort(ip.String(), port))
				if err == nil {
					return c, nil
				}
				lastErr = err
			}
			return nil, lastErr
		},
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: 30 * time.Second,
		MaxIdleConns:          16,
		IdleConnTimeout:       30 * time.Second,
	}
}

func (g Guard) resolve(ctx context.Context, host string) ([]netip.Addr, error) {
	if ip, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
		return []netip.Addr{ip.Unmap()}, nil
	}
	var r Resolver = net.DefaultResolver
	if g.Resolver != nil {
		r = g.Resolver
	}
	ips, err := r.LookupNetIP(ctx, "ip", host)
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) && dnsErr.IsNotFound && !dnsErr.IsTimeout && !dnsErr.IsTemporary {
		// The name does not exist (NXDOMAIN, or no address at all): asking again in a
		// minute will not change that. Timeouts and SERVFAIL stay worth retrying.
		return nil, fmt.Errorf("%w: resolve %s: no such host (the name does not exist)", ErrPermanent, host)
	}
	if err != nil {
		return nil, fmt.Errorf("resolve %s: %w", host, err)
	}
	if len(ips) == 0 {
		return nil, fmt.Errorf("resolve %s: no addresses", host)
	}
	for i := range ips {
		ips[i] = ips[i].Unmap()
	}
	return ips, nil
}

// control re-checks the address at dial time, the last moment before a packet leaves.
func (g Guard) control(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: cannot parse dial address %q", ErrRefused, address)
	}
	return g.Check(ap.Addr())
}

// blocked lists the ranges refused by default, each with the rule's name.
var blocked = []struct {
	prefix netip.Prefix
	rule   string
}{
	{netip.MustParsePrefix("0.0.0.0/8"), "unspecified/\"this\" network"},
	{netip.MustParsePrefix("10.0.0.0/8"), "private (RFC 1918)"},
	{netip.MustParsePrefix("100.64.0.0/10"), "carrier-grade NAT (RFC 6598)"},
	{netip.MustParsePrefix("127.0.0.0/8"), "loopback"},
	{netip.MustParsePrefix("169.254.0.0/16"), "link-local (cloud metadata)"},
	{netip.MustParsePrefix("172.16.0.0/12"), "private (RFC 1918)"},
	{netip.MustParsePrefix("192.0.0.0/24"), "IETF protocol assignments"},
	{netip.MustParsePrefix("192.168.0.0/16"), "private (RFC 1918)"},
	{netip.MustParsePrefix("198.18.0.0/15"), "benchmarking"},
	{netip.MustParsePrefix("224.0.0.0/4"), "multicast"},
	{netip.MustParsePrefix("240.0.0.0/4"), "reserved"},
	{netip.MustParsePrefix("192.0.2.0/24"), "documentation (TEST-NET-1)"},
	{netip.MustParsePrefix("198.51.100.0/24"), "documentation (TEST-NET-2)"},
	{netip.MustParsePrefix("203.0.113.0/24"), "documentation (TEST-NET-3)"},
	{netip.MustParsePrefix("::/128"), "unspecified"},
	{netip.MustParsePrefix("::1/128"), "loopback"},
	// ::a.b.c.d (deprecated IPv4-compatible) and ::ffff:0:a.b.c.d (IPv4-translated) embed
	// an IPv4 address that some stacks reach as such.
	{netip.MustParsePrefix("::/96"), "IPv4-compatible (deprecated)"},
	{netip.MustParsePrefix("::ffff:0:0:0/96"), "IPv4-translated"},
	{netip.MustParsePrefix("64:ff9b::/96"), "NAT64"},
	{netip.MustParsePrefix("64:ff9b:1::/48"), "NAT64 (local use)"},
	{netip.MustParsePrefix("100::/64"), "discard-only"},
	{netip.MustParsePrefix("2001::/32"), "Teredo tunnel (embeds an IPv4 address)"},
	{netip.MustParsePrefix("2001:db8::/32"), "documentation"},
	{netip.MustParsePrefix("2002::/16"), "6to4 tunnel (embeds an IPv4 address)"},
	{netip.MustParsePrefix("fc00::/7"), "unique-local"},
	{netip.MustParsePrefix("fe80::/10"), "link-local"},
	// Deprecated (RFC 3879) but still routed as a private range by some networks.
	{netip.MustParsePrefix("fec0::/10"), "site-local (deprecated)"},
	{netip.MustParsePrefix("ff00::/8"), "multicast"},
}

// Check reports whether the fetcher's guard lets a connection to ip through (see
// Guard.Check).
func (f *Fetcher) Check(ip netip.Addr) error { return f.guard.Check(ip) }

// Check reports whether the guard lets a connection to ip through. The error names
// the rule that refused it and wraps ErrRefused.
func (g Guard) Check(ip netip.Addr) error {
	// A zoned address (fe80::1%eth0) matches no prefix at all: drop the zone first, or a
	// link-local target would pass every rule.
	ip = ip.WithZone("").Unmap()
	if !ip.IsValid() {
		return fmt.Errorf("%w: no address", ErrRefused)
	}
	for _, p := range g.Allow {
		if p.Contains(ip) {
			return nil
		}
	}
	for _, b := range blocked {
		if b.prefix.Contains(ip) {
			return fmt.Errorf("%w: address %s is %s", ErrRefused, ip, b.rule)
		}
	}
	return nil
}

// metadataHosts are the names of cloud instance-metadata services (they resolve to
// link-local addresses the guard refuses anyway; refusing the name says why without a
// DNS query).
var metadataHosts = []string{
	"metadata", "metadata.google.internal", "metadata.goog", "instance-data", "instance-data.ec2.internal",
	"metadata.azure.com", "metadata.platformequinix.com",
}

// CheckHost refuses, before any DNS query, host names that can only reach the wrong
// place: IPv4 addresses in spellings other than a dotted quad (2130706433, 0x7f.0.0.1,
// 0177.0.0.1, 127.1: a host whose last label is numeric is an IPv4 address to URL
// parsers and to some resolvers, never a DNS name) and cloud metadata service names.
// The error wraps ErrRefused.
func CheckHost(host string) error {
	h := strings.ToLower(strings.TrimSuffix(strings.Trim(host, "[]"), "."))
	if _, err := netip.ParseAddr(h); err == nil {
		return nil // checked as an address
	}
	labels := strings.Split(h, ".")
	if last := labels[len(labels)-1]; last != "" && isNumericLabel(last) {
		return fmt.Errorf("%w: host %q is an IPv4 address in a non-standard form", ErrRefused, host)
	}
	for _, m := range metadataHosts {
		if h == m {
			return fmt.Errorf("%w: host %q is a cloud metadata service", ErrRefused, host)
		}
	}
	return nil
}

// isNumericLabel: decimal, or hexadecimal with a 0x prefix.
func isNumericLabel(l string) bool {
	digits := l
	hex := false
	if len(l) >= 2 && l[0] == '0' && (l[1] == 'x' || l[1] == 'X') {
		digits, hex = l[2:], true
	}
	for i := 0; i < len(digits); i++ {
		c := digits[i]
		switch {
		case c >= '0' && c <= '9':
		case hex && (c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'):
		default:
			return false
		}
	}
	return true
}

func checkScheme(u *url.URL) error {
	switch u.Scheme {
	case "http", "https":
		return nil
	default:
		return fmt.Errorf("%w: scheme %q is not allowed (only http and https)", ErrRefused, u.Scheme)
	}
}

// Get downloads rawURL and returns its body. Errors wrap ErrRefused when a rule refused
// the download and ErrPermanent when retrying cannot help (4xx answers, a host name that
// does not exist: NXDOMAIN); other errors (timeouts, 5xx, connection failures, DNS
// timeouts and SERVFAIL) are worth retrying.
//
// An upload://KEY URL is read from Options.Uploads instead: without a store it is
// ErrRefused (uploads not available), a malformed key is ErrRefused, a key with nothing
// stored under it is ErrPermanent ("upload not found"), and a document over
// MaxUploadBytes is ErrRefused.
func (f *Fetcher) Get(ctx context.Context, rawURL string) ([]byte, error) {
	if uploads.IsURL(rawURL) {
		return f.getUpload(ctx, rawURL)
	}
	// Errors name the URL redacted (redact.URL): a pre-signed URL carries its signature
	// in the query, and these errors reach the job's errorLog, logs and the queue.
	shown := redact.URL(rawURL)
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("%w: invalid URL %s: %v", ErrRefused, shown, unwrapURLError(err))
	}
	if err := checkScheme(u); err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("%w: invalid URL %s: %v", ErrRefused, shown, unwrapURLError(err))
	}
	req.Header.Set("User-Agent", "ocrinvoice-fetch/1")
	resp, err := f.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("download %s: %w", shown, requestError(err, rawURL))
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		err := fmt.Errorf("download %s: HTTP %d", shown, resp.StatusCode)
		if resp.StatusCode >= 400 && resp.StatusCode < 500 && resp.StatusCode != http.StatusTooManyRequests && resp.StatusCode != http.StatusRequestTimeout {
			return nil, fmt.Errorf("%w: %v", ErrPermanent, err)
		}
		return nil, err
	}
	if resp.ContentLength > f.opts.MaxBytes {
		return nil, fmt.Errorf("%w: document is %d bytes, over the %d-byte limit", ErrRefused, resp.ContentLength, f.opts.MaxBytes)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, f.opts.MaxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("download %s: %w", shown, redact.Error(err))
	}
	if int64(len(body)) > f.opts.MaxBytes {
		return nil, fmt.Errorf("%w: document is over the %d-byte limit", ErrRefused, f.opts.MaxBytes)
	}
	return body, nil
}

// requestError is an error of client.Do without secrets. net/http wraps it in a
// *url.Error naming the URL of the failing request in full (query included; only a
// password is masked): when that is the URL asked for, the repetition is dropped (the
// caller names it, redacted); a redirect hop's URL is kept, redacted, so that the error
// says where the download went. Errors wrapping ErrRefused still do.
func requestError(err error, asked string) error {
	var ue *url.Error
	if errors.As(err, &ue) && redact.URL(ue.URL) == redact.URL(asked) {
		err = ue.Err
	}
	return redact.Error(err)
}

// unwrapURLError drops the *url.Error of url.Parse, which repeats the whole URL.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return redact.Error(ue.Err)
	}
	return redact.Error(err)
}

// getUpload reads an uploaded document from the store.
func (f *Fetcher) getUpload(ctx context.Context, rawURL string) ([]byte, error) {
	if f.opts.Uploads == nil {
		return nil, fmt.Errorf("%w: uploads are not available on this worker (no upload store configured)", ErrRefused)
	}
	key, err := uploads.KeyFromURL(rawURL)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrRefused, err)
	}
	file, err := f.opts.Uploads.Open(key)
	if errors.Is(err, uploads.ErrNotFound) {
		return nil, fmt.Errorf("%w: upload not found: %s", ErrPermanent, redact.URL(rawURL))
	}
	if err != nil {
		return nil, fmt.Errorf("read upload %s: %w", redact.URL(rawURL), hideKey(err, key))
	}
	defer file.Close()
	if info, err := file.Stat(); err == nil && info.Size() > f.opts.MaxUploadBytes {
		return nil, fmt.Errorf("%w: uploaded document is %d bytes, over the %d-byte limit", ErrRefused, info.Size(), f.opts.MaxUploadBytes)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	body, err := io.ReadAll(io.LimitReader(file, f.opts.MaxUploadBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read upload %s: %w", redact.URL(rawURL), hideKey(err, key))
	}
	if int64(len(body)) > f.opts.MaxUploadBytes {
		return nil, fmt.Errorf("%w: uploaded document is over the %d-byte limit", ErrRefused, f.opts.MaxUploadBytes)
	}
	return body, nil
}

// hideKey shortens the upload key wherever err's message names it (the store's errors
// name the file, whose name is the key) as redact.URL shortens it in an upload URL.
func hideKey(err error, key string) error {
	short := strings.TrimPrefix(redact.URL(uploads.URL(key)), uploads.Scheme+"://")
	return &keyHidden{msg: strings.ReplaceAll(err.Error(), key, short), err: err}
}

// keyHidden is an error whose message hides an upload key, over the original chain.
type keyHidden struct {
	msg string
	err error
}

func (k *keyHidden) Error() string { return k.msg }
func (k *keyHidden) Unwrap() error { return k.err }

// ParseAllow parses a comma-separated list of CIDRs (OCRINVOICE_FETCH_ALLOW_CIDRS).
func ParseAllow(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		p, err := netip.ParsePrefix(part)
		if err != nil {
			return nil, fmt.Errorf("parse allowed range %q: %w", part, err)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}
