package main

import (
	"bufio"
	"bytes"
	"compress/flate"
	"compress/zlib"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ocrinvoice/ocrinvoice/internal/database"
	"github.com/ocrinvoice/ocrinvoice/internal/testdocs"
)

// leakMarkers must never appear in an answer: stack traces, source positions, SQL and
// driver text.
var leakMarkers = []string{"goroutine", ".go:", "SELECT", "sqlite", "pq:", "panic"}

// hostileStack is a running `all` with API keys, and what the suite needs to talk to it.
type hostileStack struct {
	p            *process
	admin, sub   string
	dbURL        string
	onPurposeIDs []string // jobs the suite created on purpose
}

// hdo sends one request with the key ("" none) and returns status, headers and body.
func (s *hostileStack) hdo(t *testing.T, key, method, path, ctype string, body []byte) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, "http://"+s.p.addr+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %.80s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

// noLeak fails when an answer shows internals.
func noLeak(t *testing.T, what string, body []byte) {
	t.Helper()
	for _, m := range leakMarkers {
		if bytes.Contains(body, []byte(m)) {
			t.Errorf("%s: the answer contains %q: %.300s", what, m, body)
		}
	}
}

// refused checks a 4xx whose body is a clear error (mentioning want, when given) without
// internals.
func refused(t *testing.T, what string, code int, body []byte, wantCodes []int, want string) {
	t.Helper()
	noLeak(t, what, body)
	if !slices.Contains(wantCodes, code) {
		t.Errorf("%s: HTTP %d, want one of %v: %.300s", what, code, wantCodes, body)
		return
	}
	if want != "" && !strings.Contains(string(body), want) {
		t.Errorf("%s: the answer does not say %q: %.300s", what, want, body)
	}
}

// snapshot is what the suite must not change: the lists (as the admin sees them) and the
// row counts.
type snapshot struct {
	jobs, groups, templates string
	counts                  map[string]int
}

func (s *hostileStack) snapshot(t *testing.T) snapshot {
	t.Helper()
	list := func(path string, drop []string) string {
		code, _, b := s.hdo(t, s.admin, "GET", path, "", nil)
		if code != http.StatusOK {
			t.Fatalf("GET %s: %d %s", path, code, b)
		}
		var env struct {
			Data []map[string]any `json:"data"`
		}
		decode(t, b, &env)
		var keep []map[string]any
		for _, d := range env.Data {
			if !slices.Contains(drop, fmt.Sprint(d["_id"])) {
				keep = append(keep, d)
			}
		}
		out, _ := json.Marshal(keep)
		return string(out)
	}
	c, err := database.Open(context.Background(), s.dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	count := func(n int, err error) int {
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	return snapshot{
		jobs:      list("/api/v1/ocr-invoice-jobs?limit=100", s.onPurposeIDs),
		groups:    list("/api/v1/ocr-job-groups?limit=100", nil),
		templates: list("/api/v1/ocr-templates?limit=100", nil),
		counts: map[string]int{
			"jobs":      count(c.OcrInvoiceJob.Query().Count(ctx)),
			"groups":    count(c.OcrJobGroup.Query().Count(ctx)),
			"templates": count(c.OcrTemplate.Query().Count(ctx)),
			"apikeys":   count(c.APIKey.Query().Count(ctx)),
		},
	}
}

// multipartFile is a multipart/form-data body with one file field.
func multipartFile(field, filename string, data []byte) ([]byte, string) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, _ := mw.CreateFormFile(field, filename)
	fw.Write(data)
	mw.Close()
	return buf.Bytes(), mw.FormDataContentType()
}

// pdfBomb is a one-page PDF of about 5 KB whose content stream, deflated twice, inflates
// to 1 GiB of blanks. The inner layer is assembled rather than compressed (compressing
// 1 GiB takes long under the race detector): once the window is all blanks, every further
// MiB of blanks deflates, sync-flushed, to the same bytes. Its Adler-32 is left zero;
// nothing reads that far.
func pdfBomb(t *testing.T) []byte {
	t.Helper()
	chunk := bytes.Repeat([]byte(" "), 1<<20)
	var fb bytes.Buffer
	fw, _ := flate.NewWriter(&fb, flate.BestCompression)
	piece := func(write func()) []byte {
		fb.Reset()
		write()
		return bytes.Clone(fb.Bytes())
	}
	first := piece(func() { fw.Write(chunk); fw.Flush() })
	again := piece(func() { fw.Write(chunk); fw.Flush() })
	if next := piece(func() { fw.Write(chunk); fw.Flush() }); !bytes.Equal(again, next) {
		t.Fatal("deflate of repeated blanks is not periodic")
	}
	last := piece(func() { fw.Close() })
	inner := append([]byte{0x78, 0xda}, first...)
	for range 1<<10 - 1 {
		inner = append(inner, again...)
	}
	inner = append(append(inner, last...), 0, 0, 0, 0)
	var z bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&z, zlib.BestCompression)
	zw.Write(inner)
	zw.Close()
	stream := z.Bytes()
	objs := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
		fmt.Sprintf("<< /Length %d /Filter [/FlateDecode /FlateDecode] >>\nstream\n%s\nendstream", len(stream), stream),
	}
	return testdocs.RawPDF(1, objs)
}

