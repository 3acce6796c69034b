package rest

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/ocrinvoice/ocrinvoice/internal/apperr"
	"github.com/ocrinvoice/ocrinvoice/internal/httpjson"
	"github.com/ocrinvoice/ocrinvoice/internal/reqid"
)

// okEnvelope is the success body of every REST response: {"success": true, "data": ...} and, on
// lists, "total" (the number of all matches, not of the page).
type okEnvelope struct {
	Success bool `json:"success"`
	Data    any  `json:"data"`
	Total   *int `json:"total,omitempty"`
	// NextCursor, on lists that page by cursor, is the after of the next page (null on
	// the last page); lists without cursors leave it out.
	NextCursor *cursorField `json:"nextCursor,omitempty"`
}

// cursorField is the nextCursor of a page: a string, or null after the last page.
type cursorField struct{ next string }

// MarshalJSON writes the cursor, or null when there is none.
func (c cursorField) MarshalJSON() ([]byte, error) {
	if c.next == "" {
		return []byte("null"), nil
	}
	return json.Marshal(c.next)
}

// RealmHeader is the WWW-Authenticate challenge of every 401 answer.
const RealmHeader = `Bearer realm="ocrinvoice"`

// DefaultRetryAfter is the Retry-After (seconds) of a 429 answer whose writer did not set
// one: apperr.RetryAfterRateLimited.
const DefaultRetryAfter = "1"

// send answers status with the JSON body v (httpjson.Write). A body that cannot be
// encoded becomes the 500 INTERNAL envelope, its cause logged.
func send(w http.ResponseWriter, logger *slog.Logger, status int, v any) {
	err := httpjson.Write(w, status, v)
	if err == nil {
		return
	}
	logger.Error("Encode response", slog.String("error", err.Error()))
	_ = httpjson.Write(w, http.StatusInternalServerError, apperr.Public{Code: apperr.KindInternal, Message: apperr.MsgInternal}.Envelope(""))
}

func writeData(w http.ResponseWriter, logger *slog.Logger, status int, data any) {
	send(w, logger, status, okEnvelope{Success: true, Data: data})
}

func writeList(w http.ResponseWriter, logger *slog.Logger, data any, total int) {
	send(w, logger, http.StatusOK, okEnvelope{Success: true, Data: data, Total: &total})
}

// writeCursorList is writeList with nextCursor ("" = the last page: null).
func writeCursorList(w http.ResponseWriter, logger *slog.Logger, data any, total int, next string) {
	send(w, logger, http.StatusOK, okEnvelope{Success: true, Data: data, Total: &total, NextCursor: &cursorField{next: next}})
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

// writeError answers err: the status, code, message and details apperr.PublicOf chooses
// (a 5xx answer never shows a cause; the cause goes to the log in full). A 401 carries
// WWW-Authenticate, a 429 and a 503 Retry-After (apperr's figure unless the caller set
// one). Every REST error but 405 (route table) and a handler's panic is answered here.
func writeError(w http.ResponseWriter, r *http.Request, logger *slog.Logger, err error) {
	p := apperr.PublicOf(err)
	h := w.Header()
	if p.Status == http.StatusUnauthorized {
		h.Set("WWW-Authenticate", RealmHeader)
	}
	if p.RetryAfter > 0 && h.Get("Retry-After") == "" {
		h.Set("Retry-After", strconv.Itoa(p.RetryAfter))
	}
	env := p.Envelope(reqid.From(r.Context()))
	if p.Status >= http.StatusInternalServerError {
		logger.ErrorContext(r.Context(), "REST request failed",
			slog.String("method", r.Method), slog.String("path", r.URL.Path),
			slog.String("request_id", env.Error.RequestID),
			slog.Int("status", p.Status), slog.String("error", err.Error()))
	}
	send(w, logger, p.Status, env)
}
