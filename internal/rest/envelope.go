package rest

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/ocrinvoice/ocrinvoice/internal/apperr"
	"github.com/ocrinvoice/ocrinvoice/internal/reqid"
)

// okEnvelope is the success body of every REST response: {"success": true, "data": ...} and, on
// lists, "total" (the number of all matches, not of the page).
type okEnvelope struct {
	Success bool `json:"success"`
	Data    any  `json:"data"`
	Total   *int `json:"total,omitempty"`
}

// errorEnvelope is the failure body: {"success": false, "error": {code, message, details,
// requestId}}.
type errorEnvelope struct {
	Success bool      `json:"success"`
	Error   errorBody `json:"error"`
}

// errorBody carries the apperr kind as code ("INVALID", "NOT_FOUND", ...), a message that is safe
// to show, details naming the offending fields (always an array, possibly empty) and the
// request id (reqid.From; omitted when the request has none), which the server's log lines of
// the request carry too.
type errorBody struct {
	Code      string          `json:"code"`
	Message   string          `json:"message"`
	Details   []apperr.Detail `json:"details"`
	RequestID string          `json:"requestId,omitempty"`
}

// Fixed messages of the 5xx answers that do not carry an application message of their own.
const (
	msgInternal    = "internal error"
	msgUnavailable = "service unavailable, try again later"
)

// RealmHeader is the WWW-Authenticate challenge of every 401 answer.
const RealmHeader = `Bearer realm="ocrinvoice"`

// DefaultRetryAfter is the Retry-After (seconds) of a 429 answer whose writer did not set one.
const DefaultRetryAfter = "1"

// writeJSON encodes v with the given status. Encoding happens before the header is written so
// that an encoding failure can still become a 500.
func writeJSON(w http.ResponseWriter, logger *slog.Logger, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		logger.Error("Encode response", slog.String("error", err.Error()))
		buf.Reset()
		buf.WriteString(`{"success":false,"error":{"code":"INTERNAL","message":"internal error","details":[]}}` + "\n")
		status = http.StatusInternalServerError
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

func writeData(w http.ResponseWriter, logger *slog.Logger, status int, data any) {
	writeJSON(w, logger, status, okEnvelope{Success: true, Data: data})
}

func writeList(w http.ResponseWriter, logger *slog.Logger, data any, total int) {
	writeJSON(w, logger, http.StatusOK, okEnvelope{Success: true, Data: data, Total: &total})
}

// WriteError answers err with the REST error envelope, the way every REST route does: the
// status of its apperr kind, a message that is safe to show, the request id of r's context.
// The server's middleware may use it for the 401 and 429 answers it gives on /api/v1 paths,
// so that they match openapi.json. logger receives the causes of 5xx answers (nil:
// slog.Default()).
func WriteError(w http.ResponseWriter, r *http.Request, logger *slog.Logger, err error) {
	if logger == nil {
		logger = slog.Default()
	}
	writeError(w, r, logger, err)
}

// writeError maps err to its HTTP status and error envelope.
//
// What a client sees is chosen here, once: the message and details of an *apperr.Error of a
// client kind (4xx), which internal/jobs writes for clients. A 5xx answer never shows a cause:
// INTERNAL (and anything that is not an *apperr.Error) says "internal error", UNAVAILABLE the
// application's own short message or a fixed one, and neither has details, so no SQL, driver
// message or stack can reach a body; the cause goes to the log in full. A 401 carries
// WWW-Authenticate, a 429 Retry-After (DefaultRetryAfter unless the caller set one), a 503
// Retry-After (apperr.RetryAfterUnavailable unless the caller set one).
func writeError(w http.ResponseWriter, r *http.Request, logger *slog.Logger, err error) {
	status := apperr.HTTPStatus(err)
	kind := apperr.KindOf(err)
	body := errorBody{Code: string(kind), Message: msgInternal, Details: []apperr.Detail{}, RequestID: reqid.From(r.Context())}
	e := apperr.As(err)
	switch {
	case status < 500 && e != nil:
		body.Message = e.PublicMessage()
		if len(e.Details) > 0 {
			body.Details = e.Details
		}
	case kind == apperr.KindUnavailable && e != nil && e.Message != "":
		// Written by the application (e.g. "uploads are not available on this server"); the
		// cause (Err) stays in the log.
		body.Message = e.Message
	case kind == apperr.KindUnavailable:
		body.Message = msgUnavailable
	default:
		body.Code = string(apperr.KindInternal)
	}
	switch status {
	case http.StatusUnauthorized:
		w.Header().Set("WWW-Authenticate", RealmHeader)
	case http.StatusTooManyRequests:
		if w.Header().Get("Retry-After") == "" {
			w.Header().Set("Retry-After", DefaultRetryAfter)
		}
	case http.StatusServiceUnavailable:
		if w.Header().Get("Retry-After") == "" {
			w.Header().Set("Retry-After", strconv.Itoa(apperr.RetryAfterUnavailable))
		}
	}
	if status >= 500 {
		logger.ErrorContext(r.Context(), "REST request failed",
			slog.String("method", r.Method), slog.String("path", r.URL.Path),
			slog.String("request_id", body.RequestID),
			slog.Int("status", status), slog.String("error", err.Error()))
	}
	writeJSON(w, logger, status, errorEnvelope{Success: false, Error: body})
}
