package browsertest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"testing"
	"time"

	"github.com/ocrinvoice/ocrinvoice/internal/app"
	"github.com/ocrinvoice/ocrinvoice/internal/app/apptest"
	"github.com/ocrinvoice/ocrinvoice/internal/auth"
	"github.com/ocrinvoice/ocrinvoice/internal/config"
)

// Server is a real ocrinvoice API process for a browser test (apptest: SQLite in a
// temporary directory, a private redis-server, API keys required).
type Server struct {
	URL      string // http://127.0.0.1:port
	AdminKey string // an admin API key
	Config   config.Config
	API      *apptest.Process
	t        testing.TB
}

// StartServer starts the API (without a worker: jobs stay queued until StartWorker),
// with the settings of extra over apptest's (e.g. "OCRINVOICE_AUTH": "none").
func StartServer(t testing.TB, extra map[string]string) *Server {
	t.Helper()
	cfg := apptest.Config(t, config.CmdServe, extra)
	key := apptest.CreateKey(t, cfg, "browser-admin", auth.RoleAdmin)
	p := apptest.Start(t, cfg, app.Parts{API: true})
	return &Server{URL: p.URL, AdminKey: key, Config: cfg, API: p, t: t}
}

// StartWorker starts a worker on the server's database and Redis, which then processes
// the queued jobs.
func (s *Server) StartWorker() *apptest.Process {
	s.t.Helper()
	return apptest.Start(s.t, s.Config, app.Parts{Worker: true})
}

var client = &http.Client{Timeout: 30 * time.Second}

// Do sends a request with the admin key and returns the status and body; body is JSON
// unless contentType says otherwise.
func (s *Server) Do(method, path, contentType string, body []byte) (int, []byte) {
	s.t.Helper()
	req, err := http.NewRequest(method, s.URL+path, bytes.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
	}
	if contentType == "" {
		contentType = "application/json"
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Authorization", "Bearer "+s.AdminKey)
	resp, err := client.Do(req)
	if err != nil {
		s.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// CreateJob uploads doc (a PDF or image) as name and creates a job of the generic
// template on it through REST; it returns the job's id.
func (s *Server) CreateJob(name string, doc []byte) string {
	s.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, _ := mw.CreateFormFile("file", name)
	_, _ = fw.Write(doc)
	_ = mw.Close()
	code, b := s.Do("POST", "/api/v1/uploads", mw.FormDataContentType(), buf.Bytes())
	var up struct {
		Data struct{ DocumentURL string } `json:"data"`
	}
	if err := json.Unmarshal(b, &up); code != http.StatusCreated || err != nil {
		s.t.Fatalf("upload %s: %d %s", name, code, b)
	}
	body, _ := json.Marshal(map[string]any{
		"jobNumber": fmt.Sprintf("browser-%d", time.Now().UnixNano()), "documentName": name,
		"documentUrl": up.Data.DocumentURL, "template": "generic",
	})
	code, b = s.Do("POST", "/api/v1/ocr-invoice-jobs", "", body)
	var job struct {
		Data struct {
			ID string `json:"_id"`
		} `json:"data"`
	}
	if err := json.Unmarshal(b, &job); code != http.StatusCreated || err != nil || job.Data.ID == "" {
		s.t.Fatalf("create job: %d %s", code, b)
	}
	return job.Data.ID
}
