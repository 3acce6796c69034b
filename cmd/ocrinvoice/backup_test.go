package main

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ocrinvoice/ocrinvoice/internal/testdocs"
)

// uploadPDF uploads the test invoice through REST and returns its documentUrl and key.
func (p *process) uploadPDF(t *testing.T) (url, key string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, _ := mw.CreateFormFile("file", "invoice.pdf")
	fw.Write(testdocs.PDF(testdocs.Page{Lines: testdocs.InvoiceLines}))
	mw.Close()
	code, b := p.postMultipart(t, "/api/v1/uploads", mw.FormDataContentType(), buf.Bytes())
	if code != http.StatusCreated {
		t.Fatalf("upload: %d %s", code, b)
	}
	var up struct {
		Data struct {
			DocumentURL string `json:"documentUrl"`
			SHA256      string `json:"sha256"`
		} `json:"data"`
	}
	decode(t, b, &up)
	return up.Data.DocumentURL, up.Data.SHA256
}

// sqliteJobs opens the SQLite file at path, checks its integrity and returns the ids of
// its jobs.
func sqliteJobs(t *testing.T, path string) map[string]bool {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var res string
	if err := db.QueryRow("PRAGMA integrity_check").Scan(&res); err != nil || res != "ok" {
		t.Fatalf("integrity_check of %s: %q, %v", path, res, err)
	}
	rows, err := db.Query("SELECT id FROM ocr_invoice_jobs")
	if err != nil {
		t.Fatalf("read jobs of %s: %v", path, err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		out[id] = true
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestBackupWhileRunningAndRestore backs up a running `all` while clients keep creating
// jobs and its worker keeps updating them, restores the archive into a fresh data
// directory and runs `all` on it: the restored database passes integrity_check, holds
// every job committed before the backup started, and the upload is there and readable by
// the worker (a job naming it completes with the invoice's data).
func TestBackupWhileRunningAndRestore(t *testing.T) {
	env := testEnv(t, map[string]string{"OCRINVOICE_FETCH_ALLOW_CIDRS": "127.0.0.0/8"})
	p := start(t, env, "all", "--concurrency", "2")
	uploadURL, key := p.uploadPDF(t)

	before := map[string]bool{}
	for i := 0; i < 5; i++ {
		before[p.createJob(t, fmt.Sprintf("BK-BEFORE-%d", i))["_id"].(string)] = true
	}

	// Writers create jobs until told to stop; their failures are reported afterwards.
	var (
		created   atomic.Int64
		stop      = make(chan struct{})
		wg        sync.WaitGroup
		errMu     sync.Mutex
		writerErr []string
	)
	for w := 0; w < 3; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				body := fmt.Sprintf(`{"jobNumber": "BK-DURING-%d-%d", "documentName": "invoice.pdf",
					"documentUrl": "http://127.0.0.1:9/invoice.pdf", "template": "generic"}`, w, i)
				resp, err := client.Post("http://"+p.addr+"/api/v1/ocr-invoice-jobs", "application/json", strings.NewReader(body))
				if err == nil {
					b, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					if resp.StatusCode == http.StatusTooManyRequests {
						// The writers outrun the per-address limit when the backup takes a
						// while; a client waits and writes on, as this one does.
						time.Sleep(50 * time.Millisecond)
						continue
					}
					if resp.StatusCode != http.StatusCreated {
						err = fmt.Errorf("status %d %s", resp.StatusCode, b)
					}
				}
				if err != nil {
					errMu.Lock()
					writerErr = append(writerErr, err.Error())
					errMu.Unlock()
					return
				}
				created.Add(1)
			}
		}(w)
	}
	for created.Load() < 5 {
		time.Sleep(10 * time.Millisecond)
	}
	file := filepath.Join(t.TempDir(), "ocrinvoice-backup.tar.gz")
	var out, errb syncBuffer
	startedAt := created.Load()
	if err := run(context.Background(), []string{"backup", "--to", file}, env, &out, &errb); err != nil {
		t.Fatalf("backup: %v\n%s", err, errb.String())
	}
	during := created.Load() - startedAt
	time.Sleep(100 * time.Millisecond) // a few writes after the backup too
	close(stop)
	wg.Wait()
	if len(writerErr) > 0 {
		t.Fatalf("writers failed: %v", writerErr)
	}
	if during == 0 {
		t.Error("no job was created while the backup ran: the test proves nothing about consistency")
	}
	t.Logf("%d jobs created while the backup ran; %s", during, strings.TrimSpace(out.String()))
	if _, err := os.Stat(file + ".tmp"); !os.IsNotExist(err) {
		t.Errorf("backup left %s.tmp: %v", file, err)
	}
	total := 5 + created.Load()

	// The archive is gzip-compressed (.gz) and ends with its manifest.
	m, err := verifyBackup(context.Background(), file)
	if err != nil {
		t.Fatalf("verify the archive: %v", err)
	}
	if m.Database != "sqlite" || m.Counts["uploadFiles"] != 1 || m.Counts["uploads"] != 1 ||
		m.Counts["jobs"] < len(before) || int64(m.Counts["jobs"]) > total || m.Members[0].Name != backupDBName {
		t.Errorf("manifest %+v (jobs created in all: %d)", m, total)
	}
	if b, _ := os.ReadFile(file); len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b {
		t.Error("a .tar.gz backup is not gzip-compressed")
	}
	if err := p.stop(t); err != nil {
		t.Fatalf("all: %v", err)
	}

	env2 := testEnv(t, map[string]string{"OCRINVOICE_FETCH_ALLOW_CIDRS": "127.0.0.0/8"})
	out, errb = syncBuffer{}, syncBuffer{}
	if err := run(context.Background(), []string{"restore", "--from", file}, env2, &out, &errb); err != nil {
		t.Fatalf("restore: %v\n%s", err, errb.String())
	}
	jobs := sqliteJobs(t, filepath.Join(env2("OCRINVOICE_DATA_DIR"), "ocrinvoice.db"))
	for id := range before {
		if !jobs[id] {
			t.Errorf("job %s, committed before the backup, is not in the restored database", id)
		}
	}
	if len(jobs) != m.Counts["jobs"] {
		t.Errorf("restored database holds %d jobs, the manifest counted %d", len(jobs), m.Counts["jobs"])
	}

	q := start(t, env2, "all", "--concurrency", "1")
	for id := range before {
		code, b := q.request(t, "GET", "/api/v1/ocr-invoice-jobs/"+id, "")
		if code != 200 || !strings.Contains(string(b), `"BK-BEFORE-`) {
			t.Errorf("restored job %s: %d %s", id, code, b)
		}
	}
	code, b := q.request(t, "POST", "/api/v1/ocr-invoice-jobs", fmt.Sprintf(
		`{"jobNumber": "BK-RESTORED-UPLOAD", "documentName": "invoice.pdf", "documentUrl": %q, "template": "generic"}`, uploadURL))
	if code != http.StatusCreated {
		t.Fatalf("job naming the restored upload %s: %d %s", key, code, b)
	}
	var createdJob struct {
		Data map[string]any `json:"data"`
	}
	decode(t, b, &createdJob)
	job := q.waitJob(t, createdJob.Data["_id"].(string), 60*time.Second)
	if job["status"] != "completed" {
		t.Fatalf("job on the restored upload %v: %v", job["status"], job["errorLog"])
	}
	code, b = q.request(t, "GET", "/api/v1/ocr-invoice-jobs/"+createdJob.Data["_id"].(string)+"/results", "")
	if code != 200 || !strings.Contains(string(b), "INV-2024-0042") {
		t.Errorf("results of the job on the restored upload: %d %s", code, b)
	}
}

