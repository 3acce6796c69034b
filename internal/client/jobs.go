package client

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"

	"github.com/ocrinvoice/ocrinvoice/internal/contract"
	"github.com/ocrinvoice/ocrinvoice/internal/invoice"
)

// jobsPath is the REST collection of OCR invoice jobs.
const jobsPath = "/api/v1/ocr-invoice-jobs"

// Job is an OCR invoice job as the API shows it, and the JSON it was decoded from.
type Job struct {
	contract.Job
	Raw json.RawMessage `json:"-"`
}

// decodeJob decodes the data of an answer holding one job.
func decodeJob(data json.RawMessage) (*Job, error) {
	j := &Job{Raw: data}
	if err := json.Unmarshal(data, &j.Job); err != nil {
		return nil, fmt.Errorf("decode job: %w", err)
	}
	return j, nil
}

// JobInput is a job to create. JobNumber, DocumentName, DocumentURL and Template (the
// built-in "generic", or a template of the server) are required; the rest take the
// server's defaults when empty (priority "medium", the type from the document name).
type JobInput struct {
	JobNumber    string         `json:"jobNumber"`
	DocumentName string         `json:"documentName"`
	DocumentURL  string         `json:"documentUrl"` // http(s) URL, or the DocumentURL of an Upload
	DocumentType string         `json:"documentType,omitempty"`
	Template     string         `json:"template"`           // template id or name
	Group        string         `json:"group,omitempty"`    // group id
	Priority     string         `json:"priority,omitempty"` // low, medium, high or urgent
	CallbackURL  string         `json:"callbackUrl,omitempty"`
	Metadata     map[string]any `json:"metadata,omitempty"`
}

// CreateJob creates a job (POST /api/v1/ocr-invoice-jobs) and returns it as created,
// usually queued.
func (c *Client) CreateJob(ctx context.Context, in JobInput) (*Job, error) {
	env, err := c.postJSON(ctx, jobsPath, in)
	if err != nil {
		return nil, fmt.Errorf("create job: %w", err)
	}
	j, err := decodeJob(env.Data)
	if err != nil {
		return nil, fmt.Errorf("create job: %w", err)
	}
	return j, nil
}

// GetJob returns the job with the given id (GET /api/v1/ocr-invoice-jobs/{id}).
func (c *Client) GetJob(ctx context.Context, id string) (*Job, error) {
	env, err := c.get(ctx, jobsPath+"/"+url.PathEscape(id))
	if err != nil {
		return nil, fmt.Errorf("get job %s: %w", id, err)
	}
	return decodeJob(env.Data)
}

// ListOptions select a page of jobs; zero values take the server's defaults (50 jobs
// from offset 0, newest first).
type ListOptions struct {
	Limit, Offset int
	Sort          string // a job field, e.g. "createdAt"
	Order         string // "asc" or "desc"
	Search        string // free text
	Filter        string // the API's filter expression, e.g. "status:completed"
}

// query is o as the query string of the list endpoint.
func (o ListOptions) query() string {
	q := url.Values{}
	if o.Limit > 0 {
		q.Set("limit", strconv.Itoa(o.Limit))
	}
	if o.Offset > 0 {
		q.Set("offset", strconv.Itoa(o.Offset))
	}
	for k, v := range map[string]string{"sort": o.Sort, "order": o.Order, "search": o.Search, "filter": o.Filter} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if len(q) == 0 {
		return ""
	}
	return "?" + q.Encode()
}

// JobList is a page of jobs and the number of all jobs that match.
type JobList struct {
	Jobs  []*Job
	Total int
}

// ListJobs returns a page of the jobs the caller may see (GET /api/v1/ocr-invoice-jobs).
func (c *Client) ListJobs(ctx context.Context, o ListOptions) (*JobList, error) {
	env, err := c.get(ctx, jobsPath+o.query())
	if err != nil {
		return nil, fmt.Errorf("list jobs: %w", err)
	}
	var raws []json.RawMessage
	if err := json.Unmarshal(env.Data, &raws); err != nil {
		return nil, fmt.Errorf("list jobs: decode answer: %w", err)
	}
	list := &JobList{Jobs: make([]*Job, 0, len(raws))}
	if env.Total != nil {
		list.Total = *env.Total
	}
	for _, raw := range raws {
		j, err := decodeJob(raw)
		if err != nil {
			return nil, fmt.Errorf("list jobs: %w", err)
		}
		list.Jobs = append(list.Jobs, j)
	}
	return list, nil
}

// Results is what a job produced (its fields are nil until it completes), and the JSON
// it was decoded from.
type Results struct {
	invoice.Results
	Raw json.RawMessage `json:"-"`
}

// Results returns the results of the job (GET /api/v1/ocr-invoice-jobs/{id}/results).
func (c *Client) Results(ctx context.Context, id string) (*Results, error) {
	env, err := c.get(ctx, jobsPath+"/"+url.PathEscape(id)+"/results")
	if err != nil {
		return nil, err
	}
	r := &Results{Raw: env.Data}
	if err := json.Unmarshal(env.Data, &r.Results); err != nil {
		return nil, fmt.Errorf("results of job %s: decode answer: %w", id, err)
	}
	return r, nil
}

// Upload is a stored document: DocumentURL (upload://...) names it in a JobInput.
type Upload struct {
	DocumentURL  string `json:"documentUrl"`
	SHA256       string `json:"sha256"`
	Size         int64  `json:"size"`
	DocumentName string `json:"documentName"`
	DocumentType string `json:"documentType"` // pdf, png, jpg, tiff or bmp, from the content
}

// Upload streams the document r, named name, to the server (POST /api/v1/uploads, the
// multipart field "file") and returns where it is stored.
func (c *Client) Upload(ctx context.Context, r io.Reader, name string) (*Upload, error) {
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		fw, err := mw.CreateFormFile("file", name)
		if err == nil {
			_, err = io.Copy(fw, r)
		}
		if err == nil {
			err = mw.Close()
		}
		pw.CloseWithError(err)
	}()
	req, err := c.newRequest(ctx, http.MethodPost, "/api/v1/uploads", pr)
	if err != nil {
		_ = pr.Close()
		return nil, err
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	env, err := c.do(req)
	_ = pr.Close() // ends the writer goroutine when the server answered early
	if err != nil {
		return nil, fmt.Errorf("upload %s: %w", name, err)
	}
	up := &Upload{}
	if err := json.Unmarshal(env.Data, up); err != nil {
		return nil, fmt.Errorf("upload %s: decode answer: %w", name, err)
	}
	return up, nil
}
