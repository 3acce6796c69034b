// Package rest is the REST compatibility API of ocrinvoice: the routes of the original
// OCR invoice jobs contract under /api/v1 (plus templates and job groups in the same style)
// and the OpenAPI document at /openapi.json. Handlers are thin: decode, call internal/jobs,
// encode the {success, data, total} envelope. Every rule lives in internal/jobs.
package rest

import (
	"log/slog"
	"net/http"
	"slices"
	"strings"

	"github.com/ocrinvoice/ocrinvoice/internal/apperr"
	"github.com/ocrinvoice/ocrinvoice/internal/jobs"
	"github.com/ocrinvoice/ocrinvoice/internal/live"
	"github.com/ocrinvoice/ocrinvoice/internal/uploads"
)

// route is one endpoint: a Go 1.22 ServeMux pattern without its method, and the method.
type route struct {
	method, path string
	handle       func(*api, http.ResponseWriter, *http.Request)
}

// routes lists every endpoint of the REST API. Keep openapi.json in step (the contract test
// fails on any response the document does not describe).
var routes = []route{
	{"GET", "/api/v1/ocr-invoice-jobs", (*api).listJobs},
	{"POST", "/api/v1/ocr-invoice-jobs", (*api).createJob},
	{"GET", "/api/v1/ocr-invoice-jobs/{id}", (*api).getJob},
	{"PUT", "/api/v1/ocr-invoice-jobs/{id}", (*api).updateJob},
	{"GET", "/api/v1/ocr-invoice-jobs/{id}/results", (*api).jobResults},
	{"POST", "/api/v1/ocr-invoice-jobs/{id}/cancel", (*api).cancelJob},
	{"POST", "/api/v1/ocr-invoice-jobs/{id}/retry", (*api).retryJob},
	{"GET", "/api/v1/ocr-invoice-jobs/{id}/events", (*api).jobEvents},

	{"POST", "/api/v1/uploads", (*api).uploadDocument},

	{"GET", "/api/v1/ocr-templates", (*api).listTemplates},
	{"POST", "/api/v1/ocr-templates", (*api).createTemplate},
	{"GET", "/api/v1/ocr-templates/{id}", (*api).getTemplate},
	{"PUT", "/api/v1/ocr-templates/{id}", (*api).updateTemplate},

	{"GET", "/api/v1/ocr-job-groups", (*api).listGroups},
	{"POST", "/api/v1/ocr-job-groups", (*api).createGroup},
	{"GET", "/api/v1/ocr-job-groups/{id}", (*api).getGroup},
	{"PUT", "/api/v1/ocr-job-groups/{id}", (*api).updateGroup},
	{"POST", "/api/v1/ocr-job-groups/{id}/suspend", suspendGroup},
	{"POST", "/api/v1/ocr-job-groups/{id}/resume", resumeGroup},
	{"POST", "/api/v1/ocr-job-groups/{id}/cancel", cancelGroup},
	{"POST", "/api/v1/ocr-job-groups/{id}/retry-failed", retryFailedGroup},

	{"GET", "/openapi.json", func(_ *api, w http.ResponseWriter, r *http.Request) { serveOpenAPI(w, r) }},
}

type api struct {
	svc       *jobs.Service
	log       *slog.Logger
	uploads   *uploads.Store // nil: POST /api/v1/uploads answers 503
	uploadMax int64
	live      *live.Watcher // nil: GET .../events answers 503
}

// router serves the routes; requests that match none get the JSON error envelope: 405 (with
// Allow) when the path exists under another method, 404 otherwise.
type router struct {
	api     *api
	mux     *http.ServeMux
	paths   *http.ServeMux // the same paths without methods, to tell 405 from 404
	methods map[string][]string
}

// NewHandler returns the REST API handler. It serves the full paths /api/v1/... and
// /openapi.json, so mount it at "/api/v1/" and "/openapi.json" (or at "/"). logger receives
// the causes of 5xx answers; nil means slog.Default(). WithUploads enables document uploads,
// WithEvents the job event streams.
func NewHandler(svc *jobs.Service, logger *slog.Logger, opts ...Option) http.Handler {
	if logger == nil {
		logger = slog.Default()
	}
	a := &api{svc: svc, log: logger}
	for _, o := range opts {
		o(a)
	}
	rt := &router{api: a, mux: http.NewServeMux(), paths: http.NewServeMux(), methods: map[string][]string{}}
	for _, r := range routes {
		handle := r.handle
		rt.mux.HandleFunc(r.method+" "+r.path, func(w http.ResponseWriter, req *http.Request) { handle(a, w, req) })
		if _, seen := rt.methods[r.path]; !seen {
			rt.paths.Handle(r.path, http.NotFoundHandler())
		}
		rt.methods[r.path] = append(rt.methods[r.path], r.method)
	}
	return rt
}

func (rt *router) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if _, pattern := rt.mux.Handler(r); pattern != "" {
		rt.mux.ServeHTTP(w, r)
		return
	}
	if _, pattern := rt.paths.Handler(r); pattern != "" {
		allowed := slices.Clone(rt.methods[pattern])
		if slices.Contains(allowed, "GET") {
			allowed = append(allowed, "HEAD")
		}
		w.Header().Set("Allow", strings.Join(allowed, ", "))
		writeJSON(w, rt.api.log, http.StatusMethodNotAllowed, errorEnvelope{Error: errorBody{
			Code:    "METHOD_NOT_ALLOWED",
			Message: "method " + r.Method + " is not allowed on " + r.URL.Path + "; allowed: " + strings.Join(allowed, ", "),
			Details: []apperr.Detail{},
		}})
		return
	}
	writeError(w, r, rt.api.log, apperr.NotFound("no route "+r.Method+" "+r.URL.Path+"; see /openapi.json"))
}
