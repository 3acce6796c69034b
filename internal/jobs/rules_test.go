package jobs_test

import (
	"strings"
	"testing"

	"github.com/ocrinvoice/ocrinvoice/ent/ocrinvoicejob"
	"github.com/ocrinvoice/ocrinvoice/internal/jobs"
)

func TestCost(t *testing.T) {
	tests := []struct {
		pages    int
		price    float64
		priority string
		want     float64
	}{
		{1, 0.05, "medium", 0.05},
		{10, 0.05, "low", 0.4},
		{3, 0.1, "high", 0.45},
		{2, 0.05, "urgent", 0.2},
		{2, 0.05, "unknown", 0.1},
		{0, 0.05, "urgent", 0},
		{-3, 0.05, "medium", 0},
		{5, 0, "medium", 0},
	}
	for _, tt := range tests {
		if got := jobs.Cost(tt.pages, tt.price, tt.priority); got != tt.want {
			t.Errorf("Cost(%d, %v, %s) = %v, want %v", tt.pages, tt.price, tt.priority, got, tt.want)
		}
	}
}

func TestCanTransition(t *testing.T) {
	allowed := map[string]bool{
		"created>queued": true, "created>processing": true, "created>cancelled": true,
		"queued>processing": true, "queued>cancelled": true, "queued>created": true,
		"processing>completed": true, "processing>failed": true, "processing>cancelled": true, "processing>queued": true,
		"failed>created": true, "cancelled>created": true, "completed>created": true,
	}
	for _, from := range jobs.Statuses {
		for _, to := range jobs.Statuses {
			key := from + ">" + to
			if got := jobs.CanTransition(ocrinvoicejob.Status(from), ocrinvoicejob.Status(to)); got != allowed[key] {
				t.Errorf("CanTransition(%s) = %v, want %v", key, got, allowed[key])
			}
		}
	}
}

func TestInferDocumentType(t *testing.T) {
	tests := []struct{ name, url, want string }{
		{"a.pdf", "", "pdf"},
		{"A.PDF", "", "pdf"},
		{"scan.tif", "", "tiff"},
		{"photo", "https://x.example/p/photo.JPeG?sig=1", "jpeg"},
		{"noext", "https://x.example/download?id=1", ""},
		{"weird.docx", "https://x.example/a.bmp", "bmp"},
	}
	for _, tt := range tests {
		if got := jobs.InferDocumentType(tt.name, tt.url); got != tt.want {
			t.Errorf("InferDocumentType(%q, %q) = %q, want %q", tt.name, tt.url, got, tt.want)
		}
	}
}

func TestValidateDocumentURL(t *testing.T) {
	tests := []struct {
		url string
		ok  bool
	}{
		{"https://example.com/a.pdf", true},
		{"http://10.0.0.1:8080/a.png", true},
		{"upload://" + strings.Repeat("0123456789abcdef", 4), true},
		{"upload://0123456789abcdef01234567", false}, // not a SHA-256
		{"upload://" + strings.Repeat("0123456789ABCDEF", 4), false},
		{"upload://../../etc/passwd", false},
		{"upload://" + strings.Repeat("0123456789abcdef", 4) + "/../x", false},
		{"upload://" + strings.Repeat("0123456789abcdef", 4) + "?x=1", false},
		{"upload:" + strings.Repeat("0123456789abcdef", 4), false},
		{"HTTPS://EXAMPLE.COM/A.PDF", true},
		{"", false},
		{"example.com/a.pdf", false},
		{"file:///etc/passwd", false},
		{"javascript:alert(1)", false},
		{"https://", false},
		{"upload://", false},
		{"https://exa mple.com/", false},
		{"https://example.com/" + strings.Repeat("a", jobs.MaxDocumentURLLen), false},
	}
	for _, tt := range tests {
		if err := jobs.ValidateDocumentURL(tt.url); (err == nil) != tt.ok {
			t.Errorf("ValidateDocumentURL(%q) = %v, want ok=%v", tt.url, err, tt.ok)
		}
	}
}
