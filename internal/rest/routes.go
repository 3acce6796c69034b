// Package rest is the REST compatibility API of ocrinvoice: the routes of the original
// OCR invoice jobs contract under /api/v1 (plus templates and job groups in the same style)
// and the OpenAPI document at /openapi.json. Handlers are thin: decode, call internal/jobs,
// encode the {success, data, total} envelope. Every rule lives in internal/jobs.
package rest

import (
	"errors"
	"log/slog"
	"net/http"
	"runtime/debug"
	"slices"
	"strings"

	"github.com/ocrinvoice/ocrinvoice/internal/apperr"
	"github.com/ocrinvoice/ocrinvoice/internal/auth"
	"github.com/ocrinvoice/ocrinvoice/internal/jobs"
	"github.com/ocrinvoice/ocrinvoice/internal/live"
	"github.com/ocrinvoice/ocrinvoice/internal/pages"
	"github.com/ocrinvoice/ocrinvoice/internal/reqid"
	"github.com/ocrinvoice/ocrinvoice/internal/uploads"
)

// route is one endpoint: a Go 1.22 ServeMux pattern without its method, the method, and
// the weakest role allowed to call it (public: no principal needed).
type route struct {
	method, path string
	role         auth.Role
	handle       func(*api, http.ResponseWriter, *http.Request)
}

// handler serves one route. It writes its answer itself when it succeeds and returns nil;
// otherwise it returns the error, before it has written anything, and serve answers it
// with the error envelope (writeError). No handler writes an error itself.
type handler func(*api, http.ResponseWriter, *http.Request) error

// serve adapts h to a route: it runs h and answers the error h returns with writeError,
// the one place where a handler's error becomes an answer.
func serve(h handler) func(*api, http.ResponseWriter, *http.Request) {
	return func(a *api, w http.ResponseWriter, r *http.Request) {
		if err := h(a, w, r); err != nil {
			writeError(w, r, a.log, err)
		}
	}
}

// public is the "role" of a route that needs no principal at all.
const public auth.Role = ""

// routes lists every endpoint of the REST API with its minimum role: viewers read, submitters
// also create and manage jobs and groups, correct and approve jobs' data, upload, and delete supplier profiles, admins also write templates. Which jobs
// and groups a caller sees (its owner's) is decided by internal/jobs, not here. Keep
// openapi.json in step (the contract test fails on any response the document does not
// describe) and the role table of auth_test.go (it fails on a route without an expectation).
var routes = []route{
	{"GET", "/api/v1/ocr-invoice-jobs", auth.RoleViewer, serve((*api).listJobs)},
	{"POST", "/api/v1/ocr-invoice-jobs", auth.RoleSubmitter, serve((*api).createJob)},
	{"GET", "/api/v1/ocr-invoice-jobs/{id}", auth.RoleViewer, serve((*api).getJob)},
	{"PUT", "/api/v1/ocr-invoice-jobs/{id}", auth.RoleSubmitter, serve((*api).updateJob)},
	{"GET", "/api/v1/ocr-invoice-jobs/{id}/results", auth.RoleViewer, serve((*api).jobResults)},
	{"GET", "/api/v1/ocr-invoice-jobs/{id}/einvoice", auth.RoleViewer, serve((*api).jobEInvoice)},
	{"GET", "/api/v1/ocr-invoice-jobs/{id}/pages/{n}", auth.RoleViewer, serve((*api).jobPage)},
	{"POST", "/api/v1/ocr-invoice-jobs/{id}/cancel", auth.RoleSubmitter, serve((*api).cancelJob)},
	{"POST", "/api/v1/ocr-invoice-jobs/{id}/retry", auth.RoleSubmitter, serve((*api).retryJob)},
	{"GET", "/api/v1/ocr-invoice-jobs/{id}/events", auth.RoleViewer, serve((*api).jobEvents)},
	{"PATCH", "/api/v1/ocr-invoice-jobs/{id}/extracted-data", auth.RoleSubmitter, serve((*api).correctJob)},
	{"POST", "/api/v1/ocr-invoice-jobs/{id}/approve", auth.RoleSubmitter, serve((*api).approveJob)},

	{"POST", "/api/v1/uploads", auth.RoleSubmitter, serve((*api).uploadDocument)},

	{"GET", "/api/v1/ocr-templates", auth.RoleViewer, serve((*api).listTemplates)},
	{"POST", "/api/v1/ocr-templates", auth.RoleAdmin, serve((*api).createTemplate)},
	{"GET", "/api/v1/ocr-templates/{id}", auth.RoleViewer, serve((*api).getTemplate)},
	{"PUT", "/api/v1/ocr-templates/{id}", auth.RoleAdmin, serve((*api).updateTemplate)},

	{"GET", "/api/v1/ocr-job-groups", auth.RoleViewer, serve((*api).listGroups)},
	{"POST", "/api/v1/ocr-job-groups", auth.RoleSubmitter, serve((*api).createGroup)},
	{"GET", "/api/v1/ocr-job-groups/{id}", auth.RoleViewer, serve((*api).getGroup)},
	{"PUT", "/api/v1/ocr-job-groups/{id}", auth.RoleSubmitter, serve((*api).updateGroup)},
	{"POST", "/api/v1/ocr-job-groups/{id}/suspend", auth.RoleSubmitter, serve(suspendGroup)},
	{"POST", "/api/v1/ocr-job-groups/{id}/resume", auth.RoleSubmitter, serve(resumeGroup)},
	{"POST", "/api/v1/ocr-job-groups/{id}/cancel", auth.RoleSubmitter, serve(cancelGroup)},
	{"POST", "/api/v1/ocr-job-groups/{id}/retry-failed", auth.RoleSubmitter, serve(retryFailedGroup)},

	{"GET", "/api/v1/supplier-profiles", auth.RoleViewer, serve((*api).listProfiles)},
	{"GET", "/api/v1/supplier-profiles/{id}", auth.RoleViewer, serve((*api).getProfile)},
	{"DELETE", "/api/v1/supplier-profiles/{id}", auth.RoleSubmitter, serve((*api).deleteProfile)},

	{"GET", "/openapi.json", public, serveOpenAPI},
}

