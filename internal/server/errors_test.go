package server

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ocrinvoice/ocrinvoice/internal/apperr"
	"github.com/ocrinvoice/ocrinvoice/internal/reqid"
	"github.com/ocrinvoice/ocrinvoice/internal/rest"
)

// TestRESTErrorBodyMatchesREST: under /api/v1/ the middleware's refusals are the REST
// API's own error body, byte for byte, with and without a request id (openapi.json:
// requestId is absent when the request has none, never "").
func TestRESTErrorBodyMatchesREST(t *testing.T) {
	errs := []error{
		apperr.Unauthenticated("missing API key"),
		apperr.New(apperr.KindRateLimited, "too many requests"),
		apperr.Invalid("bad header", apperr.Detail{Field: "X-API-Key", Message: "is empty"}),
	}
	for _, id := range []string{"req-7", ""} {
		for _, err := range errs {
			r := httptest.NewRequest("GET", "/api/v1/ocr-invoice-jobs", nil)
			if id != "" {
				r = r.WithContext(reqid.With(r.Context(), id))
			}
			mw, api := httptest.NewRecorder(), httptest.NewRecorder()
			writeError(mw, r, err)
			rest.WriteError(api, r, nil, err)
			if mw.Code != api.Code || mw.Body.String() != api.Body.String() {
				t.Errorf("id %q, %v: middleware %d %s, REST %d %s", id, err, mw.Code, mw.Body, api.Code, api.Body)
			}
			if has := strings.Contains(mw.Body.String(), `"requestId"`); has != (id != "") {
				t.Errorf("id %q: body %s", id, mw.Body)
			}
			if mw.Code == http.StatusOK {
				t.Errorf("%v answered 200", err)
			}
		}
	}
}
