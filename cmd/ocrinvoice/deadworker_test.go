package main

import (
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
)

// TestDeadWorkerNoticedInSeconds: a worker process is SIGKILLed while it processes a
// job; with the default heartbeat settings, another worker finishes the job within 20 s
// of starting, long before asynq would hand the dead worker's task on (its lease). The
// lost run counts as an attempt: retryCount 1, and the job's attempts list a worker_lost
// attempt by the dead worker followed by the completed one. The dead worker's task is
// still in asynq when the job completes: the new run's task has an id of its own.
func TestDeadWorkerNoticedInSeconds(t *testing.T) {
	t.Parallel()
	rs := startRedisOnPort(t, 0)
	docs := newDocServer(t, 1)
	dataDir := t.TempDir()
	env := stackEnv(rs, dataDir, nil)
	api := start(t, testEnv(t, env), "serve")
	id := api.createJobFor(t, "DEAD-1", docs.URL+"/invoice.pdf")
	var fresh struct {
		Job struct {
			Attempts []any `json:"attempts"`
		} `json:"ocrInvoiceJob"`
	}
	api.graphql(t, `query($id: ID!) { ocrInvoiceJob(id: $id) { attempts { number } } }`, map[string]any{"id": id}, &fresh)
	if fresh.Job.Attempts == nil || len(fresh.Job.Attempts) != 0 {
		t.Fatalf("attempts of a job no worker started: %v, want []", fresh.Job.Attempts)
	}

	var out syncBuffer
	var childEnv []string
	for k, v := range env {
		childEnv = append(childEnv, k+"="+v)
	}
	a := child(t, &out, append(childEnv, "OCRINVOICE_LOG_FORMAT=json"), "worker")
	select {
	case <-docs.held: // worker A is downloading the document: the job is processing
	case <-time.After(60 * time.Second):
		t.Fatalf("worker A did not start the job; its log:\n%s", out.String())
	}
	if s := api.jobStatus(t, id); s != "processing" {
		t.Fatalf("job is %s while its document downloads, want processing", s)
	}
	deadPID := a.Process.Pid
	if err := a.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = a.Wait()

	began := time.Now()
	b := start(t, testEnv(t, stackEnv(rs, dataDir, nil)), "worker")
	job := api.waitJob(t, id, 60*time.Second)
	took := time.Since(began)
	if job["status"] != "completed" {
		t.Fatalf("job ended %v (errorLog %v); worker B log:\n%s", job["status"], job["errorLog"], b.stderr)
	}
	t.Logf("job completed %v after worker B started", took.Round(10*time.Millisecond))
	if took > 20*time.Second {
		t.Errorf("job completed %v after worker B started, want at most 20s", took)
	}
	if n, _ := job["retryCount"].(float64); n != 1 {
		t.Errorf("retryCount %v, want 1 (the lost attempt)", job["retryCount"])
	}
	// The completed attempt cleared errorLog; the lost one stays in attempts, in REST too.
	if job["errorLog"] != nil {
		t.Errorf("errorLog %q after the job completed, want null", job["errorLog"])
	}
	if at, _ := job["attempts"].([]any); len(at) != 2 || at[0].(map[string]any)["outcome"] != "worker_lost" || at[1].(map[string]any)["outcome"] != "completed" {
		t.Errorf("REST attempts %v, want worker_lost then completed", job["attempts"])
	}
	if n := docs.requests.Load(); n != 2 {
		t.Errorf("document fetched %d times, want 2 (the killed attempt and the one that completed)", n)
	}

	var got struct {
		Job struct {
			RetryCount int `json:"retryCount"`
			Attempts   []struct {
				Number    int     `json:"number"`
				Worker    string  `json:"worker"`
				StartedAt string  `json:"startedAt"`
				EndedAt   *string `json:"endedAt"`
				Outcome   string  `json:"outcome"`
				Error     string  `json:"error"`
			} `json:"attempts"`
		} `json:"ocrInvoiceJob"`
	}
	api.graphql(t, `query($id: ID!) { ocrInvoiceJob(id: $id) { retryCount attempts { number worker startedAt endedAt outcome error } } }`,
		map[string]any{"id": id}, &got)
	at := got.Job.Attempts
	if len(at) != 2 {
		t.Fatalf("attempts %+v, want 2", at)
	}
	if at[0].Number != 1 || at[0].Outcome != "worker_lost" || at[0].Error != "worker lost" || at[0].EndedAt == nil ||
		!strings.HasSuffix(at[0].Worker, ":"+strconv.Itoa(deadPID)) {
		t.Errorf("first attempt %+v, want number 1, worker_lost by pid %d", at[0], deadPID)
	}
	if at[1].Number != 2 || at[1].Outcome != "completed" || at[1].Error != "" || at[1].EndedAt == nil ||
		!strings.HasSuffix(at[1].Worker, ":"+strconv.Itoa(os.Getpid())) {
		t.Errorf("second attempt %+v, want number 2, completed by worker B (pid %d)", at[1], os.Getpid())
	}

	// The dead worker's task is still held by asynq (active until its lease expires, then
	// retried): when it runs, the job refuses it, as its run is stale.
	insp := asynq.NewInspector(asynq.RedisClientOpt{Addr: "127.0.0.1:" + strconv.Itoa(rs.port)})
	defer func() { _ = insp.Close() }()
	info, err := insp.GetTaskInfo("medium", id)
	if err != nil {
		t.Fatalf("the dead worker's task: %v", err)
	}
	if info.State != asynq.TaskStateActive && info.State != asynq.TaskStateRetry {
		t.Errorf("the dead worker's task is %v, want active or retry", info.State)
	}
}
