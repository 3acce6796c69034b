package jobs_test

import (
	"testing"

	"github.com/ocrinvoice/ocrinvoice/internal/jobs"
)

// FuzzDocumentInput: URL validation and type inference never panic, and an accepted URL
// is within the length limit.
func FuzzDocumentInput(f *testing.F) {
	for _, s := range []string{"https://example.com/a.pdf", "upload://k", "http://[::1]:80/x.PNG", "%zz", "https://a/b.tif?x=.pdf", ""} {
		f.Add(s, "name.pdf")
	}
	f.Fuzz(func(t *testing.T, rawURL, name string) {
		if err := jobs.ValidateDocumentURL(rawURL); err == nil && len(rawURL) > jobs.MaxDocumentURLLen {
			t.Fatalf("accepted a URL of %d bytes", len(rawURL))
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
