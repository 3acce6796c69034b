package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"
)

// Exit codes of submit beyond 0 (completed, or created without --wait) and 1 (usage,
// connection or API errors).
const exitJobUnsuccessful = 2 // the job failed or was cancelled

// defaultServer is where submit finds the API unless --server or OCRINVOICE_SERVER says.
const defaultServer = "http://127.0.0.1:8080"

const submitUsage = `Usage: ocrinvoice submit [flags] FILE|URL

Submit an invoice document to a running ocrinvoice API. A local FILE is uploaded first
(POST /api/v1/uploads); an http(s) URL is fetched by the worker. The job is created through
the REST API. With --wait, submit follows the job's event stream
(GET /api/v1/ocr-invoice-jobs/{id}/events) until it ends, then prints the extracted data
(GET .../results) as JSON on stdout.

Progress goes to stderr: a progress bar redrawn in place when stderr is a terminal, one line
per event otherwise (one JSON object per event with --json). Without --wait, the created job
is printed (as JSON with --json).

Exit status: 0 when the job completed (or was created, without --wait); 2 when it failed or
was cancelled; 1 on usage, connection or API errors.

Flags (before or after FILE|URL):
`

// submitOptions are submit's flags.
type submitOptions struct {
	server, apiKey, template, priority, jobNumber, name string
	wait, json                                          bool
	timeout                                             time.Duration
}

// runSubmit uploads or names a document, creates its job and, with --wait, follows it to
// its end. It returns an exitCoder error asking for exit code 2 when the job failed or
// was cancelled.
func runSubmit(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var o submitOptions
	fs := flag.NewFlagSet("submit", flag.ContinueOnError)
	fs.SetOutput(stderr)
	server := getenv("OCRINVOICE_SERVER")
	if server == "" {
		server = defaultServer
	}
	fs.StringVar(&o.server, "server", server, "base URL of the API (env OCRINVOICE_SERVER)")
	fs.StringVar(&o.apiKey, "api-key", "", "API key sent as a bearer token (default: env OCRINVOICE_API_KEY, or the file named by OCRINVOICE_API_KEY_FILE)")
	fs.StringVar(&o.template, "template", "generic", "template id or name")
	fs.StringVar(&o.priority, "priority", "", "low, medium, high or urgent (default: the server's, medium)")
	fs.StringVar(&o.jobNumber, "job-number", "", "job number (default: made from the document name and the time)")
	fs.StringVar(&o.name, "name", "", "document name (default: the file or URL's base name)")
	fs.BoolVar(&o.wait, "wait", false, "follow the job until it ends and print its extracted data")
	fs.BoolVar(&o.json, "json", false, "machine-readable output: JSON lines for events, the created job as JSON")
	fs.DurationVar(&o.timeout, "timeout", 0, "with --wait, give up after this long (0: no limit)")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), submitUsage)
		fs.PrintDefaults()
	}
	// Flags may follow the document: parse again after each positional argument.
	var docs []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fs.SetOutput(stdout)
				fs.Usage()
				return nil
			}
			return fmt.Errorf("submit: %w", err)
		}
		if fs.NArg() == 0 {
			break
		}
		docs = append(docs, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(docs) != 1 {
		fs.Usage()
		return errors.New("submit: want exactly one FILE or URL")
	}
	base, err := url.Parse(strings.TrimRight(o.server, "/"))
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return fmt.Errorf("submit: --server %q is not an http(s) URL", o.server)
	}
	if o.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.timeout)
		defer cancel()
	}
	key, err := submitKey(o.apiKey, getenv)
	if err != nil {
		return err
	}
	c := &apiClient{base: base.String(), http: newSubmitHTTPClient(key)}

	docURL, name, err := c.documentOf(ctx, docs[0], o.name)
	if err != nil {
		return err
	}
	number := o.jobNumber
	if number == "" {
		number = newJobNumber(name, time.Now())
	}
	job, err := c.createJob(ctx, number, name, docURL, o.template, o.priority)
	if err != nil {
		return err
	}
	if !o.wait {
		if o.json {
			return writeIndented(stdout, job.raw)
		}
		fmt.Fprintf(stdout, "Created job %s (%s), %s\n", job.ID, job.JobNumber, job.Status)
		return nil
	}
	fmt.Fprintf(stderr, "Job %s (%s) created; waiting for it\n", job.ID, job.JobNumber)
	last, err := c.follow(ctx, job.ID, newProgressView(stderr, o.json))
	if err != nil {
		return err
	}
	if last.Status != "completed" {
		reason := last.Message
		if reason == "" {
			reason = "no reason given"
		}
		return submitExit{code: exitJobUnsuccessful, err: fmt.Errorf("job %s %s: %s", job.ID, last.Status, reason)}
	}
	res, err := c.get(ctx, "/api/v1/ocr-invoice-jobs/"+job.ID+"/results")
	if err != nil {
		return err
	}
	return writeIndented(stdout, res)
}