// backupFixture makes a data directory with a migrated SQLite database and one upload,
// backs it up to a plain tar and returns the archive and the upload's bytes.
func backupFixture(t *testing.T) (archive string, doc []byte) {
	t.Helper()
	env := testEnv(t, nil)
	var out, errb syncBuffer
	if err := run(context.Background(), []string{"migrate"}, env, &out, &errb); err != nil {
		t.Fatalf("migrate: %v\n%s", err, errb.String())
	}
	doc = testdocs.PDF(testdocs.Page{Lines: testdocs.InvoiceLines})
	sum := sha256.Sum256(doc)
	dir := filepath.Join(env("OCRINVOICE_DATA_DIR"), "uploads")
	if err := os.MkdirAll(dir, 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, hex.EncodeToString(sum[:])), doc, 0o600); err != nil {
		t.Fatal(err)
	}
	archive = filepath.Join(t.TempDir(), "b.tar")
	if err := run(context.Background(), []string{"backup", "--to", archive}, env, &out, &errb); err != nil {
		t.Fatalf("backup: %v\n%s", err, errb.String())
	}
	return archive, doc
}

// memberOffset returns where the content of the archive member name starts in the plain
// tar at path.
func memberOffset(t *testing.T, path, name string) int64 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		hdr, err := tr.Next()
		if err != nil {
			t.Fatalf("no member %s in %s: %v", name, path, err)
		}
		if hdr.Name == name || strings.HasPrefix(hdr.Name, name) {
			off, _ := f.Seek(0, io.SeekCurrent)
			return off
		}
	}
}

