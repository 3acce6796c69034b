package rest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/ocrinvoice/ocrinvoice/internal/apperr"
)

// maxBodyBytes is the largest request body accepted (413 above it).
const maxBodyBytes = 1 << 20

// readObject reads the JSON object body of a POST or PUT. The content type must be
// application/json (or a +json type): 415 otherwise. Over maxBodyBytes: 413. Empty, malformed,
// or not an object: 400.
func readObject(w http.ResponseWriter, r *http.Request) (map[string]json.RawMessage, error) {
	return readObjectMax(w, r, maxBodyBytes)
}

// readObjectMax is readObject with another body limit.
func readObjectMax(w http.ResponseWriter, r *http.Request, limit int64) (map[string]json.RawMessage, error) {
	obj, _, err := readObjectBytes(w, r, limit)
	return obj, err
}

// readObjectBytes is readObjectMax that also returns the body's bytes, trimmed of space.
func readObjectBytes(w http.ResponseWriter, r *http.Request, limit int64) (map[string]json.RawMessage, []byte, error) {
	ct := r.Header.Get("Content-Type")
	mt, _, err := mime.ParseMediaType(ct)
	if ct == "" || err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
		if ct == "" {
			ct = "none"
		}
		return nil, nil, apperr.UnsupportedMediaType(fmt.Sprintf("the body must be JSON: send Content-Type: application/json (got %s)", ct))
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, nil, apperr.TooLarge(fmt.Sprintf("the request body is over the limit of %d bytes", limit))
		}
		return nil, nil, apperr.Invalid(fmt.Sprintf("read the request body: %v", err))
	}
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return nil, nil, apperr.Invalid("the request body is empty: send a JSON object")
	}
	if !utf8.Valid(data) {
		// encoding/json would quietly turn the bytes into U+FFFD and store that.
		bad := len(data)
		for i := 0; i < len(data); {
			r, n := utf8.DecodeRune(data[i:])
			if r == utf8.RuneError && n <= 1 {
				bad = i
				break
			}
			i += n
		}
		return nil, nil, apperr.Invalid(fmt.Sprintf("the request body is not valid UTF-8 (first bad byte at offset %d)", bad))
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(data, &obj); err != nil {
		var syn *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.As(err, &syn):
			return nil, nil, apperr.Invalid(fmt.Sprintf("malformed JSON at byte %d: %v", syn.Offset, syn))
		case errors.As(err, &typ):
			return nil, nil, apperr.Invalid(fmt.Sprintf("the request body must be a JSON object, got %s", typ.Value))
		default:
			return nil, nil, apperr.Invalid(fmt.Sprintf("malformed JSON: %v", err))
		}
	}
	if obj == nil {
		return nil, nil, apperr.Invalid("the request body must be a JSON object, got null")
	}
	return obj, data, nil
}

// bodySchema says which fields a request body may carry: writable fields are decoded, read-only
// fields (those of the response, sent back by clients that GET, modify and PUT) are ignored, and
// any other field is a 400 naming it.
type bodySchema struct {
	writable []string
	readOnly []string
}

// bodyDecoder collects the problems of one body so that a client learns all of them at once.
type bodyDecoder struct {
	obj     map[string]json.RawMessage
	details []apperr.Detail
}

func (s bodySchema) decoder(obj map[string]json.RawMessage) *bodyDecoder {
	d := &bodyDecoder{obj: obj}
	var unknown []string
	for k := range obj {
		if !contains(s.writable, k) && !contains(s.readOnly, k) {
			unknown = append(unknown, k)
		}
	}
	sort.Strings(unknown)
	for _, k := range unknown {
		d.details = append(d.details, apperr.Detail{Field: k, Message: "unknown field (writable fields: " + strings.Join(s.writable, ", ") + ")"})
	}
	return d
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// field decodes the named field into dst when it is present and not null, and reports whether
// it was. want describes the expected JSON type for the message ("a string", ...). Nested
// objects are decoded strictly: an unknown nested field is an error naming its path.
func (d *bodyDecoder) field(name string, dst any, want string) bool {
	raw, ok := d.obj[name]
	if !ok || string(raw) == "null" {
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		var typ *json.UnmarshalTypeError
		switch {
		case errors.As(err, &typ) && typ.Field != "":
			d.details = append(d.details, apperr.Detail{Field: name + "." + typ.Field, Message: fmt.Sprintf("must be %s, got %s", jsonKind(typ.Type.Kind().String()), typ.Value)})
		case errors.As(err, &typ):
			d.details = append(d.details, apperr.Detail{Field: name, Message: fmt.Sprintf("must be %s, got %s", want, typ.Value)})
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			d.details = append(d.details, apperr.Detail{Field: name + "." + strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`), Message: "unknown field"})
		default:
			d.details = append(d.details, apperr.Detail{Field: name, Message: fmt.Sprintf("must be %s: %v", want, err)})
		}
		return false
	}
	return true
}

// jsonKind names a Go kind in JSON terms, for messages about nested fields.
func jsonKind(kind string) string {
	switch kind {
	case "string":
		return "a string"
	case "bool":
		return "a boolean"
	case "slice", "array":
		return "an array"
	case "map", "struct":
		return "an object"
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64":
		return "an integer"
	case "float32", "float64":
		return "a number"
	}
	return "a " + kind
}

// err returns the collected problems as one apperr.Invalid, or nil.
func (d *bodyDecoder) err() error {
	if len(d.details) == 0 {
		return nil
	}
	msgs := make([]string, len(d.details))
	for i, det := range d.details {
		msgs[i] = det.Field + ": " + det.Message
	}
	return apperr.Invalid("invalid request body: "+strings.Join(msgs, "; "), d.details...)
}
