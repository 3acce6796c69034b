package worker

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/ocrinvoice/ocrinvoice/ent/ocrinvoicejob"
	"github.com/ocrinvoice/ocrinvoice/internal/database/databasetest"
	"github.com/ocrinvoice/ocrinvoice/internal/progress"
	"github.com/ocrinvoice/ocrinvoice/internal/tasks"
)

// lockedBuffer is a bytes.Buffer the handler's goroutines may write concurrently.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Secrets planted in document URLs by TestPipelineKeepsURLSecrets.
const (
	plantedSig  = "SECRETSIG123"
	plantedCred = "AKIAPLANTED9"
	plantedPass = "hunter2pass"
	presigned   = "X-Amz-Signature=" + plantedSig + "&X-Amz-Credential=" + plantedCred + "%2F20240101%2Feu-west-1%2Fs3"
)

// TestPipelineKeepsURLSecrets runs failing jobs whose document URLs are pre-signed (and,
// through a redirect or a row written before credentials were refused, carry a user
// and password) through the real worker, and looks for the secrets everywhere a failure
// is recorded: the job's errorLog, its events, the worker's log, and the task's last
// error in Redis, which the queue dashboard shows. None may hold them; each still names
// the URL with its query keys.
func TestPipelineKeepsURLSecrets(t *testing.T) {
	db := databasetest.Open(t)
	logs := &lockedBuffer{}
	drop := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// A connection dropped before any answer: a transient failure, retried.
		if c, _, err := http.NewResponseController(w).Hijack(); err == nil {
			c.Close()
		}
	})
	redirect := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, r.URL.Query().Get("u"), http.StatusFound)
	})
	e := newPathEnvOn(t, db, envOptions{paused: true,
		logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		routes: map[string]http.Handler{"/drop.pdf": drop, "/to": redirect}})
	port := e.docs.URL[strings.LastIndexByte(e.docs.URL, ':')+1:]
	// 127.0.0.2 is loopback outside the env's allow-list: the guard refuses the hop.
	hop := "http://user:" + plantedPass + "@127.0.0.2:" + port + "/invoice.pdf?" + presigned

	cases := []struct {
		name, url string
		legacy    string // written to the row after creation (CreateJob refuses credentials)
		says      string // in the errorLog
		attempts  int
	}{
		{"404", e.docs.URL + "/missing.pdf?" + presigned, "", "HTTP 404", 1},
		{"redirect to a refused address", e.docs.URL + "/to?" + presigned + "&u=" + url.QueryEscape(hop), "", "loopback", 1},
		{"dropped connection, retried", e.docs.URL + "/drop.pdf?" + presigned, "", "EOF", tasks.MaxRetry + 1},
		{"credentials in the stored URL", e.docs.URL + "/missing.pdf",
			strings.Replace(e.docs.URL, "http://", "http://user:"+plantedPass+"@", 1) + "/missing.pdf?" + presigned, "HTTP 404", 1},
	}
	ids := make([]string, len(cases))
	for i, c := range cases {
		j := e.createURL(t, "SECRET-"+string(rune('A'+i)), c.url)
		if c.legacy != "" {
			if err := db.OcrInvoiceJob.UpdateOneID(j.ID).SetDocumentURL(c.legacy).Exec(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		ids[i] = j.ID
	}
	ch := e.events(t)
	e.startWorker()
	// Every event until each job's terminal one.
	events := map[string][]progress.Event{}
	open := len(ids)
	for deadline := time.After(90 * time.Second); open > 0; {
		select {
		case ev := <-ch:
			events[ev.JobID] = append(events[ev.JobID], ev)
			if ev.Terminal() {
				open--
			}
		case <-deadline:
			t.Fatalf("%d jobs not finished; events %+v", open, events)
		}
	}

	ins := asynq.NewInspector(e.redis)
	t.Cleanup(func() { _ = ins.Close() })
	secrets := []string{plantedSig, plantedCred, plantedPass, "user:"}
	carries := func(s string) []string {
		var found []string
		for _, sec := range secrets {
			if strings.Contains(s, sec) {
				found = append(found, sec)
			}
		}
		return found
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			j := e.wait(t, ids[i], 60*time.Second)
			if j.Status != ocrinvoicejob.StatusFailed {
				t.Fatalf("status %s, errorLog %q", j.Status, j.ErrorLog)
			}
			lines := strings.Split(j.ErrorLog, "\n")
			if len(lines) != c.attempts {
				t.Errorf("errorLog has %d lines, want %d: %q", len(lines), c.attempts, j.ErrorLog)
			}
			for _, l := range lines {
				wantLogLine(t, l, c.says)
				wantLogLine(t, l, "X-Amz-Signature=REDACTED")
			}
			if s := carries(j.ErrorLog); s != nil {
				t.Errorf("errorLog carries %q: %s", s, j.ErrorLog)
			}
			for _, ev := range events[ids[i]] {
				if s := carries(ev.Message); s != nil {
					t.Errorf("event %s carries %q: %s", ev.Status, s, ev.Message)
				}
			}
			// The task's last error, as the dashboard reads it: written once the handler
			// has returned, a moment after the job is failed.
			var info *asynq.TaskInfo
			deadline := time.Now().Add(10 * time.Second)
			for {
				var err error
				info, err = ins.GetTaskInfo(tasks.Queue(string(j.Priority)), j.ID)
				if err == nil && info.State == asynq.TaskStateArchived && info.LastErr != "" {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("task of job %s not archived with an error: %+v, %v", j.ID, info, err)
				}
				time.Sleep(20 * time.Millisecond)
			}
			if s := carries(info.LastErr); s != nil {
				t.Errorf("task's last error carries %q: %s", s, info.LastErr)
			}
			if !strings.Contains(info.LastErr, c.says) || !strings.Contains(info.LastErr, "X-Amz-Signature=REDACTED") {
				t.Errorf("task's last error %q does not say what failed", info.LastErr)
			}
		})
	}
	out := logs.String()
	if s := carries(out); s != nil {
		t.Errorf("worker log carries %q:\n%s", s, out)
	}
	if n := strings.Count(out, "Processing job"); n != 3+tasks.MaxRetry+1 {
		t.Errorf("%d Processing job lines, want one per attempt:\n%s", n, out)
	}
	if !strings.Contains(out, "document_url=\"http://REDACTED@127.0.0.1:"+port+"/missing.pdf?X-Amz-Signature=REDACTED&X-Amz-Credential=REDACTED\"") {
		t.Errorf("the Processing job line does not name the stored URL, redacted:\n%s", out)
	}
}
