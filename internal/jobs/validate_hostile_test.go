package jobs_test

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"github.com/ocrinvoice/ocrinvoice/ent"
	"github.com/ocrinvoice/ocrinvoice/internal/apperr"
	"github.com/ocrinvoice/ocrinvoice/internal/database/databasetest"
	"github.com/ocrinvoice/ocrinvoice/internal/jobs"
	"github.com/ocrinvoice/ocrinvoice/worker/fetch"
)

// TestCreateJobRefusesHostileText: invalid UTF-8, NUL and control characters in the text
// fields and URLs of a job are a 400 naming the field on every database (PostgreSQL
// would refuse them with a driver error, a 500), and nothing is stored.
func TestCreateJobRefusesHostileText(t *testing.T) {
	databasetest.Each(t, func(t *testing.T, c *ent.Client) {
		s := newService(t, c, nil)
		ctx := context.Background()
		for _, tc := range []struct {
			name  string
			edit  func(*jobs.JobInput)
			field string
		}{
			{"invalid UTF-8 jobNumber", func(in *jobs.JobInput) { in.JobNumber = "J-\xff" }, "jobNumber"},
			{"NUL jobNumber", func(in *jobs.JobInput) { in.JobNumber = "J-\x00" }, "jobNumber"},
			{"invalid UTF-8 documentName", func(in *jobs.JobInput) { in.DocumentName = "a\xc3.pdf" }, "documentName"},
			{"NUL documentName", func(in *jobs.JobInput) { in.DocumentName = "a\x00.pdf" }, "documentName"},
			{"invalid UTF-8 createdBy", func(in *jobs.JobInput) { in.CreatedBy = "\xfe\xff" }, "createdBy"},
			{"NUL createdBy", func(in *jobs.JobInput) { in.CreatedBy = "u\x00" }, "createdBy"},
			{"invalid UTF-8 documentUrl", func(in *jobs.JobInput) { in.DocumentURL = "https://example.com/a\xff.pdf" }, "documentUrl"},
			{"NUL documentUrl", func(in *jobs.JobInput) { in.DocumentURL = "https://example.com/a\x00.pdf" }, "documentUrl"},
			{"control character documentUrl", func(in *jobs.JobInput) { in.DocumentURL = "https://example.com/a\x1b.pdf" }, "documentUrl"},
			{"invalid UTF-8 callbackUrl", func(in *jobs.JobInput) { in.CallbackURL = "https://example.com/\xff" }, "callbackUrl"},
			{"DEL callbackUrl", func(in *jobs.JobInput) { in.CallbackURL = "https://example.com/\x7f" }, "callbackUrl"},
			{"NUL metadata value", func(in *jobs.JobInput) { in.Metadata = map[string]any{"po": "4\x00"} }, "metadata"},
			{"NUL metadata key", func(in *jobs.JobInput) { in.Metadata = map[string]any{"a": map[string]any{"b\x00": 1}} }, "metadata"},
			{"invalid UTF-8 metadata", func(in *jobs.JobInput) { in.Metadata = map[string]any{"po": []any{"\xff"}} }, "metadata"},
			{"invalid UTF-8 template", func(in *jobs.JobInput) { in.Template = "gen\xffric" }, "template"},
			{"NUL template", func(in *jobs.JobInput) { in.Template = "generic\x00" }, "template"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				in := validInput("HT-1")
				tc.edit(&in)
				_, err := s.CreateJob(ctx, in)
				wantKind(t, err, apperr.KindInvalid, tc.field)
			})
		}
		if n := c.OcrInvoiceJob.Query().CountX(ctx); n != 0 {
			t.Errorf("%d jobs stored, want none", n)
		}
	})
}

