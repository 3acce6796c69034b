package client_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ocrinvoice/ocrinvoice/internal/apikeys"
	"github.com/ocrinvoice/ocrinvoice/internal/app"
	"github.com/ocrinvoice/ocrinvoice/internal/app/apptest"
	"github.com/ocrinvoice/ocrinvoice/internal/auth"
	"github.com/ocrinvoice/ocrinvoice/internal/client"
	"github.com/ocrinvoice/ocrinvoice/internal/config"
	"github.com/ocrinvoice/ocrinvoice/internal/testdocs"
)

// api is a real ocrinvoice process (API and worker) and keys of each role.
type api struct {
	cfg                    config.Config
	proc                   *apptest.Process
	admin, submitter, view string
}

// startAPI runs the API and a worker in this process, over SQLite and a private Redis,
// with documents fetchable from 127.0.0.1.
func startAPI(t *testing.T) *api {
	t.Helper()
	cfg := apptest.Config(t, config.CmdAll, map[string]string{"OCRINVOICE_FETCH_ALLOW_CIDRS": "127.0.0.0/8"})
	a := &api{cfg: cfg,
		admin:     apptest.CreateKey(t, cfg, "admin", auth.RoleAdmin),
		submitter: apptest.CreateKey(t, cfg, "submitter", auth.RoleSubmitter),
		view:      apptest.CreateKey(t, cfg, "viewer", auth.RoleViewer),
	}
	a.proc = apptest.Start(t, cfg, app.Parts{API: true, Worker: true})
	return a
}

func (a *api) client(t *testing.T, key string) *client.Client {
	t.Helper()
	c, err := client.New(a.proc.URL+"/", key)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// apiError returns err as an *Error, failing the test when it is not one.
func apiError(t *testing.T, err error) *client.Error {
	t.Helper()
	var e *client.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T), want a *client.Error", err, err)
	}
	return e
}

func TestJobLifecycle(t *testing.T) {
	a := startAPI(t)
	c := a.client(t, a.submitter)
	ctx := ctxFor(t)

	pdf := testdocs.PDF(testdocs.Page{Lines: testdocs.InvoiceLines})
	up, err := c.Upload(ctx, bytes.NewReader(pdf), "invoice.pdf")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(up.DocumentURL, "upload://") || up.Size != int64(len(pdf)) || up.DocumentType != "pdf" || up.DocumentName != "invoice.pdf" {
		t.Fatalf("upload %+v", up)
	}
	job, err := c.CreateJob(ctx, client.JobInput{JobNumber: "SDK-1", DocumentName: up.DocumentName,
		DocumentURL: up.DocumentURL, Template: "generic", Priority: "high", Metadata: map[string]any{"source": "sdk"}})
	if err != nil {
		t.Fatal(err)
	}
	if job.ID == "" || job.JobNumber != "SDK-1" || job.Priority != "high" || job.Metadata["source"] != "sdk" || !json.Valid(job.Raw) {
		t.Fatalf("created job %+v", job.Job)
	}

	var events []client.Event
	last, err := c.Follow(ctx, job.ID, func(ev client.Event) { events = append(events, ev) })
	if err != nil {
		t.Fatal(err)
	}
	if last.Status != "completed" || last.Progress.Percentage != 100 || len(events) < 2 || events[len(events)-1].Status != "completed" {
		t.Fatalf("last event %+v of %d", last, len(events))
	}
	for i, ev := range events {
		if ev.JobID != job.ID || ev.ID == "" || !json.Valid(ev.Raw) || (i < len(events)-1 && ev.Terminal()) {
			t.Errorf("event %d: %+v", i, ev)
		}
	}

	done, err := c.Wait(ctx, job.ID)
	if err != nil {
		t.Fatal(err)
	}
	if done.Status != "completed" || done.ExtractedData == nil || done.ExtractedData.Invoice.Number != "INV-2024-0042" {
		t.Fatalf("waited job: status %s, extracted %s", done.Status, done.Raw)
	}
	res, err := c.Results(ctx, job.ID)
	if err != nil {
		t.Fatal(err)
	}
	if res.ExtractedData == nil || res.Confidence == nil || !json.Valid(res.Raw) {
		t.Fatalf("results %s", res.Raw)
	}
	if tot := res.ExtractedData.Invoice.Amounts.Total; tot == nil || *tot != 238 {
		t.Fatalf("results %s", res.Raw)
	}
	got, err := c.GetJob(ctx, job.ID)
	if err != nil || got.Status != "completed" || got.ID != job.ID {
		t.Fatalf("get job: %+v, %v", got, err)
	}
}