// TestRestoreRefuses checks that restore writes nothing for an archive that is corrupt,
// truncated, foreign or over-full, and for a data directory that already holds a
// database unless --force is given.
func TestRestoreRefuses(t *testing.T) {
	archive, doc := backupFixture(t)
	good, err := os.ReadFile(archive)
	if err != nil {
		t.Fatal(err)
	}
	uploadAt := memberOffset(t, archive, backupUploadsDir)
	dbAt := memberOffset(t, archive, backupDBName)
	// An extra member after the manifest, appended to a copy of the good archive.
	var extra bytes.Buffer
	{
		tr := tar.NewReader(bytes.NewReader(good))
		tw := tar.NewWriter(&extra)
		for {
			hdr, err := tr.Next()
			if err != nil {
				break
			}
			tw.WriteHeader(hdr)
			io.Copy(tw, tr)
		}
		tw.WriteHeader(&tar.Header{Name: backupUploadsDir + strings.Repeat("a", 64), Size: 1, Mode: 0o600, Typeflag: tar.TypeReg})
		tw.Write([]byte("x"))
		tw.Close()
	}
	flip := func(at int64) []byte {
		b := bytes.Clone(good)
		b[at+10] ^= 0xff
		return b
	}
	tests := []struct {
		name    string
		archive []byte
		want    string
	}{
		{"upload bytes flipped", flip(uploadAt), "does not match the manifest"},
		{"database bytes flipped", flip(dbAt), "does not match the manifest"},
		{"truncated in a member", good[:uploadAt+int64(len(doc)/2)], "truncated"},
		{"truncated before the manifest", good[:len(good)-3000], "truncated"},
		{"not an archive", []byte("hello, this is not a tar file at all, but a rather long line of text" + strings.Repeat(".", 600)), "corrupt"},
		{"member after the manifest", extra.Bytes(), "follows the manifest"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "bad.tar")
			if err := os.WriteFile(path, tc.archive, 0o600); err != nil {
				t.Fatal(err)
			}
			env := testEnv(t, nil)
			var out, errb syncBuffer
			err := run(context.Background(), []string{"restore", "--from", path}, env, &out, &errb)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("restore: %v, want an error containing %q", err, tc.want)
			}
			if entries, _ := os.ReadDir(env("OCRINVOICE_DATA_DIR")); len(entries) > 0 {
				t.Errorf("a refused restore wrote %v into the data directory", entries)
			}
		})
	}

	t.Run("existing database needs --force", func(t *testing.T) {
		env := testEnv(t, nil)
		var out, errb syncBuffer
		if err := run(context.Background(), []string{"migrate"}, env, &out, &errb); err != nil {
			t.Fatal(err)
		}
		dbPath := filepath.Join(env("OCRINVOICE_DATA_DIR"), "ocrinvoice.db")
		old, _ := os.ReadFile(dbPath)
		err := run(context.Background(), []string{"restore", "--from", archive}, env, &out, &errb)
		if err == nil || !strings.Contains(err.Error(), "--force") {
			t.Fatalf("restore over a database: %v, want a refusal naming --force", err)
		}
		if now, _ := os.ReadFile(dbPath); !bytes.Equal(now, old) {
			t.Error("the refused restore changed the existing database")
		}
		if _, err := os.Stat(filepath.Join(env("OCRINVOICE_DATA_DIR"), "uploads")); !os.IsNotExist(err) {
			t.Errorf("the refused restore created the uploads directory: %v", err)
		}
		if err := run(context.Background(), []string{"restore", "--force", "--from", archive}, env, &out, &errb); err != nil {
			t.Fatalf("restore --force: %v", err)
		}
		sqliteJobs(t, dbPath)
		sum := sha256.Sum256(doc)
		if got, err := os.ReadFile(filepath.Join(env("OCRINVOICE_DATA_DIR"), "uploads", hex.EncodeToString(sum[:]))); err != nil || !bytes.Equal(got, doc) {
			t.Errorf("restored upload: %d bytes, %v", len(got), err)
		}
	})

	t.Run("backup of a missing database", func(t *testing.T) {
		env := testEnv(t, nil)
		to := filepath.Join(t.TempDir(), "x.tar")
		var out, errb syncBuffer
		err := run(context.Background(), []string{"backup", "--to", to}, env, &out, &errb)
		if err == nil || !strings.Contains(err.Error(), "no database at") {
			t.Fatalf("backup without a database: %v", err)
		}
		if entries, _ := os.ReadDir(filepath.Dir(to)); len(entries) > 0 {
			t.Errorf("a failed backup left %v", entries)
		}
	})
}

