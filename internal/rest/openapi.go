package rest

import (
	_ "embed"
	"net/http"

	"github.com/ocrinvoice/ocrinvoice/internal/httpjson"
)

// openAPIDocument is the OpenAPI 3 description of every route, parameter, body and response
// of this package. The contract test (openapi_test.go) validates every response the REST tests
// produce against it, so it cannot drift from the handlers unnoticed.
//
//go:embed openapi.json
var openAPIDocument []byte

// OpenAPIDocument returns the OpenAPI 3 document served at /openapi.json (JSON).
func OpenAPIDocument() []byte { return append([]byte(nil), openAPIDocument...) }

func serveOpenAPI(_ *api, w http.ResponseWriter, _ *http.Request) {
	h := w.Header()
	h.Set("Content-Type", httpjson.ContentType)
	h.Set("Cache-Control", "public, max-age=300")
	h.Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write(openAPIDocument)
}