// rawHTTP writes req on a fresh connection and returns the status line's code.
func rawHTTP(t *testing.T, addr string, write func(w *bufio.Writer)) int {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(20 * time.Second))
	done := make(chan struct{})
	go func() {
		defer close(done)
		w := bufio.NewWriterSize(conn, 64<<10)
		write(w)
		w.Flush() // the server may close early; a failed write is fine
	}()
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("read the answer: %v", err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	noLeak(t, "raw request", b)
	conn.Close()
	<-done
	return resp.StatusCode
}

// TestHostileInputs: the whole stack with API keys meets hostile input: oversized bodies,
// deep and aliased GraphQL, a filter with 10,000 nested $or, header floods, invalid UTF-8,
// SQL-looking searches, traversal in upload names, a ZIP, a PDF bomb and URLs aimed at
// internal addresses. Each is refused with a clear 4xx (the PDF bomb's job fails with a
// permanent error), no answer shows internals, the service still answers afterwards, and
// nothing changed but the rows created on purpose.
func TestHostileInputs(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	s := &hostileStack{dbURL: "sqlite:" + filepath.Join(dir, "ocrinvoice.db")}
	s.admin = createKey(t, dir, "--name", "ops", "--role", "admin")
	s.sub = createKey(t, dir, "--name", "team-h", "--role", "submitter")
	docs := newDocServer(t, 0)
	s.p = start(t, testEnv(t, map[string]string{
		"OCRINVOICE_AUTH": "apikey", "OCRINVOICE_DATA_DIR": dir,
		"OCRINVOICE_FETCH_ALLOW_CIDRS": "127.0.0.0/8",
		"OCRINVOICE_RATE_LIMIT":        "10000", "OCRINVOICE_RATE_BURST": "10000",
		"OCRINVOICE_UPLOAD_MAX_BYTES": "1048576",
		"OCRINVOICE_LOG_LEVEL":        "info",
	}), "all", "--concurrency", "1")
	const jobs = "/api/v1/ocr-invoice-jobs"
	jsonCT := "application/json"

	// Data to protect: a completed job and a group.
	code, _, b := s.hdo(t, s.sub, "POST", jobs, jsonCT, []byte(`{"jobNumber":"H-BASE","documentName":"invoice.pdf","documentUrl":"`+docs.URL+`/invoice.pdf","template":"generic","metadata":{"k":"v"}}`))
	if code != http.StatusCreated {
		t.Fatalf("create the baseline job: %d %s", code, b)
	}
	var created struct {
		Data map[string]any `json:"data"`
	}
	decode(t, b, &created)
	base := fmt.Sprint(created.Data["_id"])
	waitHostileJob(t, s, base, 60*time.Second)
	if code, _, _ := s.hdo(t, s.sub, "POST", "/api/v1/ocr-job-groups", jsonCT, []byte(`{"name":"h-group","documents":[]}`)); code >= 300 {
		if code, _, b := s.hdo(t, s.sub, "POST", "/api/v1/ocr-job-groups", jsonCT, []byte(`{"name":"h-group"}`)); code >= 300 {
			t.Logf("no group created (%d %s); groups are compared empty", code, b)
		}
	}
	before := s.snapshot(t)

	t.Run("oversized bodies", func(t *testing.T) {
		big := []byte(`{"jobNumber":"H-BIG","documentName":"a.pdf","documentUrl":"http://127.0.0.1:9/a.pdf","template":"generic","metadata":{"pad":"` + strings.Repeat("x", 1<<20+10) + `"}}`)
		code, _, b := s.hdo(t, s.sub, "POST", jobs, jsonCT, big)
		refused(t, "REST body over 1 MiB", code, b, []int{413}, "limit")
		gql := []byte(`{"query":"{ ocrTemplates { totalCount } }","variables":{"pad":"` + strings.Repeat("x", 1<<20+10) + `"}}`)
		code, _, b = s.hdo(t, s.sub, "POST", "/graphql", jsonCT, gql)
		refused(t, "GraphQL body over 1 MiB", code, b, []int{413}, "")
		pdf := append(testdocs.PDF(testdocs.Page{Lines: testdocs.InvoiceLines}), bytes.Repeat([]byte("\n%pad"), 300_000)...)
		body, ct := multipartFile("file", "big.pdf", pdf)
		code, _, b = s.hdo(t, s.sub, "POST", "/api/v1/uploads", ct, body)
		refused(t, "upload over the limit", code, b, []int{413}, "limit")
	})

	t.Run("GraphQL depth and aliases", func(t *testing.T) {
		deep := "{ ocrInvoiceJobs { edges { node { " + strings.Repeat("template { jobs { edges { node { ", 8) + "id" + strings.Repeat(" } } } }", 8) + " } } } }"
		nested := strings.Repeat("{ __typename ", 10_000) + strings.Repeat("}", 10_000)
		var aliases strings.Builder
		aliases.WriteString("{")
		for i := range 1000 {
			fmt.Fprintf(&aliases, " a%d: __typename", i)
		}
		aliases.WriteString(" }")
		var fields strings.Builder
		fields.WriteString("{ ocrTemplates { edges { node {")
		for range 2000 {
			fields.WriteString(" id")
		}
		fields.WriteString(" } } } }")
		for _, tc := range []struct{ name, query, want string }{
			{"deep", deep, "DEPTH"},
			{"10,000 nested selections", nested, ""},
			{"1,000 aliases", aliases.String(), "alias"},
			{"2,000 fields", fields.String(), ""},
		} {
			body, _ := json.Marshal(map[string]any{"query": tc.query})
			code, _, b := s.hdo(t, s.sub, "POST", "/graphql", jsonCT, body)
			noLeak(t, tc.name, b)
			var out struct {
				Data   json.RawMessage `json:"data"`
				Errors []any           `json:"errors"`
			}
			_ = json.Unmarshal(b, &out)
			if code >= 500 || len(out.Errors) == 0 {
				t.Errorf("%s: HTTP %d, no error: %.300s", tc.name, code, b)
			}
			if tc.want != "" && !strings.Contains(strings.ToLower(string(b)), strings.ToLower(tc.want)) {
				t.Errorf("%s: the answer does not say %q: %.300s", tc.name, tc.want, b)
			}
		}
	})

	t.Run("filters", func(t *testing.T) {
		nested := strings.Repeat(`{"$or":[`, 10_000) + `{"status":"created"}` + strings.Repeat(`]}`, 10_000)
		deep := strings.Repeat(`{"$and":[`, 1000) + `{}` + strings.Repeat(`]}`, 1000)
		wide := `{"$or":[` + strings.TrimSuffix(strings.Repeat(`{},`, 5000), ",") + `]}`
		for _, tc := range []struct{ name, query, want string }{
			{"10,000 nested $or", "filter=" + url.QueryEscape(nested), "the limit is"},
			{"1,000 nested $and", "filter=" + url.QueryEscape(deep), "nested deeper than"},
			{"5,000-wide $or", "filter=" + url.QueryEscape(wide), "conditions"},
			{"invalid UTF-8 in a filter", "filter=" + url.QueryEscape("{\"jobNumber\":\"\xff\"}"), "UTF-8"},
			{"NUL in a filter", "filter=" + url.QueryEscape(`{"jobNumber":"a\u0000"}`), "NUL"},
			{"huge sort", "sort=" + strings.Repeat("x", 100_000), "sort"},
			{"SQL in sort", "sort=" + url.QueryEscape("createdAt; DROP TABLE ocr_invoice_jobs"), "sort"},
			{"odd order", "order=" + url.QueryEscape("asc, 1"), "order"},
			{"huge limit", "limit=99999999999999999999", "limit"},
			{"negative offset", "offset=-1", "offset"},
		} {
			code, _, b := s.hdo(t, s.sub, "GET", jobs+"?"+tc.query, "", nil)
			refused(t, tc.name, code, b, []int{400}, tc.want)
		}
	})

	t.Run("header floods", func(t *testing.T) {
		code := rawHTTP(t, s.p.addr, func(w *bufio.Writer) {
			fmt.Fprintf(w, "GET /readyz HTTP/1.1\r\nHost: x\r\n")
			pad := strings.Repeat("a", 100)
			for i := range 10_000 {
				fmt.Fprintf(w, "X-Flood-%d: %s\r\n", i, pad)
			}
			w.WriteString("\r\n")
		})
		if code != http.StatusRequestHeaderFieldsTooLarge {
			t.Errorf("10,000 headers over 1 MiB: HTTP %d, want 431", code)
		}
		code = rawHTTP(t, s.p.addr, func(w *bufio.Writer) {
			fmt.Fprintf(w, "GET /readyz HTTP/1.1\r\nHost: x\r\nX-Big: %s\r\n\r\n", strings.Repeat("b", 2<<20))
		})
		if code != http.StatusRequestHeaderFieldsTooLarge {
			t.Errorf("one 2 MiB header: HTTP %d, want 431", code)
		}
	})

	t.Run("invalid UTF-8 and NUL", func(t *testing.T) {
		for _, tc := range []struct{ name, body, field string }{
			{"NUL in jobNumber", `{"jobNumber":"H-\u0000","documentName":"a.pdf","documentUrl":"http://127.0.0.1:9/a.pdf","template":"generic"}`, "jobNumber"},
			{"NUL in documentName", `{"jobNumber":"H-N2","documentName":"a\u0000.pdf","documentUrl":"http://127.0.0.1:9/a.pdf","template":"generic"}`, "documentName"},
			{"control character in documentUrl", `{"jobNumber":"H-N4","documentName":"a.pdf","documentUrl":"http://127.0.0.1:9/\u001b.pdf","template":"generic"}`, "documentUrl"},
			{"malformed JSON with invalid UTF-8", "{\"jobNumber\":\xff}", ""},
		} {
			code, _, b := s.hdo(t, s.sub, "POST", jobs, jsonCT, []byte(tc.body))
			refused(t, tc.name, code, b, []int{400}, tc.field)
		}
		// Raw invalid UTF-8 inside a JSON string: refused before encoding/json could turn
		// it into U+FFFD.
		code, _, b := s.hdo(t, s.sub, "POST", jobs, jsonCT, []byte("{\"jobNumber\":\"H-U\xff\",\"documentName\":\"a.pdf\",\"documentUrl\":\"http://127.0.0.1:9/a.pdf\",\"template\":\"generic\"}"))
		refused(t, "invalid UTF-8 in a JSON string", code, b, []int{400}, "")
		if !strings.Contains(string(b), "UTF-8") {
			t.Errorf("invalid UTF-8 body: the error does not say why: %.300s", b)
		}
		gql, _ := json.Marshal(map[string]any{"query": `mutation($in: CreateOcrInvoiceJobInput!) { createOcrInvoiceJob(input: $in) { id } }`,
			"variables": map[string]any{"in": map[string]any{"jobNumber": "H-G\x00", "documentName": "a.pdf", "documentURL": "http://127.0.0.1:9/a.pdf", "templateID": "generic"}}})
		code, _, b = s.hdo(t, s.sub, "POST", "/graphql", jsonCT, gql)
		noLeak(t, "GraphQL NUL in jobNumber", b)
		if code >= 500 || !strings.Contains(string(b), "jobNumber") {
			t.Errorf("GraphQL NUL in jobNumber: %d %.300s", code, b)
		}
		// Query strings: raw invalid bytes and NUL in a search are a 400 naming search.
		for _, q := range []string{"search=%FF%FE", "search=a%00b", "search=%C3"} {
			for _, path := range []string{jobs, "/api/v1/ocr-job-groups", "/api/v1/ocr-templates"} {
				code, _, b := s.hdo(t, s.sub, "GET", path+"?"+q, "", nil)
				refused(t, "GET "+path+"?"+q, code, b, []int{400}, "search")
			}
		}
	})

	t.Run("SQL-looking searches", func(t *testing.T) {
		for _, term := range []string{"'; DROP TABLE ocr_invoice_jobs; --", "%' OR '1'='1", `\`, "%", "_", "' UNION SELECT * FROM api_keys --"} {
			for _, path := range []string{jobs, "/api/v1/ocr-job-groups", "/api/v1/ocr-templates"} {
				code, _, b := s.hdo(t, s.admin, "GET", path+"?search="+url.QueryEscape(term), "", nil)
				noLeak(t, "search "+term, b)
				if code != 200 || !strings.Contains(string(b), `"total":0`) {
					t.Errorf("GET %s?search=%q: %d %.300s, want 200 and no match", path, term, code, b)
				}
			}
		}
		code, _, b := s.hdo(t, s.admin, "GET", jobs+"?search=H-BASE", "", nil)
		if code != 200 || !strings.Contains(string(b), `"total":1`) {
			t.Errorf("a genuine search: %d %.300s", code, b)
		}
	})

	t.Run("uploads", func(t *testing.T) {
		pdf := testdocs.PDF(testdocs.Page{Lines: []string{"traversal"}})
		for _, name := range []string{"../../etc/passwd", "/etc/passwd", `..\..\windows\win.ini`, "a\x00b.pdf", "in\r\nvoice.pdf", strings.Repeat("n", 5000) + ".pdf"} {
			body, ct := multipartFile("file", name, pdf)
			code, _, b := s.hdo(t, s.sub, "POST", "/api/v1/uploads", ct, body)
			noLeak(t, "upload "+name, b)
			if code != http.StatusCreated {
				if code >= 500 || code < 400 {
					t.Errorf("upload named %.40q: %d %.300s", name, code, b)
				}
				continue
			}
			var up struct {
				Data struct {
					DocumentName string `json:"documentName"`
					DocumentURL  string `json:"documentUrl"`
				} `json:"data"`
			}
			decode(t, b, &up)
			n := up.Data.DocumentName
			if strings.ContainsAny(n, "/\\\x00\r\n") || n == ".." || len(n) > 1100 {
				t.Errorf("upload named %.40q reported documentName %.60q", name, n)
			}
		}
		var zipBuf bytes.Buffer
		zipBuf.WriteString("PK\x03\x04\x14\x00\x00\x00\x00\x00")
		zipBuf.Write(pdf)
		body, ct := multipartFile("file", "invoice.pdf", zipBuf.Bytes())
		code, _, b := s.hdo(t, s.sub, "POST", "/api/v1/uploads", ct, body)
		refused(t, "zip upload", code, b, []int{415}, "not a PDF")
	})

	t.Run("URLs aimed at internal addresses", func(t *testing.T) {
		create := func(n int, docURL, cbURL string) (int, []byte) {
			m := map[string]any{"jobNumber": fmt.Sprintf("H-SSRF-%d", n), "documentName": "a.pdf", "documentUrl": docURL, "template": "generic"}
			if cbURL != "" {
				m["callbackUrl"] = cbURL
			}
			body, _ := json.Marshal(m)
			code, _, b := s.hdo(t, s.sub, "POST", jobs, jsonCT, body)
			return code, b
		}
		n := 0
		for _, u := range []string{
			"http://169.254.169.254/latest/meta-data", "http://0.0.0.0/a.pdf", "http://2130706433/a.pdf", "http://0x7f.0.0.1/a.pdf",
			"http://metadata.google.internal/computeMetadata/v1/", "http://[fe80::1%25eth0]/a.pdf", "file:///etc/passwd", "gopher://127.0.0.1:6379/_INFO",
		} {
			n++
			code, b := create(n, u, "")
			refused(t, "documentUrl "+u, code, b, []int{400}, "documentUrl")
			n++
			code, b = create(n, "https://files.example.com/a.pdf", u)
			refused(t, "callbackUrl "+u, code, b, []int{400}, "callbackUrl")
		}
		// Private and loopback literals outside the allow-list (this stack opens
		// 127.0.0.0/8 only) are refused when the job is created, naming the rule and the
		// setting that would open them; the worker's guard refuses the same addresses, and
		// names resolving to them, on every dial.
		for _, tc := range []struct{ url, rule string }{
			{"http://10.0.0.1/a.pdf", "private"},
			{"http://[::1]:9/a.pdf", "loopback"},
			{"http://[fd00::1]/a.pdf", "unique-local"},
			{"http://[fec0::1]/a.pdf", "site-local"},
			{"http://[::ffff:192.168.0.1]/a.pdf", "private"},
			{"http://192.168.7.7/a.pdf", "private"},
		} {
			n++
			code, b := create(n, tc.url, "")
			refused(t, "documentUrl "+tc.url, code, b, []int{400}, tc.rule)
			if !strings.Contains(string(b), "OCRINVOICE_FETCH_ALLOW_CIDRS") {
				t.Errorf("documentUrl %s: the error does not name the setting: %.300s", tc.url, b)
			}
			n++
			code, b = create(n, "https://files.example.com/a.pdf", strings.Replace(tc.url, "/a.pdf", "/hook", 1))
			refused(t, "callbackUrl "+tc.url, code, b, []int{400}, "callbackUrl")
		}
	})

	t.Run("PDF bomb", func(t *testing.T) {
		body, ct := multipartFile("file", "bomb.pdf", pdfBomb(t))
		code, _, b := s.hdo(t, s.sub, "POST", "/api/v1/uploads", ct, body)
		if code != http.StatusCreated {
			t.Fatalf("upload the bomb: %d %s", code, b)
		}
		var up struct {
			Data struct {
				DocumentURL string `json:"documentUrl"`
			} `json:"data"`
		}
		decode(t, b, &up)
		start := time.Now()
		code, _, b = s.hdo(t, s.sub, "POST", jobs, jsonCT, []byte(`{"jobNumber":"H-BOMB","documentName":"bomb.pdf","documentUrl":"`+up.Data.DocumentURL+`","template":"generic"}`))
		if code != http.StatusCreated {
			t.Fatalf("create the bomb job: %d %s", code, b)
		}
		var env struct {
			Data map[string]any `json:"data"`
		}
		decode(t, b, &env)
		id := fmt.Sprint(env.Data["_id"])
		s.onPurposeIDs = append(s.onPurposeIDs, id)
		j := waitHostileJob(t, s, id, 30*time.Second)
		if j["status"] != "failed" || !strings.Contains(fmt.Sprint(j["errorLog"]), "decompression bomb") || fmt.Sprint(j["retryCount"]) != "0" {
			t.Errorf("bomb job: status %v, retryCount %v, errorLog %v; want failed at once as a decompression bomb", j["status"], j["retryCount"], j["errorLog"])
		}
		noLeak(t, "bomb job", []byte(fmt.Sprint(j["errorLog"])))
		t.Logf("the bomb job failed in %s: %v", time.Since(start).Round(time.Millisecond), j["errorLog"])
	})

	// Still answering, and nothing changed but the jobs created on purpose.
	if code, _, b := s.hdo(t, "", "GET", "/readyz", "", nil); code != http.StatusOK {
		t.Errorf("/readyz after the suite: %d %s", code, b)
	}
	if code, _, b := s.hdo(t, s.sub, "GET", jobs+"?search=H-BASE", "", nil); code != http.StatusOK || !strings.Contains(string(b), `"total":1`) {
		t.Errorf("a normal request after the suite: %d %.300s", code, b)
	}
	after := s.snapshot(t)
	if after.jobs != before.jobs {
		t.Errorf("the jobs changed:\nbefore %s\nafter  %s", before.jobs, after.jobs)
	}
	if after.groups != before.groups || after.templates != before.templates {
		t.Errorf("groups or templates changed:\nbefore %s %s\nafter  %s %s", before.groups, before.templates, after.groups, after.templates)
	}
	want := map[string]int{}
	for k, v := range before.counts {
		want[k] = v
	}
	want["jobs"] += len(s.onPurposeIDs)
	for k, v := range want {
		if after.counts[k] != v {
			t.Errorf("%s: %d rows after the suite, want %d (before %d)", k, after.counts[k], v, before.counts[k])
		}
	}
}

// waitHostileJob polls a job as the admin until it is completed or failed.
func waitHostileJob(t *testing.T, s *hostileStack, id string, limit time.Duration) map[string]any {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		code, _, b := s.hdo(t, s.admin, "GET", "/api/v1/ocr-invoice-jobs/"+id, "", nil)
		var env struct {
			Data map[string]any `json:"data"`
		}
		if code != http.StatusOK {
			t.Fatalf("GET job %s: %d %s", id, code, b)
		}
		decode(t, b, &env)
		if st := env.Data["status"]; st == "completed" || st == "failed" {
			return env.Data
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %s still %v after %s", id, env.Data["status"], limit)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
