package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	apiclient "github.com/ocrinvoice/ocrinvoice/internal/client"
)

// Exit codes of submit beyond 0 (completed, or created without --wait), 1 (connection
// or API errors) and 2 (usage errors, as every command).
const exitJobUnsuccessful = 3 // the job failed or was cancelled

// defaultServer is where submit finds the API unless --server or OCRINVOICE_SERVER says.
const defaultServer = "http://127.0.0.1:8080"

const submitUsage = `Usage: ocrinvoice submit [flags] FILE|URL

Submit an invoice document to a running ocrinvoice API. A local FILE is uploaded first
(POST /api/v1/uploads); an http(s) URL is fetched by the worker. The job is created through
the REST API. With --wait, submit follows the job's event stream
(GET /api/v1/ocr-invoice-jobs/{id}/events) until it ends, then prints the extracted data
(GET .../results) as JSON on stdout.

Progress goes to stderr: a progress bar redrawn in place when stderr is a terminal, one line
per event otherwise. With --json every line on stderr is a JSON object: the created job
({"jobId", "jobNumber", "status", "message"}), each event, and an error as {"error",
"exitCode"}. Without --wait, the created job is printed (as JSON with --json).

Exit status: 0 when the job completed (or was created, without --wait); 3 when it failed or
was cancelled; 2 on usage errors; 1 on connection or API errors.

Flags may come before or after FILE|URL.
`

// submitOptions are submit's flags and its one document.
type submitOptions struct {
	server, apiKey, template, priority, jobNumber, name string
	wait, json                                          bool
	timeout                                             time.Duration
	doc                                                 string // FILE or URL
}

// submitCommand uploads or names a document, creates its job and, with --wait, follows
// it to its end.
func submitCommand() *command {
	return &command{
		name: "submit", summary: "submit a document to a running API and optionally follow the job",
		usage: submitUsage, files: true,
		setup: func(fs *flag.FlagSet, e *cmdEnv) runFunc {
			o := submitFlags(fs, e.getenv)
			return func(ctx context.Context, args []string) error {
				err := runSubmit(ctx, o, args, e)
				if err != nil && o.json {
					return reportJSON(e.stderr, err)
				}
				return err
			}
		},
	}
}

// submitFlags defines submit's flags on fs.
func submitFlags(fs *flag.FlagSet, getenv func(string) string) *submitOptions {
	o := &submitOptions{}
	server := getenv("OCRINVOICE_SERVER")
	if server == "" {
		server = defaultServer
	}
	fs.StringVar(&o.server, "server", server, "base `URL` of the API (env OCRINVOICE_SERVER)")
	fs.StringVar(&o.apiKey, "api-key", "", "API `key` sent as a bearer token (default: env OCRINVOICE_API_KEY, or the file named by OCRINVOICE_API_KEY_FILE)")
	fs.StringVar(&o.template, "template", "generic", "template id or `name`")
	choiceVar(fs, &o.priority, "priority", "", []string{"low", "medium", "high", "urgent"}, "job priority (default: the server's, medium)")
	fs.StringVar(&o.jobNumber, "job-number", "", "job `number` (default: made from the document name and the time)")
	fs.StringVar(&o.name, "name", "", "document `name` (default: the file or URL's base name)")
	fs.BoolVar(&o.wait, "wait", false, "follow the job until it ends and print its extracted data")
	fs.BoolVar(&o.json, "json", false, "machine-readable output: the created job as JSON; with --wait, JSON lines on stderr")
	fs.DurationVar(&o.timeout, "timeout", 0, "with --wait, give up after this `duration` (0: no limit)")
	return o
}

