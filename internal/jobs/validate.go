package jobs

import (
	"fmt"
	"net/netip"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/ocrinvoice/ocrinvoice/internal/apperr"
	"github.com/ocrinvoice/ocrinvoice/internal/uploads"
)

// Enumerations of the contract.
var (
	// Statuses of a job, in state machine order.
	Statuses = []string{"created", "queued", "processing", "completed", "failed", "cancelled"}
	// Priorities of a job, lowest first.
	Priorities = []string{"low", "medium", "high", "urgent"}
	// DocumentTypes a job may have.
	DocumentTypes = []string{"pdf", "png", "jpg", "jpeg", "tiff", "bmp", "xml"}
)

// Limits of input fields.
const (
	MaxJobNumberLen    = 128
	MaxDocumentNameLen = 1024
	MaxDocumentURLLen  = 4096
	MaxCallbackURLLen  = 2048
	MaxCreatedByLen    = 256
	MaxNameLen         = 128
	MaxGroupNameLen    = 256
	MaxDescriptionLen  = 4096
	MaxMetadataBytes   = 64 << 10
)

// UploadScheme is the URL scheme of documents uploaded to the service itself
// ("upload://<key>", key the document's SHA-256 in lowercase hex); the worker resolves
// the key in its upload store (internal/uploads).
const UploadScheme = uploads.Scheme

// fieldErrors collects validation problems, each naming its contract field.
type fieldErrors []apperr.Detail

func (f *fieldErrors) add(field, format string, args ...any) {
	*f = append(*f, apperr.Detail{Field: field, Message: fmt.Sprintf(format, args...)})
}

// err returns nil when nothing was collected, else an apperr.Invalid listing every
// problem; the message names the first one.
func (f fieldErrors) err(what string) error {
	if len(f) == 0 {
		return nil
	}
	msg := fmt.Sprintf("invalid %s: %s: %s", what, f[0].Field, f[0].Message)
	if len(f) > 1 {
		msg += fmt.Sprintf(" (and %d more)", len(f)-1)
	}
	return apperr.Invalid(msg, f...)
}

// text checks a required or optional text field: valid UTF-8, no NUL, at most max
// characters, non-blank when required.
func (f *fieldErrors) text(field, v string, required bool, max int) {
	switch {
	case required && strings.TrimSpace(v) == "":
		f.add(field, "is required and must not be blank")
	case !utf8.ValidString(v) || strings.ContainsRune(v, 0):
		f.add(field, "must be valid UTF-8 text without NUL characters")
	case utf8.RuneCountInString(v) > max:
		f.add(field, "must be at most %d characters", max)
	}
}

// name checks a name-like text field (job number, document name, template or group
// name, owner) as text does, and also refuses control characters (tab, newline, ...)
// and the bidirectional formatting characters (see isBidiControl), which make a name
// display otherwise than it is stored.
func (f *fieldErrors) name(field, v string, required bool, max int) {
	n := len(*f)
	f.text(field, v, required, max)
	if len(*f) > n {
		return
	}
	if i := strings.IndexFunc(v, func(r rune) bool { return unicode.IsControl(r) || isBidiControl(r) }); i >= 0 {
		r, _ := utf8.DecodeRuneInString(v[i:])
		f.add(field, "must not contain control or bidirectional formatting characters (found %U at byte %d)", r, i)
	}
}

// isBidiControl reports whether r is one of the explicit bidirectional formatting
// characters: the marks U+200E, U+200F and U+061C, the embeddings and overrides
// U+202A..U+202E and the isolates U+2066..U+2069.
func isBidiControl(r rune) bool {
	switch {
	case r == 0x200E, r == 0x200F, r == 0x061C:
		return true
	case r >= 0x202A && r <= 0x202E, r >= 0x2066 && r <= 0x2069:
		return true
	}
	return false
}

// Canonical is the stored spelling of a name-like field (job number, template or group
// name, owner): surrounding white space trimmed, then Unicode normalisation form C, so
// that the composed and decomposed spellings of "é" are one name. Values are made
// canonical before they are validated, stored, compared or looked up.
func Canonical(s string) string {
	return nfc(strings.TrimSpace(s))
}

