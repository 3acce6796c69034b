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
// with the settings of extra over apptest's (e.g. "OCRINVOICE_AUTH": "none"). The
// configuration is that of `ocrinvoice all`, so that StartWorker's worker reads its own
// settings too (one OCR slot).
func StartServer(t testing.TB, extra map[string]string) *Server {
	t.Helper()
	cfg := apptest.Config(t, config.CmdAll, extra)
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
	return s.DoAs(s.AdminKey, method, path, body, "Content-Type", contentType)
}

// DoAs sends a request with key and the headers given as name, value pairs (an empty
// value is left out; Content-Type defaults to JSON) and returns the status and body.
func (s *Server) DoAs(key, method, path string, body []byte, headers ...string) (int, []byte) {
	s.t.Helper()
	req, err := http.NewRequest(method, s.URL+path, bytes.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+key)
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i+1] != "" {
			req.Header.Set(headers[i], headers[i+1])
		}
	}
	resp, err := client.Do(req)
	if err != nil {
		s.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// REST sends a request with the admin key (body as JSON unless a Content-Type header is
// given), fails the test on a status of 300 or more, and decodes the envelope's data
// into out unless out is nil.
func (s *Server) REST(method, path string, body []byte, out any, headers ...string) {
	s.t.Helper()
	code, b := s.DoAs(s.AdminKey, method, path, body, headers...)
	if code >= 300 {
		s.t.Fatalf("%s %s: %d %s", method, path, code, b)
	}
	if out == nil {
		return
	}
	var env struct{ Data json.RawMessage }
	if err := json.Unmarshal(b, &env); err != nil {
		s.t.Fatalf("%s %s: %v in %s", method, path, err, b)
	}
	if err := json.Unmarshal(env.Data, out); err != nil {
		s.t.Fatalf("%s %s: decode %s: %v", method, path, env.Data, err)
	}
}

// GraphQL runs query with vars as the admin, fails the test on an error, and decodes
// the answer's data into out unless out is nil.
func (s *Server) GraphQL(query string, vars map[string]any, out any) {
	s.t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	code, b := s.Do("POST", "/graphql", "", body)
	var res struct {
		Data   json.RawMessage
		Errors []json.RawMessage
	}
	if err := json.Unmarshal(b, &res); code != http.StatusOK || err != nil || len(res.Errors) > 0 {
		s.t.Fatalf("GraphQL %s: %d %s", query, code, b)
	}
	if out != nil {
		if err := json.Unmarshal(res.Data, out); err != nil {
			s.t.Fatalf("GraphQL %s: decode %s: %v", query, res.Data, err)
		}
	}
}

// CreateKey creates an API key of role ("admin", "submitter", "viewer") through the API
// and returns its secret and id.
func (s *Server) CreateKey(name, role string) (key, id string) {
	s.t.Helper()
	var out struct {
		C struct {
			Key    string
			APIKey struct{ ID string } `json:"apiKey"`
		} `json:"createApiKey"`
	}
	s.GraphQL(`mutation($in: CreateApiKeyInput!) { createApiKey(input: $in) { key apiKey { id } } }`,
		map[string]any{"in": map[string]any{"name": name, "role": role}}, &out)
	return out.C.Key, out.C.APIKey.ID
}

// RevokeKey revokes the API key id through the API; it stops working on this server at once.
func (s *Server) RevokeKey(id string) {
	s.t.Helper()
	s.GraphQL(`mutation($id: ID!) { revokeApiKey(id: $id) { id } }`, map[string]any{"id": id}, nil)
}

// Upload stores doc (a PDF or image) as name through REST and returns its documentUrl.
func (s *Server) Upload(name string, doc []byte) string {
	s.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, _ := mw.CreateFormFile("file", name)
	_, _ = fw.Write(doc)
	_ = mw.Close()
	var up struct{ DocumentURL string }
	s.REST("POST", "/api/v1/uploads", buf.Bytes(), &up, "Content-Type", mw.FormDataContentType())
	return up.DocumentURL
}

// CreateJob uploads doc (a PDF or image) as name and creates a job of the generic
// template on it through REST; it returns the job's id.
func (s *Server) CreateJob(name string, doc []byte) string {
	s.t.Helper()
	body, _ := json.Marshal(map[string]any{
		"jobNumber": fmt.Sprintf("browser-%d", time.Now().UnixNano()), "documentName": name,
		"documentUrl": s.Upload(name, doc), "template": "generic",
	})
	var job struct {
		ID string `json:"_id"`
	}
	s.REST("POST", "/api/v1/ocr-invoice-jobs", body, &job)
	if job.ID == "" {
		s.t.Fatalf("create job: no id")
	}
	return job.ID
}
