package jobs_test

import (
	"testing"

	"github.com/ocrinvoice/ocrinvoice/internal/jobs"
	"github.com/ocrinvoice/ocrinvoice/internal/uploads"
)

// FuzzDocumentInput: URL validation and type inference never panic, and an accepted URL
// is within the length limit.
func FuzzDocumentInput(f *testing.F) {
	for _, s := range []string{"https://example.com/a.pdf", "upload://k", "upload://0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "upload://../../etc/passwd", "http://[::1]:80/x.PNG", "%zz", "https://a/b.tif?x=.pdf", ""} {
		f.Add(s, "name.pdf")
	}
	f.Fuzz(func(t *testing.T, rawURL, name string) {
		err := jobs.ValidateDocumentURL(rawURL)
		if err == nil && len(rawURL) > jobs.MaxDocumentURLLen {
			t.Fatalf("accepted a URL of %d bytes", len(rawURL))
		}
		// An accepted upload URL names exactly one valid key, never a path.
		if err == nil && uploads.IsURL(rawURL) {
			if _, kerr := uploads.KeyFromURL(rawURL); kerr != nil {
				t.Fatalf("accepted upload URL %q that the store refuses: %v", rawURL, kerr)
			}
		}
		typ := jobs.InferDocumentType(name, rawURL)
		if typ != "" {
			found := false
			for _, d := range jobs.DocumentTypes {
				found = found || d == typ
			}
			if !found {
				t.Fatalf("inferred unknown type %q", typ)
			}
		}
	})
}