// TestBackupPostgresArchivesUploadsOnly: on PostgreSQL the archive holds the uploads and
// no database, and the command prints the pg_dump line.
func TestBackupPostgresArchivesUploadsOnly(t *testing.T) {
	pg := os.Getenv("TEST_DATABASE_URL")
	if pg == "" {
		t.Skip("TEST_DATABASE_URL not set: PostgreSQL run skipped")
	}
	env := testEnv(t, map[string]string{"DATABASE_URL": postgresSchemaURL(t, pg)})
	dir := filepath.Join(env("OCRINVOICE_DATA_DIR"), "uploads")
	doc := testdocs.PDF(testdocs.Page{Lines: testdocs.InvoiceLines})
	sum := sha256.Sum256(doc)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, hex.EncodeToString(sum[:])), doc, 0o600); err != nil {
		t.Fatal(err)
	}
	to := filepath.Join(t.TempDir(), "pg.tar")
	var out, errb syncBuffer
	if err := run(context.Background(), []string{"backup", "--to", to}, env, &out, &errb); err != nil {
		t.Fatalf("backup: %v", err)
	}
	if !strings.Contains(out.String(), "pg_dump") {
		t.Errorf("backup on PostgreSQL does not print the pg_dump line:\n%s", out.String())
	}
	m, err := verifyBackup(context.Background(), to)
	if err != nil {
		t.Fatal(err)
	}
	if m.Database != "postgres" || len(m.Members) != 1 || m.Members[0].Name != backupUploadsDir+hex.EncodeToString(sum[:]) {
		b, _ := json.Marshal(m)
		t.Errorf("manifest %s", b)
	}

	// Restore into another data directory on PostgreSQL: the uploads only, and nothing
	// beside them (no SQLite file, no temporary file).
	env2 := testEnv(t, map[string]string{"DATABASE_URL": postgresSchemaURL(t, pg)})
	out, errb = syncBuffer{}, syncBuffer{}
	if err := run(context.Background(), []string{"restore", "--from", to}, env2, &out, &errb); err != nil {
		t.Fatalf("restore: %v", err)
	}
	if got, err := os.ReadFile(filepath.Join(env2("OCRINVOICE_DATA_DIR"), "uploads", hex.EncodeToString(sum[:]))); err != nil || !bytes.Equal(got, doc) {
		t.Errorf("restored upload: %d bytes, %v", len(got), err)
	}
	if entries, _ := os.ReadDir(env2("OCRINVOICE_DATA_DIR")); len(entries) != 1 {
		t.Errorf("restore on PostgreSQL wrote %v, want the uploads directory only", entries)
	}
	// A SQLite archive is refused on PostgreSQL before anything is written.
	archive, _ := backupFixture(t)
	env3 := testEnv(t, map[string]string{"DATABASE_URL": postgresSchemaURL(t, pg)})
	err = run(context.Background(), []string{"restore", "--from", archive}, env3, &out, &errb)
	if err == nil || !strings.Contains(err.Error(), "PostgreSQL") {
		t.Errorf("restore of a SQLite archive on PostgreSQL: %v", err)
	}
	if entries, _ := os.ReadDir(env3("OCRINVOICE_DATA_DIR")); len(entries) > 0 {
		t.Errorf("a refused restore wrote %v", entries)
	}
}
