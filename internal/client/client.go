// Package client is a small Go client of the ocrinvoice REST API: create a job, upload
// a document, get and list jobs, read a job's results, follow its event stream and wait
// for it to end. `ocrinvoice submit` is built on it.
//
//	c, err := client.New("http://127.0.0.1:8080", apiKey)
//	up, err := c.Upload(ctx, file, "invoice.pdf")
//	job, err := c.CreateJob(ctx, client.JobInput{JobNumber: "INV-1", DocumentName: up.DocumentName, DocumentURL: up.DocumentURL})
//	job, err = c.Wait(ctx, job.ID)
//	res, err := c.Results(ctx, job.ID)
//
// Results are typed with the shapes the server encodes (contract.Job for jobs,
// invoice.Results for results, progress.Event for events), each with the JSON the
// server sent (Raw). An answer of the API that is an error is an *Error carrying the
// server's error body: its HTTP status, code, message, details and request id.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/ocrinvoice/ocrinvoice/internal/apperr"
)

// maxAnswerBytes bounds the body of an answer that is read whole.
const maxAnswerBytes = 64 << 20

// Client talks to one ocrinvoice API. It is safe for concurrent use.
type Client struct {
	base string // scheme://host[:port][/prefix], without a trailing slash
	key  string // API key sent as a bearer token; "" sends none
	http *http.Client
}

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient makes the Client send its requests with hc. The default has connection
// timeouts but no overall one (an event stream lasts as long as its job): a client given
// here should not have one either when Follow or Wait are used.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) { c.http = hc }
}

// New returns a client of the API at baseURL (http or https, e.g.
// "http://127.0.0.1:8080"). A non-empty apiKey is sent as a bearer token with every
// request; "" suits a server with OCRINVOICE_AUTH=none. Errors: baseURL is not an
// http(s) URL with a host.
func New(baseURL, apiKey string, opts ...Option) (*Client, error) {
	base, err := url.Parse(strings.TrimRight(baseURL, "/"))
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, fmt.Errorf("new client: %q is not an http(s) URL", baseURL)
	}
	c := &Client{base: base.String(), key: strings.TrimSpace(apiKey), http: defaultHTTPClient()}
	for _, o := range opts {
		o(c)
	}
	return c, nil
}

// defaultHTTPClient has connection timeouts but no overall one: an event stream lasts as
// long as its job.
func defaultHTTPClient() *http.Client {
	return &http.Client{Transport: &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second}).DialContext,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: 2 * time.Minute, // an upload is answered once it is stored
	}}
}

// Detail names one offending field of an error answer.
type Detail = apperr.Detail

// Error is an error answer of the API: the request, the HTTP status and the error body
// of the REST envelope ({"success": false, "error": {...}}). Code is the kind of the
// error ("INVALID", "NOT_FOUND", "UNAUTHENTICATED", "RATE_LIMITED", ...), empty when the
// answer had no such body (a proxy's error page). An error event that ends an event
// stream has Status 0.
type Error struct {
	Method, Path string
	Status       int
	Code         string
	Message      string
	Details      []Detail
	RequestID    string
	// RetryAfter is the Retry-After of a 429 or 503 answer, 0 when absent.
	RetryAfter time.Duration
}

func (e *Error) Error() string {
	var what string
	switch {
	case e.Code == "":
		what = fmt.Sprintf("HTTP %d", e.Status)
	case e.Status == 0:
		what = e.Code + ": " + e.Message
	default:
		what = fmt.Sprintf("%s (HTTP %d): %s", e.Code, e.Status, e.Message)
	}
	return e.Method + " " + e.Path + ": " + what
}

// IsCode reports whether err is (or wraps) an *Error of the given code.
func IsCode(err error, code string) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == code
}

// errorBody is the error member of the REST envelope.
type errorBody struct {
	Code      string   `json:"code"`
	Message   string   `json:"message"`
	Details   []Detail `json:"details"`
	RequestID string   `json:"requestId"`
}

// envelope is a REST answer: {"success", "data", "total"} or {"success": false, "error"}.
type envelope struct {
	Success bool            `json:"success"`
	Data    json.RawMessage `json:"data"`
	Total   *int            `json:"total"`
	Error   errorBody       `json:"error"`
}

// newRequest builds a request to the API path p (with its query) with the API key.
func (c *Client) newRequest(ctx context.Context, method, p string, body io.Reader) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.base+p, body)
	if err != nil {
		return nil, err
	}
	if c.key != "" {
		req.Header.Set("Authorization", "Bearer "+c.key)
	}
	return req, nil
}

// do sends req and returns the envelope of a successful answer, or an *Error.
func (c *Client) do(req *http.Request) (envelope, error) {
	resp, err := c.http.Do(req)
	if err != nil {
		return envelope{}, fmt.Errorf("%s %s: %w", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswerBytes))
	if err != nil {
		return envelope{}, fmt.Errorf("%s %s: read answer: %w", req.Method, req.URL.Path, err)
	}
	var env envelope
	if jerr := json.Unmarshal(b, &env); jerr != nil || resp.StatusCode >= 300 || !env.Success {
		return envelope{}, newError(req, resp, env.Error)
	}
	return env, nil
}

// newError is the *Error of an error answer with the error body eb.
func newError(req *http.Request, resp *http.Response, eb errorBody) *Error {
	e := &Error{Method: req.Method, Path: req.URL.Path, Status: resp.StatusCode,
		Code: eb.Code, Message: eb.Message, Details: eb.Details, RequestID: eb.RequestID}
	if s := resp.Header.Get("Retry-After"); s != "" {
		var secs int
		if _, err := fmt.Sscan(s, &secs); err == nil && secs > 0 {
			e.RetryAfter = time.Duration(secs) * time.Second
		}
	}
	return e
}

// get sends GET p and returns the envelope of its answer.
func (c *Client) get(ctx context.Context, p string) (envelope, error) {
	req, err := c.newRequest(ctx, http.MethodGet, p, nil)
	if err != nil {
		return envelope{}, err
	}
	return c.do(req)
}

// postJSON sends POST p with body encoded as JSON.
func (c *Client) postJSON(ctx context.Context, p string, body any) (envelope, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return envelope{}, err
	}
	req, err := c.newRequest(ctx, http.MethodPost, p, bytes.NewReader(b))
	if err != nil {
		return envelope{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	return c.do(req)
}