// nfc returns s in normalisation form C; text that is not valid UTF-8 is returned as it
// is (validation refuses it by name).
func nfc(s string) string {
	if !utf8.ValidString(s) {
		return s
	}
	return norm.NFC.String(s)
}

func (f *fieldErrors) enum(field, v string, allowed []string) {
	if !slices.Contains(allowed, v) {
		f.add(field, "must be one of %s (got %q)", strings.Join(allowed, ", "), v)
	}
}

// ValidateDocumentURL checks that raw is an absolute http(s) URL with a host, or exactly
// upload://KEY with KEY 64 lowercase hex characters (what POST /api/v1/uploads returns;
// nothing else, so an upload URL can never name a path outside the store), of at most
// MaxDocumentURLLen characters.
func ValidateDocumentURL(raw string) error {
	if raw == "" {
		return fmt.Errorf("is required")
	}
	u, err := parseURL(raw, MaxDocumentURLLen)
	if err != nil {
		return err
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
		return checkHTTPURL(u)
	case UploadScheme:
		if _, err := uploads.KeyFromURL(raw); err != nil {
			return fmt.Errorf("upload URL must be upload://KEY with KEY the %d lowercase hex characters returned by the upload", uploads.KeyLen)
		}
		return nil
	case "":
		return fmt.Errorf("must be an absolute http(s) URL")
	default:
		return fmt.Errorf("scheme %q is not supported (use http, https or upload)", u.Scheme)
	}
}

// ValidateCallbackURL checks an optional webhook URL: "" (none), or an absolute http(s)
// URL with a host and without credentials, of at most MaxCallbackURLLen characters.
// Whether its address may be reached is decided when the webhook is delivered (the
// same guard as document fetching), not here: a name may resolve differently later.
func ValidateCallbackURL(raw string) error {
	if raw == "" {
		return nil
	}
	u, err := parseURL(raw, MaxCallbackURLLen)
	if err != nil {
		return err
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
		return checkHTTPURL(u)
	case "":
		return fmt.Errorf("must be an absolute http(s) URL")
	default:
		return fmt.Errorf("scheme %q is not supported (use http or https)", u.Scheme)
	}
}

// parseURL parses a client-given URL of at most max characters of valid UTF-8 without
// white space or control characters.
func parseURL(raw string, max int) (*url.URL, error) {
	if len(raw) > max {
		return nil, fmt.Errorf("must be at most %d characters", max)
	}
	if strings.ContainsAny(raw, " \t\r\n") {
		return nil, fmt.Errorf("must not contain whitespace")
	}
	// PostgreSQL refuses invalid UTF-8 and NUL with a driver error; refuse them here by name.
	if !utf8.ValidString(raw) || strings.IndexFunc(raw, unicode.IsControl) >= 0 {
		return nil, fmt.Errorf("must be valid UTF-8 without control characters")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("is not a URL")
	}
	return u, nil
}

// checkHTTPURL: an http(s) URL needs a host, must not carry credentials, and must not
// name a host that is never a document server (see checkHost).
func checkHTTPURL(u *url.URL) error {
	if u.Host == "" || u.Hostname() == "" {
		return fmt.Errorf("must be an absolute http(s) URL with a host")
	}
	if u.User != nil {
		return fmt.Errorf("must not carry credentials")
	}
	return checkHost(u.Hostname())
}

// neverFetched are the address ranges no deployment fetches documents from or posts
// webhooks to, whatever OCRINVOICE_FETCH_ALLOW_CIDRS says: the unspecified addresses,
// link-local (where clouds serve instance metadata and credentials), multicast and
// reserved space. Literal addresses in them are refused when the job is created.
// Loopback and private ranges are not refused here: a deployment may open them on
// purpose (OCRINVOICE_FETCH_ALLOW_CIDRS), and the worker's address guard, which knows
// that list and checks every address actually dialled, refuses them otherwise.
var neverFetched = []struct {
	prefix netip.Prefix
	rule   string
}{
	{netip.MustParsePrefix("0.0.0.0/8"), "unspecified"},
	{netip.MustParsePrefix("169.254.0.0/16"), "link-local (cloud metadata)"},
	{netip.MustParsePrefix("224.0.0.0/4"), "multicast"},
	{netip.MustParsePrefix("240.0.0.0/4"), "reserved"},
	{netip.MustParsePrefix("::/128"), "unspecified"},
	{netip.MustParsePrefix("fe80::/10"), "link-local"},
	{netip.MustParsePrefix("ff00::/8"), "multicast"},
}

