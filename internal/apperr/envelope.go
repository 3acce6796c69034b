package apperr

// Envelope is the REST API's error body, {"success": false, "error": {code, message,
// details, requestId}}, as openapi.json declares it. internal/rest answers its routes'
// errors with it and internal/server its own refusals under /api/v1/, so the two cannot
// drift apart.
type Envelope struct {
	Success bool          `json:"success"` // always false
	Error   EnvelopeError `json:"error"`
}

// EnvelopeError carries the apperr kind as code ("INVALID", "NOT_FOUND", ...), a message
// that is safe to show, details naming the offending fields (always an array, possibly
// empty) and the request id (omitted when the request has none), which the server's log
// lines of the request carry too.
type EnvelopeError struct {
	Code      string   `json:"code"`
	Message   string   `json:"message"`
	Details   []Detail `json:"details"`
	RequestID string   `json:"requestId,omitempty"`
}

// Envelope is the REST error body of p for the request whose id is requestID ("": none).
// Its details are never null, even when p's are nil.
func (p Public) Envelope(requestID string) Envelope {
	details := p.Details
	if details == nil {
		details = []Detail{}
	}
	return Envelope{Error: EnvelopeError{Code: string(p.Code), Message: p.Message, Details: details, RequestID: requestID}}
}