// submitExit is an error with an exit code.
type submitExit struct {
	code int
	err  error
}

func (e submitExit) Error() string { return e.err.Error() }
func (e submitExit) Unwrap() error { return e.err }
func (e submitExit) ExitCode() int { return e.code }

// newSubmitHTTPClient has connection timeouts but no overall one: an event stream lasts
// as long as its job. A non-empty key is sent as a bearer token on every request.
func newSubmitHTTPClient(key string) *http.Client {
	var rt http.RoundTripper = &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second}).DialContext,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: 2 * time.Minute, // an upload is answered once it is stored
	}
	if key != "" {
		rt = bearer{key: key, next: rt}
	}
	return &http.Client{Transport: rt}
}

// bearer adds Authorization: Bearer key to every request.
type bearer struct {
	key  string
	next http.RoundTripper
}

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.key)
	return b.next.RoundTrip(r)
}

// submitKey is the API key of submit: --api-key, else OCRINVOICE_API_KEY, else the
// contents of the file OCRINVOICE_API_KEY_FILE; "" when none (a server with
// OCRINVOICE_AUTH=none).
func submitKey(flagKey string, getenv func(string) string) (string, error) {
	if flagKey != "" {
		return strings.TrimSpace(flagKey), nil
	}
	if k := strings.TrimSpace(getenv("OCRINVOICE_API_KEY")); k != "" {
		return k, nil
	}
	if f := strings.TrimSpace(getenv("OCRINVOICE_API_KEY_FILE")); f != "" {
		b, err := os.ReadFile(f)
		if err != nil {
			return "", fmt.Errorf("submit: OCRINVOICE_API_KEY_FILE: %w", err)
		}
		return strings.TrimSpace(string(b)), nil
	}
	return "", nil
}

// newJobNumber makes a job number from the document name and t: the name without its
// extension, the UTC time and a few random characters, e.g.
// invoice-20240611T101530Z-3f9a1c.
func newJobNumber(name string, t time.Time) string {
	stem := strings.TrimSuffix(name, path.Ext(name))
	stem = strings.Map(func(r rune) rune {
		if r == ' ' || r < 0x20 {
			return '-'
		}
		return r
	}, stem)
	if len(stem) > 80 {
		stem = strings.ToValidUTF8(stem[:80], "")
	}
	if stem == "" {
		stem = "document"
	}
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return stem + "-" + t.UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b)
}

// apiClient talks to the REST API.
type apiClient struct {
	base string
	http *http.Client
}

// apiError is an error answer of the API.
type apiError struct {
	Status  int
	Code    string
	Message string
}

func (e *apiError) Error() string {
	if e.Code == "" {
		return fmt.Sprintf("HTTP %d", e.Status)
	}
	return fmt.Sprintf("%s (HTTP %d): %s", e.Code, e.Status, e.Message)
}

// do sends req and returns the data of a successful envelope, or an *apiError.
func (c *apiClient) do(req *http.Request) (json.RawMessage, error) {
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("%s %s: read answer: %w", req.Method, req.URL.Path, err)
	}
	var env struct {
		Success bool            `json:"success"`
		Data    json.RawMessage `json:"data"`
		Error   struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if jerr := json.Unmarshal(b, &env); jerr != nil || resp.StatusCode >= 300 || !env.Success {
		return nil, fmt.Errorf("%s %s: %w", req.Method, req.URL.Path,
			&apiError{Status: resp.StatusCode, Code: env.Error.Code, Message: env.Error.Message})
	}
	return env.Data, nil
}