type api struct {
	svc       *jobs.Service
	log       *slog.Logger
	uploads   *uploads.Store // nil: POST /api/v1/uploads answers 503
	uploadMax int64
	live      *live.Watcher      // nil: GET .../events answers 503
	authn     auth.Authenticator // nil: event streams do not re-check their API key
	pages     *pages.Renderer    // nil: GET .../pages/{n} answers 503
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
// WithEvents the job event streams, WithPages the page images.
//
// Every route but /openapi.json needs a principal in the request context (auth.WithPrincipal,
// set by the server's authentication middleware) whose role includes the route's: without
// one the answer is 401 with WWW-Authenticate, with too weak a role 403, both before the
// request is decoded. A panicking handler is answered (when nothing was written yet) with
// the 500 envelope and logged with its stack; the stack never reaches the client.
func NewHandler(svc *jobs.Service, logger *slog.Logger, opts ...Option) http.Handler {
	if logger == nil {
		logger = slog.Default()
	}
	a := &api{svc: svc, log: logger}
	for _, o := range opts {
		o(a)
	}
	return newRouter(a, routes)
}

func newRouter(a *api, table []route) *router {
	rt := &router{api: a, mux: http.NewServeMux(), paths: http.NewServeMux(), methods: map[string][]string{}}
	for _, r := range table {
		handle, role := r.handle, r.role
		rt.mux.HandleFunc(r.method+" "+r.path, func(w http.ResponseWriter, req *http.Request) {
			if err := authorize(req, role); err != nil {
				writeError(w, req, a.log, err)
				return
			}
			handle(a, w, req)
		})
		if _, seen := rt.methods[r.path]; !seen {
			rt.paths.Handle(r.path, http.NotFoundHandler())
		}
		rt.methods[r.path] = append(rt.methods[r.path], r.method)
	}
	return rt
}

// authorize is auth.Require of role for r's principal; a public route needs none.
func authorize(r *http.Request, role auth.Role) error {
	if role == public {
		return nil
	}
	return auth.Require(r.Context(), role)
}

func (rt *router) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if _, pattern := rt.mux.Handler(r); pattern != "" {
		rw := &trackingWriter{ResponseWriter: w}
		defer rt.recoverPanic(rw, r)
		rt.mux.ServeHTTP(rw, r)
		return
	}
	if _, pattern := rt.paths.Handler(r); pattern != "" {
		allowed := slices.Clone(rt.methods[pattern])
		if slices.Contains(allowed, "GET") {
			allowed = append(allowed, "HEAD")
		}
		w.Header().Set("Allow", strings.Join(allowed, ", "))
		// METHOD_NOT_ALLOWED is the route table's, not an application error kind.
		send(w, rt.api.log, http.StatusMethodNotAllowed, apperr.Public{
			Code:    "METHOD_NOT_ALLOWED",
			Message: "method " + r.Method + " is not allowed on " + r.URL.Path + "; allowed: " + strings.Join(allowed, ", "),
		}.Envelope(reqid.From(r.Context())))
		return
	}
	writeError(w, r, rt.api.log, apperr.NotFound("no route "+r.Method+" "+r.URL.Path+"; see /openapi.json"))
}

// recoverPanic turns a handler's panic into a logged 500 "internal error" (when the handler
// had not started its answer yet; otherwise the answer is cut short). http.ErrAbortHandler is
// passed on: it is the handler's way to abort the response on purpose.
func (rt *router) recoverPanic(w *trackingWriter, r *http.Request) {
	v := recover()
	if v == nil {
		return
	}
	if err, ok := v.(error); ok && errors.Is(err, http.ErrAbortHandler) {
		panic(v)
	}
	rt.api.log.ErrorContext(r.Context(), "REST handler panicked",
		slog.String("method", r.Method), slog.String("path", r.URL.Path),
		slog.String("request_id", reqid.From(r.Context())),
		slog.Any("panic", v), slog.String("stack", string(debug.Stack())))
	if w.wrote {
		panic(http.ErrAbortHandler) // the client must not take a truncated answer for a whole one
	}
	send(w, rt.api.log, http.StatusInternalServerError,
		apperr.Public{Code: apperr.KindInternal, Message: apperr.MsgInternal}.Envelope(reqid.From(r.Context())))
}

// trackingWriter records whether the answer has started. It keeps http.ResponseController
// working (flushes and deadlines of the event stream and uploads) through Unwrap.
type trackingWriter struct {
	http.ResponseWriter
	wrote bool
}

func (w *trackingWriter) WriteHeader(status int) {
	w.wrote = true
	w.ResponseWriter.WriteHeader(status)
}

func (w *trackingWriter) Write(b []byte) (int, error) {
	w.wrote = true
	return w.ResponseWriter.Write(b)
}

func (w *trackingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