// runSubmit runs submit with its parsed flags and its operands. It returns an exitCoder
// error asking for exitJobUnsuccessful when the job failed or was cancelled.
func runSubmit(ctx context.Context, o *submitOptions, args []string, e *cmdEnv) error {
	if len(args) != 1 {
		return usageErrorf("submit", "want exactly one FILE or URL, got %d", len(args))
	}
	o.doc = args[0]
	if o.timeout < 0 {
		return usageErrorf("submit", "--timeout must not be negative, got %s", o.timeout)
	}
	if o.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.timeout)
		defer cancel()
	}
	key, err := submitKey(o.apiKey, e.getenv)
	if err != nil {
		return err
	}
	c, err := apiclient.New(o.server, key)
	if err != nil {
		return fmt.Errorf("submit: --server %q is not an http(s) URL", o.server)
	}
	job, err := createSubmitJob(ctx, c, o)
	if err != nil {
		return err
	}
	if !o.wait {
		if o.json {
			return writeIndented(e.stdout, job.Raw)
		}
		fmt.Fprintf(e.stdout, "Created job %s (%s), %s\n", job.ID, job.JobNumber, job.Status)
		return nil
	}
	const waiting = "created; waiting for it"
	if o.json {
		if err := writeJSONLine(e.stderr, map[string]string{"jobId": job.ID, "jobNumber": job.JobNumber,
			"status": job.Status, "message": waiting}); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(e.stderr, "Job %s (%s) %s\n", job.ID, job.JobNumber, waiting)
	}
	return waitAndPrint(ctx, c, job.ID, newProgressView(e.stderr, o.json), e.stdout)
}

// reportJSON writes err as one JSON line, {"error": ..., "exitCode": ...}, and returns
// an error with the same exit status that main does not print again.
func reportJSON(w io.Writer, err error) error {
	code := 1
	var ec exitCoder
	if errors.As(err, &ec) {
		code = ec.ExitCode()
	}
	_ = writeJSONLine(w, map[string]any{"error": err.Error(), "exitCode": code})
	return reportedError{err: err, code: code}
}

// reportedError is an error the command has already shown; main prints nothing more
// and exits with code.
type reportedError struct {
	err  error
	code int
}

func (e reportedError) Error() string        { return e.err.Error() }
func (e reportedError) Unwrap() error        { return e.err }
func (e reportedError) ExitCode() int        { return e.code }
func (e reportedError) Is(target error) bool { return target == errSilent }

// createSubmitJob uploads the document (or names its URL) and creates its job.
func createSubmitJob(ctx context.Context, c *apiclient.Client, o *submitOptions) (*apiclient.Job, error) {
	docURL, name, err := documentOf(ctx, c, o.doc, o.name)
	if err != nil {
		return nil, err
	}
	number := o.jobNumber
	if number == "" {
		number = newJobNumber(name, time.Now())
	}
	return c.CreateJob(ctx, apiclient.JobInput{
		JobNumber: number, DocumentName: name, DocumentURL: docURL, Template: o.template, Priority: o.priority,
	})
}

// waitAndPrint follows the job, showing its events on view, and prints its results on
// stdout when it completed; a job that failed or was cancelled is a submitExit with
// exitJobUnsuccessful.
func waitAndPrint(ctx context.Context, c *apiclient.Client, id string, view *progressView, stdout io.Writer) error {
	last, err := c.Follow(ctx, id, view.show)
	view.finish()
	if err != nil {
		return err
	}
	if last.Status != "completed" {
		reason := last.Message
		if reason == "" {
			reason = "no reason given"
		}
		return submitExit{code: exitJobUnsuccessful, err: fmt.Errorf("job %s %s: %s", id, last.Status, reason)}
	}
	res, err := c.Results(ctx, id)
	if err != nil {
		return err
	}
	return writeIndented(stdout, res.Raw)
}

// documentOf returns the document URL and name of arg: an http(s) URL as given, a local
// file after uploading it.
func documentOf(ctx context.Context, c *apiclient.Client, arg, name string) (docURL, docName string, err error) {
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
	up, err := c.Upload(ctx, f, name)
	if err != nil {
		return "", "", err
	}
	return up.DocumentURL, up.DocumentName, nil
}

// submitExit is an error with an exit code.
type submitExit struct {
	code int
	err  error
}

func (e submitExit) Error() string { return e.err.Error() }
func (e submitExit) Unwrap() error { return e.err }
func (e submitExit) ExitCode() int { return e.code }

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

func (v *progressView) show(ev apiclient.Event) {
	pct := min(max(ev.Progress.Percentage, 0), 100)
	label := ev.Progress.CurrentStep
	if ev.Message != "" {
		label = ev.Message
	}
	switch {
	case v.json:
		fmt.Fprintf(v.w, "%s\n", ev.Raw)
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