func (c *apiClient) get(ctx context.Context, p string) (json.RawMessage, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+p, nil)
	if err != nil {
		return nil, err
	}
	return c.do(req)
}

func (c *apiClient) postJSON(ctx context.Context, p string, body any) (json.RawMessage, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+p, bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	return c.do(req)
}

// documentOf returns the document URL and name of arg: an http(s) URL as given, a local
// file after uploading it.
func (c *apiClient) documentOf(ctx context.Context, arg, name string) (docURL, docName string, err error) {
	if u, perr := url.Parse(arg); perr == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" {
		if name == "" {
			name = path.Base(u.Path)
		}
		if name == "" || name == "/" || name == "." {
			name = "document"
		}
		return arg, name, nil
	}
	f, err := os.Open(arg)
	if err != nil {
		return "", "", fmt.Errorf("submit: %w", err)
	}
	defer f.Close()
	if name == "" {
		name = filepath.Base(arg)
	}
	up, err := c.upload(ctx, f, name)
	if err != nil {
		return "", "", err
	}
	return up.DocumentURL, up.DocumentName, nil
}

type uploaded struct {
	DocumentURL  string `json:"documentUrl"`
	DocumentName string `json:"documentName"`
}

// upload streams f as the multipart field "file" to POST /api/v1/uploads.
func (c *apiClient) upload(ctx context.Context, f io.Reader, name string) (uploaded, error) {
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		fw, err := mw.CreateFormFile("file", name)
		if err == nil {
			_, err = io.Copy(fw, f)
		}
		if err == nil {
			err = mw.Close()
		}
		pw.CloseWithError(err)
	}()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/api/v1/uploads", pr)
	if err != nil {
		_ = pr.Close()
		return uploaded{}, err
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	data, err := c.do(req)
	_ = pr.Close() // ends the writer goroutine when the server answered early
	if err != nil {
		return uploaded{}, fmt.Errorf("upload %s: %w", name, err)
	}
	var up uploaded
	if err := json.Unmarshal(data, &up); err != nil {
		return uploaded{}, fmt.Errorf("upload %s: decode answer: %w", name, err)
	}
	return up, nil
}

// createdJob is what submit needs of a created job, and the job as the API sent it.
type createdJob struct {
	ID        string `json:"_id"`
	JobNumber string `json:"jobNumber"`
	Status    string `json:"status"`
	raw       json.RawMessage
}

func (c *apiClient) createJob(ctx context.Context, number, name, docURL, template, priority string) (createdJob, error) {
	body := map[string]any{"jobNumber": number, "documentName": name, "documentUrl": docURL, "template": template}
	if priority != "" {
		body["priority"] = priority
	}
	data, err := c.postJSON(ctx, "/api/v1/ocr-invoice-jobs", body)
	if err != nil {
		return createdJob{}, fmt.Errorf("create job: %w", err)
	}
	var j createdJob
	if err := json.Unmarshal(data, &j); err != nil {
		return createdJob{}, fmt.Errorf("create job: decode answer: %w", err)
	}
	j.raw = data
	return j, nil
}

// jobEvent is one event of the REST event stream.
type jobEvent struct {
	JobID    string `json:"jobId"`
	Status   string `json:"status"`
	Progress struct {
		Percentage  int    `json:"percentage"`
		CurrentStep string `json:"currentStep"`
		TotalSteps  int    `json:"totalSteps"`
	} `json:"progress"`
	Message string    `json:"message"`
	At      time.Time `json:"at"`
	raw     []byte
}

func (e jobEvent) terminal() bool {
	return e.Status == "completed" || e.Status == "failed" || e.Status == "cancelled"
}

// follow reads the job's event stream until a terminal event and returns that event. A
// stream that breaks off before (the server restarted, the network hiccuped) is opened
// again a few times: its first event is the job's current state, so nothing is missed
// but intermediate progress.
func (c *apiClient) follow(ctx context.Context, id string, view *progressView) (jobEvent, error) {
	const attempts = 5
	var lastErr error
	for attempt := 0; attempt < attempts; attempt++ {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return jobEvent{}, fmt.Errorf("follow job %s: %w", id, ctx.Err())
			case <-time.After(time.Duration(attempt) * time.Second):
			}
		}
		ev, done, err := c.stream(ctx, id, view)
		if done {
			view.finish()
			return ev, nil
		}
		var ae *apiError
		if errors.As(err, &ae) || ctx.Err() != nil {
			view.finish()
			return jobEvent{}, err // the API refused (unknown job...) or we were told to stop
		}
		lastErr = err
	}
	view.finish()
	return jobEvent{}, fmt.Errorf("follow job %s: gave up after %d attempts: %w", id, attempts, lastErr)
}