// TestURLsAimedAtInternalAddresses: document and callback URLs whose host can only be an
// internal target are refused when the job is created, naming the field; loopback and
// private literals are left to the worker's guard (it knows OCRINVOICE_FETCH_ALLOW_CIDRS).
func TestURLsAimedAtInternalAddresses(t *testing.T) {
	refused := []struct{ url, want string }{
		{"http://169.254.169.254/latest/meta-data", "link-local (cloud metadata)"},
		{"http://169.254.169.254./latest/meta-data", "link-local"},
		{"http://[::ffff:169.254.169.254]/", "link-local"},
		{"http://[fe80::1]/", "link-local"},
		{"http://[fe80::1%25eth0]/", "IPv6 zone"},
		{"http://0.0.0.0/", "unspecified"},
		{"http://0.0.0.0:8080/a.pdf", "unspecified"},
		{"http://[::]/", "unspecified"},
		{"http://224.0.0.1/", "multicast"},
		{"http://[ff02::1]/", "multicast"},
		{"http://255.255.255.255/", "reserved"},
		{"http://2130706433/a.pdf", "non-standard form"},
		{"http://0x7f.0.0.1/a.pdf", "non-standard form"},
		{"http://0x7f000001/a.pdf", "non-standard form"},
		{"http://0177.0.0.1/a.pdf", "non-standard form"},
		{"http://127.1/a.pdf", "non-standard form"},
		{"http://127.000.000.001/a.pdf", "non-standard form"},
		{"http://10.0.0.1.5/", "non-standard form"},
		{"http://metadata.google.internal/computeMetadata/v1/", "cloud metadata service"},
		{"http://METADATA.google.internal./", "cloud metadata service"},
		{"http://metadata/", "cloud metadata service"},
		{"file:///etc/passwd", "not supported"},
		{"gopher://127.0.0.1:6379/_FLUSHALL", "not supported"},
		{"dict://127.0.0.1:11211/stats", "not supported"},
		{"ftp://10.0.0.1/a.pdf", "not supported"},
		{"jar:http://example.com/a.zip!/a.pdf", "not supported"},
		{"http://user:pass@example.com/a.pdf", "credentials"},
		{"//example.com/a.pdf", "absolute"},
	}
	for _, tc := range refused {
		for name, check := range map[string]func(string) error{"documentUrl": jobs.ValidateDocumentURL, "callbackUrl": jobs.ValidateCallbackURL} {
			err := check(tc.url)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%s %q: %v, want an error containing %q", name, tc.url, err, tc.want)
			}
		}
	}
	// Left to the worker's guard, which opens them only through its allow-list.
	for _, u := range []string{
		"http://127.0.0.1/a.pdf", "http://10.0.0.1/a.pdf", "http://[::1]/a.pdf", "http://[fd00::1]/a.pdf",
		"http://[::ffff:127.0.0.1]/a.pdf", "https://invoices.example.com/a.pdf", "https://1.2.3.4/a.pdf",
		"https://a1.example/a.pdf", "https://123.example.com/a.pdf",
	} {
		if err := jobs.ValidateDocumentURL(u); err != nil {
			t.Errorf("ValidateDocumentURL(%q) = %v, want nil", u, err)
		}
	}
	// Through the service: a 400 naming the field, nothing stored.
	databasetest.Each(t, func(t *testing.T, c *ent.Client) {
		s := newService(t, c, nil)
		ctx := context.Background()
		in := validInput("SSRF-1")
		in.DocumentURL = "http://169.254.169.254/latest/meta-data"
		_, err := s.CreateJob(ctx, in)
		wantKind(t, err, apperr.KindInvalid, "documentUrl")
		in = validInput("SSRF-2")
		in.CallbackURL = "http://0x7f.0.0.1/hook"
		_, err = s.CreateJob(ctx, in)
		wantKind(t, err, apperr.KindInvalid, "callbackUrl")
		if n := c.OcrInvoiceJob.Query().CountX(ctx); n != 0 {
			t.Errorf("%d jobs stored, want none", n)
		}
	})
}