// metadataHosts are the names of cloud instance-metadata services.
var metadataHosts = []string{
	"metadata", "metadata.google.internal", "metadata.goog", "instance-data", "instance-data.ec2.internal",
	"metadata.azure.com", "metadata.platformequinix.com",
}

// numericLabel is a host label that URL parsers (browsers, curl, inet_aton) read as part
// of an IPv4 address: decimal, octal (leading 0) or hexadecimal (0x).
var numericLabel = regexp.MustCompile(`^(?i:0x[0-9a-f]*|[0-9]+)$`)

// checkHost refuses host names that can only reach the wrong place: IPv4 addresses in
// other spellings than a dotted quad (2130706433, 0x7f.0.0.1, 0177.0.0.1, 127.1, which
// some resolvers turn into 127.0.0.1), IPv6 zones, literal addresses in neverFetched
// (also as IPv4-mapped IPv6), and cloud metadata service names.
func checkHost(host string) error {
	h := strings.ToLower(strings.TrimSuffix(host, "."))
	if strings.Contains(h, "%") {
		return fmt.Errorf("must not name an IPv6 zone")
	}
	if ip, err := netip.ParseAddr(h); err == nil {
		ip = ip.Unmap()
		for _, b := range neverFetched {
			if b.prefix.Contains(ip) {
				return fmt.Errorf("address %s is %s: documents and webhooks are never sent there", ip, b.rule)
			}
		}
		return nil
	}
	labels := strings.Split(h, ".")
	if numericLabel.MatchString(labels[len(labels)-1]) {
		return fmt.Errorf("host %q is an IPv4 address in a non-standard form; write it as four decimal numbers (a.b.c.d)", host)
	}
	if slices.Contains(metadataHosts, h) {
		return fmt.Errorf("host %q is a cloud metadata service: documents and webhooks are never sent there", host)
	}
	return nil
}

// CheckMetadataText checks the text of job metadata: every key and every string value,
// at any depth, must be valid UTF-8 without NUL characters. JSON decoding quietly turns
// invalid bytes into U+FFFD, but NUL (\u0000) gets through, and PostgreSQL's jsonb
// refuses it with a driver error. The error names the first offending key path
// (e.g. `key "a.b"`); callers report it on the field "metadata".
func CheckMetadataText(m map[string]any) error {
	return checkJSONText("", m)
}

func checkJSONText(path string, v any) error {
	bad := func(s string) bool { return !utf8.ValidString(s) || strings.ContainsRune(s, 0) }
	switch v := v.(type) {
	case string:
		if bad(v) {
			return fmt.Errorf("value at %q must be valid UTF-8 text without NUL characters", path)
		}
	case []any:
		for i, e := range v {
			if err := checkJSONText(fmt.Sprintf("%s[%d]", path, i), e); err != nil {
				return err
			}
		}
	case map[string]any:
		for k, e := range v {
			p := k
			if path != "" {
				p = path + "." + k
			}
			if bad(k) {
				return fmt.Errorf("key %q must be valid UTF-8 text without NUL characters", strings.ToValidUTF8(p, "\uFFFD"))
			}
			if err := checkJSONText(p, e); err != nil {
				return err
			}
		}
	}
	return nil
}

// InferDocumentType returns the document type from the extension of name, or of the
// URL's path when name has none; "" when neither has a known extension.
func InferDocumentType(name, rawURL string) string {
	if t := typeOfExt(path.Ext(name)); t != "" {
		return t
	}
	if u, err := url.Parse(rawURL); err == nil {
		return typeOfExt(path.Ext(u.Path))
	}
	return ""
}

func typeOfExt(ext string) string {
	ext = strings.ToLower(strings.TrimPrefix(ext, "."))
	switch ext {
	case "tif":
		return "tiff"
	case "pdf", "png", "jpg", "jpeg", "tiff", "bmp", "xml":
		return ext
	}
	return ""
}

var (
	languagesRe = regexp.MustCompile(`^[a-z][a-z_]{1,15}(\+[a-z][a-z_]{1,15}){0,9}$`)
	currencyRe  = regexp.MustCompile(`^[A-Z]{3}$`)
)
