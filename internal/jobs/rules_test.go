package jobs_test

import (
	"math"
	"reflect"
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
	defaults := jobs.DefaultPriceFactors()
	for _, tt := range tests {
		if got := defaults.Cost(tt.pages, tt.price, tt.priority); got != tt.want {
			t.Errorf("Cost(%d, %v, %s) = %v, want %v", tt.pages, tt.price, tt.priority, got, tt.want)
		}
	}
}

// TestServicePriceFactors: configured factors replace the defaults of the priorities
// they name; the others, and invalid values, keep the defaults.
func TestServicePriceFactors(t *testing.T) {
	tests := []struct {
		name string
		opt  jobs.PriceFactors
		want jobs.PriceFactors
	}{
		{"unset", nil, jobs.PriceFactors{"low": 0.8, "medium": 1, "high": 1.5, "urgent": 2}},
		{"all", jobs.PriceFactors{"low": 0.5, "medium": 1.2, "high": 2, "urgent": 4},
			jobs.PriceFactors{"low": 0.5, "medium": 1.2, "high": 2, "urgent": 4}},
		{"some", jobs.PriceFactors{"urgent": 3, "low": 0},
			jobs.PriceFactors{"low": 0, "medium": 1, "high": 1.5, "urgent": 3}},
		{"invalid ignored", jobs.PriceFactors{"high": -1, "urgent": math.NaN(), "medium": math.Inf(1)},
			jobs.PriceFactors{"low": 0.8, "medium": 1, "high": 1.5, "urgent": 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := jobs.NewService(nil, nil, jobs.Options{PriceFactors: tt.opt})
			if got := s.PriceFactors(); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("factors %v, want %v", got, tt.want)
			}
			for prio, f := range tt.want {
				if got, want := s.Cost(10, 0.1, prio), math.Round(10*0.1*f*1e6)/1e6; got != want {
					t.Errorf("Cost(10, 0.1, %s) = %v, want %v", prio, got, want)
				}
			}
		})
	}
	// The service's map is its own: changing the option or the copy changes nothing.
	opt := jobs.PriceFactors{"high": 3}
	s := jobs.NewService(nil, nil, jobs.Options{PriceFactors: opt})
	opt["high"] = 9
	s.PriceFactors()["high"] = 9
	if got := s.Cost(1, 1, "high"); got != 3 {
		t.Errorf("high factor changed from outside: cost %v", got)
	}
}

func TestCanTransition(t *testing.T) {
	allowed := map[string]bool{
		"created>queued": true, "created>processing": true, "created>cancelled": true,
		"queued>processing": true, "queued>cancelled": true, "queued>created": true,
		"processing>processing": true, "processing>completed": true, "processing>failed": true, "processing>cancelled": true, "processing>queued": true,
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
