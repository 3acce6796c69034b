package ocr

import (
	"errors"
	"fmt"

	"github.com/ocrinvoice/ocrinvoice/internal/toolexec"
)

// ErrBadDocument marks a permanent problem with the document itself: retrying the same
// bytes can never succeed. Every more specific document error below wraps it, so
//
//	errors.Is(err, ocr.ErrBadDocument)
//
// is the one test a caller needs to tell "give up, tell the user" from a transient
// failure (timeout, cancelled context, a tool that could not start).
var ErrBadDocument = errors.New("bad document")

// Specific permanent document errors; each wraps ErrBadDocument.
var (
	// ErrEmpty: the file has no bytes, or the document has no pages.
	ErrEmpty = fmt.Errorf("%w: empty", ErrBadDocument)
	// ErrUnsupported: the bytes are not PDF, PNG, JPEG, TIFF or BMP (or an unsupported variant).
	ErrUnsupported = fmt.Errorf("%w: unsupported format", ErrBadDocument)
	// ErrCorrupt: the format was recognised but the content cannot be parsed (includes truncated files).
	ErrCorrupt = fmt.Errorf("%w: corrupt", ErrBadDocument)
	// ErrEncrypted: the PDF needs a password to open.
	ErrEncrypted = fmt.Errorf("%w: encrypted", ErrBadDocument)
	// ErrTooLarge: more pixels or pages than allowed (decompression bomb guard).
	ErrTooLarge = fmt.Errorf("%w: too large", ErrBadDocument)
	// ErrMemoryLimit: an external tool (pdftoppm, pdftotext, pdfinfo) ran out of memory
	// under Config.ToolMemoryLimit: the document needs more than is allowed (a page that
	// rasterises to a huge bitmap, a PDF built to exhaust memory). It wraps ErrTooLarge.
	ErrMemoryLimit = fmt.Errorf("%w: memory limit exceeded", ErrTooLarge)
	// ErrNoTextLayer: Mode "text" was asked for and no page has a usable text layer.
	ErrNoTextLayer = fmt.Errorf("%w: no usable text layer", ErrBadDocument)
)

// ErrInvalidOptions reports options that can never work (unknown mode, a language whose
// traineddata is not installed, negative limits). It is not a document error.
var ErrInvalidOptions = errors.New("invalid read options")

// ErrClosed is returned by Read after Close.
var ErrClosed = errors.New("ocr reader closed")

// ErrToolTimeout is returned when an external tool (pdftotext, pdftoppm, pdfinfo) ran
// past Options.Timeout. It is not marked permanent: the machine may simply be busy.
// It is toolexec.ErrTimeout, the error of the runner of every external tool.
var ErrToolTimeout = toolexec.ErrTimeout
