package rest

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"

	"github.com/ocrinvoice/ocrinvoice/internal/apperr"
)

// okEnvelope is the success body of every REST response: {"success": true, "data": ...} and, on
// lists, "total" (the number of all matches, not of the page).
type okEnvelope struct {
	Success bool `json:"success"`
	Data    any  `json:"data"`
	Total   *int `json:"total,omitempty"`
}

// errorEnvelope is the failure body: {"success": false, "error": {code, message, details}}.
type errorEnvelope struct {
	Success bool      `json:"success"`
	Error   errorBody `json:"error"`
}

// errorBody carries the apperr kind as code ("INVALID", "NOT_FOUND", ...), a message that is safe
// to show, and details naming the offending fields (always an array, possibly empty).
type errorBody struct {
	Code    string          `json:"code"`
	Message string          `json:"message"`
	Details []apperr.Detail `json:"details"`
}

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

// writeError maps err to its HTTP status and error envelope. Internal errors (and anything that
// is not an *apperr.Error) reach the client as "internal error" and the log in full.
func writeError(w http.ResponseWriter, r *http.Request, logger *slog.Logger, err error) {
	status := apperr.HTTPStatus(err)
	kind := apperr.KindOf(err)
	body := errorBody{Code: string(kind), Message: "internal error", Details: []apperr.Detail{}}
	if e := apperr.As(err); e != nil && kind != apperr.KindInternal {
		body.Message = e.PublicMessage()
		if len(e.Details) > 0 {
			body.Details = e.Details
		}
	} else if kind == apperr.KindUnavailable {
		body.Message = "service unavailable, try again later"
	}
	if status >= 500 {
		logger.ErrorContext(r.Context(), "REST request failed",
			slog.String("method", r.Method), slog.String("path", r.URL.Path),
			slog.Int("status", status), slog.String("error", err.Error()))
	}
	writeJSON(w, logger, status, errorEnvelope{Success: false, Error: body})
}
