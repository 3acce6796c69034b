package httpjson

import (
	"math"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestWrite(t *testing.T) {
	rec := httptest.NewRecorder()
	if err := Write(rec, http.StatusTeapot, map[string]string{"html": "<b>&</b>"}); err != nil {
		t.Fatal(err)
	}
	if rec.Code != http.StatusTeapot {
		t.Errorf("status %d", rec.Code)
	}
	if got, want := rec.Body.String(), `{"html":"<b>&</b>"}`+"\n"; got != want {
		t.Errorf("body %q, want %q (no HTML escaping, one line)", got, want)
	}
	for k, want := range map[string]string{"Content-Type": ContentType, "X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"} {
		if got := rec.Header().Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
}

// TestWriteEncodingError: a value that cannot be encoded is reported before anything is
// written, so that the caller can still answer.
func TestWriteEncodingError(t *testing.T) {
	rec := httptest.NewRecorder()
	if err := Write(rec, http.StatusOK, math.NaN()); err == nil {
		t.Fatal("NaN encoded")
	}
	if rec.Body.Len() != 0 || len(rec.Header()) != 0 {
		t.Errorf("wrote %q with headers %v before the error", rec.Body.String(), rec.Header())
	}
	if err := Write(rec, http.StatusInternalServerError, "fallback"); err != nil || rec.Code != http.StatusInternalServerError {
		t.Errorf("fallback answer: %v %d", err, rec.Code)
	}
}
