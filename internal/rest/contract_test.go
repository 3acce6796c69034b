package rest

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// The contract test: every response that any test in this package gets from the REST handler
// passes through contractHandler and is validated against openapi.json (status code documented,
// body matching the schema, formats such as date-time checked). TestMain then checks that every
// operation of the document was answered successfully at least once.

var (
	specOnce   sync.Once
	specDoc    *openapi3.T
	specRouter routers.Router
	specErr    error

	coverageMu sync.Mutex
	coverage   = map[string]map[int]bool{} // "METHOD /path" -> statuses seen
)

func loadSpec(t testing.TB) (*openapi3.T, routers.Router) {
	t.Helper()
	specOnce.Do(func() {
		// An e-invoice export is XML; the document describes it as a string (its XSD is
		// checked by the export's own tests), so the body is taken as one.
		openapi3filter.RegisterBodyDecoder("application/xml", func(r io.Reader, _ http.Header, _ *openapi3.SchemaRef, _ openapi3filter.EncodingFn) (any, error) {
			b, err := io.ReadAll(r)
			return string(b), err
		})
		loader := openapi3.NewLoader()
		specDoc, specErr = loader.LoadFromData(openAPIDocument)
		if specErr != nil {
			specErr = fmt.Errorf("load openapi.json: %w", specErr)
			return
		}
		if specErr = specDoc.Validate(context.Background()); specErr != nil {
			specErr = fmt.Errorf("openapi.json is not a valid OpenAPI 3 document: %w", specErr)
			return
		}
		specRouter, specErr = gorillamux.NewRouter(specDoc)
	})
	if specErr != nil {
		t.Fatal(specErr)
	}
	return specDoc, specRouter
}

// contractHandler wraps h so that each response is validated against the OpenAPI document;
// a mismatch fails t with the request, the status and the validator's reason.
func contractHandler(t testing.TB, h http.Handler) http.Handler {
	doc, router := loadSpec(t)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		res := rec.Result()
		body := rec.Body.Bytes()
		if err := validateResponse(doc, router, r, res, body); err != nil {
			t.Errorf("contract: %s %s -> %d does not match openapi.json: %v\nbody: %.600s", r.Method, r.URL, res.StatusCode, err, body)
		}
		for k, v := range res.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(res.StatusCode)
		_, _ = w.Write(body)
	})
}

var schemaOpts = []openapi3.SchemaValidationOption{openapi3.EnableFormatValidation(), openapi3.MultiErrors()}

func validateResponse(doc *openapi3.T, router routers.Router, r *http.Request, res *http.Response, body []byte) error {
	// The router needs an absolute URL to match servers.
	req := r.Clone(context.Background())
	if req.URL.Host == "" {
		req.URL.Scheme, req.URL.Host = "http", "example.test"
	}
	route, params, err := router.FindRoute(req)
	switch {
	case errors.Is(err, routers.ErrPathNotFound):
		if res.StatusCode != http.StatusNotFound {
			return fmt.Errorf("undocumented path answered %d, want 404", res.StatusCode)
		}
		return validateErrorBody(doc, res, body)
	case errors.Is(err, routers.ErrMethodNotAllowed):
		if res.StatusCode != http.StatusMethodNotAllowed || res.Header.Get("Allow") == "" {
			return fmt.Errorf("undocumented method answered %d (Allow %q), want 405 with Allow", res.StatusCode, res.Header.Get("Allow"))
		}
		return validateErrorBody(doc, res, body)
	case err != nil:
		return fmt.Errorf("find route: %w", err)
	}
	if r.Method == http.MethodHead {
		return nil
	}
	key := r.Method + " " + route.Path
	coverageMu.Lock()
	if coverage[key] == nil {
		coverage[key] = map[int]bool{}
	}
	coverage[key][res.StatusCode] = true
	coverageMu.Unlock()
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route},
		Status:                 res.StatusCode,
		Header:                 res.Header,
		Body:                   io.NopCloser(bytes.NewReader(body)),
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true, SchemaValidationOptions: schemaOpts},
	}
	return openapi3filter.ValidateResponse(context.Background(), in)
}

func validateErrorBody(doc *openapi3.T, res *http.Response, body []byte) error {
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		return fmt.Errorf("content type %q, want application/json", ct)
	}
	v, err := decodeAny(body)
	if err != nil {
		return err
	}
	return doc.Components.Schemas["ErrorResponse"].Value.VisitJSON(v, schemaOpts...)
}

// TestMain runs the tests, then (when the whole package ran) checks that every operation of
// openapi.json was exercised with a 2xx answer, so the contract test covers the document.
func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	if code == 0 && flag.Lookup("test.run").Value.String() == "" && !testing.Short() {
		doc, err := openapi3.NewLoader().LoadFromData(openAPIDocument)
		if err != nil {
			fmt.Fprintln(os.Stderr, "load openapi.json:", err)
			os.Exit(1)
		}
		var missing []string
		for path, item := range doc.Paths.Map() {
			for method := range item.Operations() {
				key := method + " " + path
				ok := false
				for st := range coverage[key] {
					ok = ok || (st >= 200 && st < 300)
				}
				if !ok {
					missing = append(missing, key)
				}
			}
		}
		sort.Strings(missing)
		if len(missing) > 0 {
			fmt.Fprintf(os.Stderr, "contract coverage: no successful response was validated for %s\n", strings.Join(missing, ", "))
			code = 1
		}
	}
	cleanupBench()
	os.Exit(code)
}
