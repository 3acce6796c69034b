package rest

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"time"

	"github.com/ocrinvoice/ocrinvoice/internal/apperr"
	"github.com/ocrinvoice/ocrinvoice/internal/uploads"
)

// Option configures the REST handler.
type Option func(*api)

// WithUploads enables POST /api/v1/uploads over store, accepting documents of at most
// maxBytes (<= 0: uploads.DefaultMaxBytes). Without it the route answers 503.
func WithUploads(store *uploads.Store, maxBytes int64) Option {
	return func(a *api) {
		if maxBytes <= 0 {
			maxBytes = uploads.DefaultMaxBytes
		}
		a.uploads, a.uploadMax = store, maxBytes
	}
}

// uploadFramingBytes is the room allowed around the file in a multipart body: boundaries,
// part headers and small fields sent along. The file itself is limited to uploadMax.
const uploadFramingBytes = 1 << 20

// uploadDTO is the answer to an upload: what a job needs to name the document.
type uploadDTO struct {
	DocumentURL  string `json:"documentUrl"`
	SHA256       string `json:"sha256"`
	Size         int64  `json:"size"`
	DocumentName string `json:"documentName"`
	DocumentType string `json:"documentType"`
}

// uploadDocument stores the multipart field "file" (the first one; other fields are
// ignored) for the caller's owner and answers 201 with its upload URL. Not multipart:
// 415. No "file" field or an empty one: 400. Over the limit: 413 TOO_LARGE. Over the
// owner's upload quota: 413 QUOTA_EXCEEDED. Not a PDF, PNG, JPEG, TIFF or BMP: 415. A
// refused upload stores nothing.
func (a *api) uploadDocument(w http.ResponseWriter, r *http.Request) error {
	if a.uploads == nil {
		return apperr.Unavailable("uploads are not available on this server", nil)
	}
	d, err := a.receiveUpload(w, r)
	if err != nil {
		return err
	}
	writeData(w, a.log, http.StatusCreated, d)
	return nil
}

func (a *api) receiveUpload(w http.ResponseWriter, r *http.Request) (uploadDTO, error) {
	ct := r.Header.Get("Content-Type")
	mt, params, err := mime.ParseMediaType(ct)
	if ct == "" || err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		if ct == "" {
			ct = "none"
		} else if mt == "multipart/form-data" {
			ct += " without a boundary"
		}
		return uploadDTO{}, apperr.UnsupportedMediaType(fmt.Sprintf(
			"the body must be multipart/form-data with the document in the field \"file\" (got Content-Type %s); e.g. curl -F file=@invoice.pdf", ct))
	}
	limit := a.uploadMax + uploadFramingBytes
	if r.ContentLength > limit {
		return uploadDTO{}, a.uploadTooLarge()
	}
	// Lift the server's read and write timeouts for this request only, so that a large
	// document on a slow link is not cut off (not every ResponseWriter supports it).
	rc := http.NewResponseController(w)
	deadline := time.Now().Add(uploads.TransferTime)
	_ = rc.SetReadDeadline(deadline)
	_ = rc.SetWriteDeadline(deadline)
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	mr, err := r.MultipartReader()
	if err != nil {
		return uploadDTO{}, apperr.Invalid(fmt.Sprintf("read the multipart body: %v", err))
	}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return uploadDTO{}, apperr.InvalidField("file", "is required: send the document as the multipart file field \"file\"")
		}
		if err != nil {
			var tooLarge *http.MaxBytesError
			if errors.As(err, &tooLarge) {
				return uploadDTO{}, a.uploadTooLarge()
			}
			return uploadDTO{}, apperr.Invalid(fmt.Sprintf("malformed multipart body: %v", err))
		}
		if part.FormName() != "file" {
			continue // NextPart skips what is left of this part
		}
		u, err := a.svc.StoreUpload(r.Context(), a.uploads, part, a.uploadMax)
		if err != nil {
			return uploadDTO{}, a.uploadError(err)
		}
		return uploadDTO{
			DocumentURL:  u.URL,
			SHA256:       u.SHA256,
			Size:         u.Size,
			DocumentName: uploads.DocumentName(part.FileName(), u.DocumentType),
			DocumentType: u.DocumentType,
		}, nil
	}
}

// uploadError maps a failure of the store: its client errors (empty, unsupported, too
// large) name the field "file"; a body over the request limit is 413; a body that broke
// off or is malformed is 400; anything else is internal.
func (a *api) uploadError(err error) error {
	var tooLarge *http.MaxBytesError
	switch e := apperr.As(err); {
	case errors.As(err, &tooLarge), errors.Is(err, uploads.ErrTooLarge):
		return a.uploadTooLarge()
	case e != nil && e.Kind != apperr.KindInternal:
		return &apperr.Error{Kind: e.Kind, Message: e.Message, Details: []apperr.Detail{{Field: "file", Message: e.Message}}, Err: e.Err}
	case errors.Is(err, uploads.ErrRead):
		return &apperr.Error{Kind: apperr.KindInvalid, Message: "could not read the file field of the multipart body: " + err.Error(),
			Details: []apperr.Detail{{Field: "file", Message: "could not be read"}}, Err: err}
	}
	return err
}

func (a *api) uploadTooLarge() error {
	e := apperr.As(uploads.TooLargeError(a.uploadMax))
	e.Details = []apperr.Detail{{Field: "file", Message: fmt.Sprintf("must be at most %d bytes", a.uploadMax)}}
	return e
}