// stream reads one connection of the event stream; done is true when it ended with a
// terminal event, which it returns.
func (c *apiClient) stream(ctx context.Context, id string, view *progressView) (last jobEvent, done bool, err error) {
	p := "/api/v1/ocr-invoice-jobs/" + url.PathEscape(id) + "/events"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+p, nil)
	if err != nil {
		return jobEvent{}, false, err
	}
	req.Header.Set("Accept", "text/event-stream")
	resp, err := c.http.Do(req)
	if err != nil {
		return jobEvent{}, false, fmt.Errorf("GET %s: %w", p, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		// An error answer is the JSON envelope: let do's decoding name it.
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		var env struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		_ = json.Unmarshal(b, &env)
		return jobEvent{}, false, fmt.Errorf("GET %s: %w", p, &apiError{Status: resp.StatusCode, Code: env.Error.Code, Message: env.Error.Message})
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	var data []byte
	for sc.Scan() {
		line := sc.Bytes()
		switch {
		case len(line) == 0: // end of an event
			if data == nil {
				continue
			}
			var ev jobEvent
			if err := json.Unmarshal(data, &ev); err != nil {
				return jobEvent{}, false, fmt.Errorf("GET %s: bad event %q: %w", p, data, err)
			}
			ev.raw, data = data, nil
			view.show(ev)
			if ev.terminal() {
				return ev, true, nil
			}
		case bytes.HasPrefix(line, []byte("data:")):
			d := bytes.TrimPrefix(bytes.TrimPrefix(line, []byte("data:")), []byte(" "))
			if data != nil {
				data = append(data, '\n')
			}
			data = append(data, d...)
		}
		// "id:", "event:" and ": comment" lines need nothing.
	}
	if err := sc.Err(); err != nil {
		return jobEvent{}, false, fmt.Errorf("GET %s: %w", p, err)
	}
	return jobEvent{}, false, fmt.Errorf("GET %s: the stream ended before the job did", p)
}

// progressView shows events: a bar redrawn in place on a terminal, else one line each.
type progressView struct {
	w     io.Writer
	tty   bool
	json  bool
	drawn bool // a bar is on the current line
}

func newProgressView(w io.Writer, asJSON bool) *progressView {
	return &progressView{w: w, tty: isTerminal(w) && !asJSON, json: asJSON}
}

// isTerminal tells whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

const barWidth = 30

func (v *progressView) show(ev jobEvent) {
	pct := min(max(ev.Progress.Percentage, 0), 100)
	label := ev.Progress.CurrentStep
	if ev.Message != "" {
		label = ev.Message
	}
	switch {
	case v.json:
		fmt.Fprintf(v.w, "%s\n", ev.raw)
	case v.tty:
		filled := pct * barWidth / 100
		bar := strings.Repeat("#", filled) + strings.Repeat("-", barWidth-filled)
		if len(label) > 40 {
			label = label[:37] + "..."
		}
		// \r returns to the line start; \033[K clears what a longer label left behind.
		fmt.Fprintf(v.w, "\r[%s] %3d%% %-10s %s\033[K", bar, pct, ev.Status, label)
		v.drawn = true
	default:
		fmt.Fprintf(v.w, "%s %-10s %3d%%  %s\n", ev.At.Local().Format("15:04:05"), ev.Status, pct, label)
	}
}

// finish ends a bar's line.
func (v *progressView) finish() {
	if v.drawn {
		fmt.Fprintln(v.w)
		v.drawn = false
	}
}

// writeIndented writes JSON indented, with a final newline.
func writeIndented(w io.Writer, raw json.RawMessage) error {
	var buf bytes.Buffer
	if err := json.Indent(&buf, raw, "", "  "); err != nil {
		return fmt.Errorf("format answer: %w", err)
	}
	buf.WriteByte('\n')
	_, err := w.Write(buf.Bytes())
	return err
}