func TestListJobs(t *testing.T) {
	a := startAPI(t)
	c := a.client(t, a.submitter)
	ctx := ctxFor(t)
	for i := range 3 {
		// A URL nobody serves: the jobs fail, which is all this test needs of them.
		if _, err := c.CreateJob(ctx, client.JobInput{JobNumber: fmt.Sprintf("LIST-%d", i), DocumentName: "a.pdf",
			DocumentURL: "http://127.0.0.1:1/a.pdf", Template: "generic"}); err != nil {
			t.Fatal(err)
		}
	}
	page, err := c.ListJobs(ctx, client.ListOptions{Limit: 2, Sort: "jobNumber", Order: "asc"})
	if err != nil {
		t.Fatal(err)
	}
	if page.Total != 3 || len(page.Jobs) != 2 || page.Jobs[0].JobNumber != "LIST-0" || page.Jobs[1].JobNumber != "LIST-1" || !json.Valid(page.Jobs[0].Raw) {
		t.Fatalf("first page: total %d, %d jobs", page.Total, len(page.Jobs))
	}
	page, err = c.ListJobs(ctx, client.ListOptions{Limit: 2, Offset: 2, Sort: "jobNumber", Order: "asc"})
	if err != nil || page.Total != 3 || len(page.Jobs) != 1 || page.Jobs[0].JobNumber != "LIST-2" {
		t.Fatalf("second page: %+v, %v", page, err)
	}
	page, err = c.ListJobs(ctx, client.ListOptions{Search: "LIST-1"})
	if err != nil || page.Total != 1 || page.Jobs[0].JobNumber != "LIST-1" {
		t.Fatalf("search: %+v, %v", page, err)
	}
}

// A job that fails ends Follow with its failed event, and Wait with the failed job.
func TestFailedJob(t *testing.T) {
	a := startAPI(t)
	c := a.client(t, a.submitter)
	ctx := ctxFor(t)
	missing := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(missing.Close)
	job, err := c.CreateJob(ctx, client.JobInput{JobNumber: "SDK-FAIL", DocumentName: "gone.pdf", DocumentURL: missing.URL + "/gone.pdf", Template: "generic"})
	if err != nil {
		t.Fatal(err)
	}
	last, err := c.Follow(ctx, job.ID, nil)
	if err != nil || last.Status != "failed" || !strings.Contains(last.Message, "404") || !last.Terminal() {
		t.Fatalf("follow: %+v, %v", last, err)
	}
	done, err := c.Wait(ctx, job.ID)
	if err != nil || done.Status != "failed" || done.ErrorLog == nil || !strings.Contains(*done.ErrorLog, "404") {
		t.Fatalf("wait: %+v, %v", done, err)
	}
}