func TestCheckMetadataText(t *testing.T) {
	for _, tc := range []struct {
		name string
		m    map[string]any
		want string
	}{
		{"fine", map[string]any{"a": "b", "n": 1.5, "l": []any{"x", map[string]any{"y": true}}}, ""},
		{"NUL key", map[string]any{"a\x00": "b"}, `key "a\x00"`},
		{"NUL value", map[string]any{"a": "b\x00"}, `value at "a"`},
		{"invalid UTF-8 key", map[string]any{"a": map[string]any{"\xff": 1}}, "key \"a.\uFFFD\""},
		{"invalid UTF-8 in a list", map[string]any{"a": []any{"ok", "\xc3"}}, `value at "a[1]"`},
	} {
		err := jobs.CheckMetadataText(tc.m)
		if (tc.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%s: CheckMetadataText = %v, want %q", tc.name, err, tc.want)
		}
	}
}

// A group's documents get the same metadata check, named by their index.
func TestCreateGroupRefusesHostileMetadata(t *testing.T) {
	databasetest.Each(t, func(t *testing.T, c *ent.Client) {
		s := newService(t, c, nil)
		ctx := context.Background()
		_, err := s.CreateGroup(ctx, jobs.GroupInput{Name: "g", Documents: []jobs.GroupDocument{
			{DocumentURL: "https://files.example.com/a.pdf", DocumentName: "a.pdf"},
			{DocumentURL: "https://files.example.com/b.pdf", DocumentName: "b.pdf", Metadata: map[string]any{"k": "v\x00"}},
		}})
		wantKind(t, err, apperr.KindInvalid, "documents[1].metadata")
		if n := c.OcrJobGroup.Query().CountX(ctx) + c.OcrInvoiceJob.Query().CountX(ctx); n != 0 {
			t.Errorf("%d rows stored, want none", n)
		}
	})
}

// With the worker's guard as AddressCheck, a literal private or loopback target is a
// 400 naming the field when the job is created, unless the allow list opens it.
func TestCreateJobChecksLiteralAddresses(t *testing.T) {
	c := databasetest.Open(t)
	ctx := context.Background()
	s := jobs.NewService(c, nil, jobs.Options{Logger: quiet,
		AddressCheck: fetch.Guard{Allow: []netip.Prefix{netip.MustParsePrefix("10.20.0.0/16")}}.Check})
	if err := s.EnsureBuiltins(ctx); err != nil {
		t.Fatal(err)
	}
	for i, tc := range []struct {
		doc, callback, field string
	}{
		{"http://127.0.0.1:8080/a.pdf", "", "documentUrl"},
		{"http://localhost/a.pdf", "", "documentUrl"},
		{"http://10.0.0.7/a.pdf", "", "documentUrl"},
		{"http://192.168.1.1/a.pdf", "", "documentUrl"},
		{"http://[::1]/a.pdf", "", "documentUrl"},
		{"http://[fd00::1]/a.pdf", "", "documentUrl"},
		{"http://100.64.0.1/a.pdf", "", "documentUrl"},
		{"https://files.example.com/a.pdf", "http://172.16.0.1/hook", "callbackUrl"},
	} {
		in := validInput(fmt.Sprintf("LIT-%d", i))
		in.DocumentURL, in.CallbackURL = tc.doc, tc.callback
		_, err := s.CreateJob(ctx, in)
		wantKind(t, err, apperr.KindInvalid, tc.field)
		if !strings.Contains(err.Error()+fmt.Sprint(apperr.As(err).Details), "OCRINVOICE_FETCH_ALLOW_CIDRS") {
			t.Errorf("%s: the error does not say how to open it: %v", tc.doc, apperr.As(err).Details)
		}
	}
	in := validInput("LIT-OK")
	in.DocumentURL = "http://10.20.3.4/a.pdf" // allowed range
	if _, err := s.CreateJob(ctx, in); err != nil {
		t.Fatalf("allowed range: %v", err)
	}
	_, err := s.CreateGroup(ctx, jobs.GroupInput{Name: "g", Documents: []jobs.GroupDocument{
		{DocumentURL: "http://192.168.0.9/x.pdf", DocumentName: "x.pdf"}}})
	wantKind(t, err, apperr.KindInvalid, "documents[0].documentUrl")
}
