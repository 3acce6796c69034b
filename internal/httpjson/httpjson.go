// Package httpjson writes JSON answers the one way ocrinvoice's HTTP surfaces do: the REST
// API (internal/rest), the server's own refusals and probes (internal/server). It is a
// leaf: it imports the standard library only.
package httpjson

import (
	"bytes"
	"encoding/json"
	"net/http"
)

// ContentType is the Content-Type of every JSON answer.
const ContentType = "application/json; charset=utf-8"

// Encode returns v as one line of JSON (with its newline), without escaping <, > and &
// (the answers are not HTML).
func Encode(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Write answers status with v as its JSON body, Content-Type ContentType,
// X-Content-Type-Options nosniff and Cache-Control no-store. v is encoded before anything
// is written, so that on an encoding error (returned) the answer has not started and the
// caller can still give another one.
func Write(w http.ResponseWriter, status int, v any) error {
	body, err := Encode(v)
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", ContentType)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(body)
	return nil
}