// Error answers are *Error values carrying the server's error body.
func TestErrors(t *testing.T) {
	a := startAPI(t)
	ctx := ctxFor(t)
	sub := a.client(t, a.submitter)
	for _, tc := range []struct {
		name         string
		call         func() error
		status       int
		code, detail string
	}{
		{"unknown job", func() error { _, err := sub.GetJob(ctx, "0123456789abcdef01234567"); return err }, 404, "NOT_FOUND", ""},
		{"results of an unknown job", func() error { _, err := sub.Results(ctx, "0123456789abcdef01234567"); return err }, 404, "NOT_FOUND", ""},
		{"follow an unknown job", func() error { _, err := sub.Follow(ctx, "0123456789abcdef01234567", nil); return err }, 404, "NOT_FOUND", ""},
		{"a job without its fields", func() error { _, err := sub.CreateJob(ctx, client.JobInput{}); return err }, 400, "INVALID", "jobNumber"},
		{"a page too large", func() error { _, err := sub.ListJobs(ctx, client.ListOptions{Limit: 1000}); return err }, 400, "INVALID", "limit"},
		{"an unknown key", func() error {
			_, err := a.client(t, "oik_nope").ListJobs(ctx, client.ListOptions{})
			return err
		}, 401, "UNAUTHENTICATED", ""},
		{"a viewer creating a job", func() error {
			_, err := a.client(t, a.view).CreateJob(ctx, client.JobInput{JobNumber: "X", DocumentName: "x.pdf", DocumentURL: "http://127.0.0.1:1/x.pdf", Template: "generic"})
			return err
		}, 403, "FORBIDDEN", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := apiError(t, tc.call())
			if e.Status != tc.status || e.Code != tc.code || e.Message == "" || e.RequestID == "" || !strings.HasPrefix(e.Path, "/api/v1/") {
				t.Errorf("error %+v, want %d %s", e, tc.status, tc.code)
			}
			if !client.IsCode(fmt.Errorf("wrapped: %w", e), tc.code) {
				t.Errorf("IsCode(%s) is false", tc.code)
			}
			if tc.detail != "" && !hasDetail(e, tc.detail) {
				t.Errorf("details %+v, want one for %s", e.Details, tc.detail)
			}
		})
	}
}

func hasDetail(e *client.Error, field string) bool {
	for _, d := range e.Details {
		if d.Field == field {
			return true
		}
	}
	return false
}

func TestNewRefusesBadURLs(t *testing.T) {
	for _, u := range []string{"", "ftp://x", "127.0.0.1:8080", "http://", "://"} {
		if _, err := client.New(u, ""); err == nil {
			t.Errorf("New(%q) took it", u)
		}
	}
}

// A stream whose API key is revoked ends with the server's error event: Follow returns
// it as an *Error at once rather than reconnecting.
func TestFollowEndsWhenTheKeyIsRevoked(t *testing.T) {
	a := startAPI(t)
	ctx := ctxFor(t)
	release := make(chan struct{})
	var once sync.Once
	t.Cleanup(func() { once.Do(func() { close(release) }) })
	pdf := testdocs.PDF(testdocs.Page{Lines: testdocs.InvoiceLines})
	docs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release // the job stays processing until the key is revoked
		_, _ = w.Write(pdf)
	}))
	t.Cleanup(docs.Close)

	key := apptest.CreateKey(t, a.cfg, "revoked", auth.RoleSubmitter)
	c := a.client(t, key)
	job, err := c.CreateJob(ctx, client.JobInput{JobNumber: "SDK-REVOKE", DocumentName: "a.pdf", DocumentURL: docs.URL + "/a.pdf", Template: "generic"})
	if err != nil {
		t.Fatal(err)
	}
	firstEvent := make(chan struct{}, 1)
	type result struct {
		ev  client.Event
		err error
	}
	followed := make(chan result, 1)
	go func() {
		ev, err := c.Follow(ctx, job.ID, func(client.Event) {
			select {
			case firstEvent <- struct{}{}:
			default:
			}
		})
		followed <- result{ev, err}
	}()
	<-firstEvent
	revokeKey(t, a.cfg, key)
	time.Sleep(apikeys.CacheTTL + time.Second) // the API's cache of the key expires
	once.Do(func() { close(release) })

	r := <-followed
	e := apiError(t, r.err)
	if e.Code != "UNAUTHENTICATED" || e.Status != 0 || !strings.Contains(e.Message, "revoked") {
		t.Fatalf("follow ended with %+v (event %+v)", e, r.ev)
	}
}

// revokeKey revokes the API key whose secret is key, in the database of cfg.
func revokeKey(t *testing.T, cfg config.Config, key string) {
	t.Helper()
	id, _, err := auth.ParseKey(key)
	if err != nil {
		t.Fatal(err)
	}
	db, err := app.OpenDatabase(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := apikeys.New(db, slog.New(slog.DiscardHandler)).Revoke(context.Background(), id); err != nil {
		t.Fatal(err)
	}
}
