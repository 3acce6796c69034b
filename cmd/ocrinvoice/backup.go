package main

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/mattn/go-sqlite3"

	"github.com/ocrinvoice/ocrinvoice/internal/config"
	"github.com/ocrinvoice/ocrinvoice/internal/database"
	"github.com/ocrinvoice/ocrinvoice/internal/uploads"
)

const backupUsage = `Usage:
  ocrinvoice backup --to FILE [--data-dir DIR] [--database-url URL]

Write the SQLite database and the uploaded documents of a data directory to FILE, one
tar archive (gzip-compressed when FILE ends in .gz or .tgz). It may run while serve, all
or worker use the data directory: the database is copied with SQLite's online backup
API, a consistent snapshot that does not stop writers, and the uploads are copied after
it, so every upload the snapshot names is in the archive.

The archive ends with manifest.json: format version, time, database kind, row counts and
the SHA-256 of every member. The archive is written to FILE.tmp and renamed to FILE when
complete; a failed backup leaves no FILE.

With PostgreSQL (DATABASE_URL postgres://...) only the uploads are archived and the
command prints the pg_dump line that backs up the database.

The database is DATABASE_URL (or DATABASE_URL_FILE, or --database-url; default: the
SQLite file in OCRINVOICE_DATA_DIR or --data-dir); the uploads are in DIR/uploads.
`

// Names inside a backup archive. Members are the database (SQLite only), one
// "uploads/KEY" per stored document, then the manifest, last.
const (
	backupFormat     = "ocrinvoice-backup"
	backupVersion    = 1
	backupDBName     = "ocrinvoice.db"
	backupUploadsDir = "uploads/"
	backupManifest   = "manifest.json"
	// backupManifestMax bounds the manifest a restore reads into memory.
	backupManifestMax = 64 << 20
)

// backupManifestDoc describes an archive. Members lists every other member of the archive
// in order, with its size and SHA-256; a restore refuses an archive whose members differ.
type backupManifestDoc struct {
	Format            string    `json:"format"`  // backupFormat
	Version           int       `json:"version"` // backupVersion
	CreatedAt         time.Time `json:"createdAt"`
	OcrinvoiceVersion string    `json:"ocrinvoiceVersion"`
	// Database is "sqlite" (archived as backupDBName) or "postgres" (not archived).
	Database string `json:"database"`
	// Counts are the rows of the archived database (jobs, groups, templates, apiKeys,
	// uploads) and the uploaded documents archived (uploadFiles).
	Counts  map[string]int `json:"counts"`
	Members []backupMember `json:"members"`
	// Notes are printed after a backup or restore (the pg_dump line, for PostgreSQL).
	Notes []string `json:"notes,omitempty"`
}

type backupMember struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// backupCommand writes a backup archive; see backupUsage.
func backupCommand() *command {
	return &command{
		name: "backup", summary: "archive the SQLite database and the uploads (also while running)",
		usage: backupUsage,
		setup: func(fs *flag.FlagSet, e *cmdEnv) runFunc {
			var to string
			var d databaseFlags
			fs.StringVar(&to, "to", "", "archive `FILE` to write (gzip-compressed when it ends in .gz or .tgz)")
			d.register(fs)
			return func(ctx context.Context, args []string) error {
				if len(args) > 0 {
					return usageErrorf("backup", "unexpected argument %q", args[0])
				}
				if to == "" {
					return usageErrorf("backup", "--to FILE is required")
				}
				cfg, err := d.load(e.getenv)
				if err != nil {
					return fmt.Errorf("backup: %w", err)
				}
				if err := requireDatabase("backup", cfg, e.getenv, d.dbURL != ""); err != nil {
					return err
				}
				m, err := writeBackup(ctx, cfg, to)
				if err != nil {
					return fmt.Errorf("backup: %w", err)
				}
				fmt.Fprintf(e.stdout, "Backed up %s to %s\n", m.summary(), to)
				m.printNotes(e.stdout)
				return nil
			}
		},
	}
}

// printNotes prints the notes of a backup or restore, one a line.
func (m backupManifestDoc) printNotes(w io.Writer) {
	for _, n := range m.Notes {
		fmt.Fprintln(w, n)
	}
}

// summary says what the archive holds, in words.
func (m backupManifestDoc) summary() string {
	files := fmt.Sprintf("%d uploaded documents", m.Counts["uploadFiles"])
	if m.Database != "sqlite" {
		return files + " (no database: " + m.Database + ")"
	}
	return fmt.Sprintf("the SQLite database (%d jobs, %d groups, %d templates, %d API keys, %d uploads) and %s",
		m.Counts["jobs"], m.Counts["groups"], m.Counts["templates"], m.Counts["apiKeys"], m.Counts["uploads"], files)
}

// cfgArgs turns the database and data-dir flags of a maintenance command into config
// arguments.
func cfgArgs(dbURL, dataDir string) []string {
	var out []string
	if dbURL != "" {
		out = append(out, "--database-url", dbURL)
	}
	if dataDir != "" {
		out = append(out, "--data-dir", dataDir)
	}
	return out
}

// writeBackup writes the archive of cfg's database and uploads to FILE.tmp, then renames
// it to to. On error nothing is left at to or to.tmp.
func writeBackup(ctx context.Context, cfg config.Config, to string) (m backupManifestDoc, err error) {
	m = backupManifestDoc{Format: backupFormat, Version: backupVersion, CreatedAt: time.Now().UTC(),
		OcrinvoiceVersion: version, Counts: map[string]int{}}
	tmp := to + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return m, fmt.Errorf("create %s: %w", tmp, err)
	}
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(tmp)
		}
	}()
	var w io.Writer = f
	var gz *gzip.Writer
	if strings.HasSuffix(to, ".gz") || strings.HasSuffix(to, ".tgz") {
		gz = gzip.NewWriter(f)
		w = gz
	}
	tw := tar.NewWriter(w)

	// The database first: the uploads are copied after the snapshot, so every upload it
	// names is in the archive (uploads are only ever added, or removed once unreferenced).
	if path, ok := cfg.SQLitePath(); ok {
		m.Database = "sqlite"
		if err := backupSQLite(ctx, path, to, tw, &m); err != nil {
			return m, err
		}
	} else {
		m.Database = "postgres"
		m.Notes = append(m.Notes, "The PostgreSQL database is not in the archive; back it up with:\n"+
			`  pg_dump --format=custom --file=ocrinvoice.pgdump "$DATABASE_URL"`+"\n"+
			`and restore it with: pg_restore --clean --if-exists --dbname="$DATABASE_URL" ocrinvoice.pgdump`)
	}
	n, err := backupUploads(ctx, cfg.UploadDir(), tw, &m)
	if err != nil {
		return m, err
	}
	m.Counts["uploadFiles"] = n

	doc, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return m, fmt.Errorf("encode manifest: %w", err)
	}
	if err := tw.WriteHeader(&tar.Header{Name: backupManifest, Mode: 0o600, Size: int64(len(doc)), ModTime: m.CreatedAt, Typeflag: tar.TypeReg}); err != nil {
		return m, fmt.Errorf("write manifest: %w", err)
	}
	if _, err := tw.Write(doc); err != nil {
		return m, fmt.Errorf("write manifest: %w", err)
	}
	if err := tw.Close(); err != nil {
		return m, fmt.Errorf("write %s: %w", tmp, err)
	}
	if gz != nil {
		if err := gz.Close(); err != nil {
			return m, fmt.Errorf("write %s: %w", tmp, err)
		}
	}
	if err := f.Sync(); err != nil {
		return m, fmt.Errorf("write %s: %w", tmp, err)
	}
	if err := f.Close(); err != nil {
		return m, fmt.Errorf("write %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, to); err != nil {
		return m, fmt.Errorf("rename %s: %w", tmp, err)
	}
	return m, nil
}

// backupSQLite copies the SQLite database at path into a temporary file beside the
// archive with the online backup API, checks the copy, counts its rows and appends it to
// tw as backupDBName.
func backupSQLite(ctx context.Context, path, to string, tw *tar.Writer, m *backupManifestDoc) error {
	if info, err := os.Stat(path); err != nil || !info.Mode().IsRegular() {
		return fmt.Errorf("no SQLite database at %s (wrong --data-dir or DATABASE_URL?)", path)
	}
	tmpDir, err := os.MkdirTemp(filepath.Dir(to), ".ocrinvoice-backup-")
	if err != nil {
		return fmt.Errorf("create temporary directory: %w", err)
	}
	defer os.RemoveAll(tmpDir)
	copyPath := filepath.Join(tmpDir, backupDBName)
	if err := sqliteOnlineBackup(ctx, path, copyPath); err != nil {
		return err
	}
	if err := checkSQLite(ctx, copyPath, m.Counts); err != nil {
		return fmt.Errorf("check the copy of %s: %w", path, err)
	}
	f, err := os.Open(copyPath)
	if err != nil {
		return fmt.Errorf("open the database copy: %w", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return fmt.Errorf("stat the database copy: %w", err)
	}
	return addMember(tw, backupDBName, f, info.Size(), m)
}

// sqliteOnlineBackup copies the database at src to dst (a new file) in one backup step:
// the copy is the database as of one moment, and writers of src go on meanwhile (WAL).
func sqliteOnlineBackup(ctx context.Context, src, dst string) error {
	srcDB, err := sql.Open("sqlite3", "file:"+src+"?_busy_timeout=10000")
	if err != nil {
		return fmt.Errorf("open %s: %w", src, err)
	}
	defer srcDB.Close()
	dstDB, err := sql.Open("sqlite3", "file:"+dst)
	if err != nil {
		return fmt.Errorf("open %s: %w", dst, err)
	}
	defer dstDB.Close()
	srcConn, err := srcDB.Conn(ctx)
	if err != nil {
		return fmt.Errorf("connect to %s: %w", src, err)
	}
	defer srcConn.Close()
	dstConn, err := dstDB.Conn(ctx)
	if err != nil {
		return fmt.Errorf("connect to %s: %w", dst, err)
	}
	defer dstConn.Close()
	err = dstConn.Raw(func(d any) error {
		return srcConn.Raw(func(s any) error {
			dc, ok1 := d.(*sqlite3.SQLiteConn)
			sc, ok2 := s.(*sqlite3.SQLiteConn)
			if !ok1 || !ok2 {
				return errors.New("not a SQLite connection")
			}
			b, err := dc.Backup("main", sc, "main")
			if err != nil {
				return err
			}
			// One step of every page: the source is read in one read transaction, so
			// the copy is a snapshot. Busy/locked means a writer holds an exclusive
			// lock (a checkpoint, for instance): try again shortly.
			for {
				done, err := b.Step(-1)
				if err == nil && done {
					return b.Finish()
				}
				var se sqlite3.Error
				if err != nil && !(errors.As(err, &se) && (se.Code == sqlite3.ErrBusy || se.Code == sqlite3.ErrLocked)) {
					_ = b.Finish()
					return err
				}
				select {
				case <-ctx.Done():
					_ = b.Finish()
					return ctx.Err()
				case <-time.After(50 * time.Millisecond):
				}
			}
		})
	})
	if err != nil {
		return fmt.Errorf("copy database %s: %w", src, err)
	}
	return nil
}

// checkSQLite runs PRAGMA integrity_check on the SQLite file at path and stores its row
// counts in counts.
func checkSQLite(ctx context.Context, path string, counts map[string]int) error {
	db, err := sql.Open("sqlite3", "file:"+path)
	if err != nil {
		return err
	}
	defer db.Close()
	var res string
	if err := db.QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&res); err != nil {
		return fmt.Errorf("integrity check: %w", err)
	}
	if res != "ok" {
		return fmt.Errorf("integrity check: %s", res)
	}
	if err := db.Close(); err != nil {
		return err
	}
	c, err := database.Open(ctx, "sqlite:"+path)
	if err != nil {
		return err
	}
	defer c.Close()
	for name, count := range map[string]func(context.Context) (int, error){
		"jobs":      c.OcrInvoiceJob.Query().Count,
		"groups":    c.OcrJobGroup.Query().Count,
		"templates": c.OcrTemplate.Query().Count,
		"apiKeys":   c.APIKey.Query().Count,
		"uploads":   c.Upload.Query().Count,
	} {
		n, err := count(ctx)
		if err != nil {
			return fmt.Errorf("count %s: %w", name, err)
		}
		counts[name] = n
	}
	return nil
}

// backupUploads appends every stored document of the upload store in dir to tw and
// returns how many. A document removed while the backup runs is skipped.
func backupUploads(ctx context.Context, dir string, tw *tar.Writer, m *backupManifestDoc) (int, error) {
	// The directory is read, not opened with uploads.New, which would tidy it up under
	// the feet of a running service.
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("list uploads: %w", err)
	}
	n := 0
	for _, e := range entries {
		key := e.Name()
		if !uploads.ValidKey(key) || !e.Type().IsRegular() {
			continue // temporary files and anything else that is not a document
		}
		if err := ctx.Err(); err != nil {
			return n, err
		}
		f, err := os.Open(filepath.Join(dir, key))
		if errors.Is(err, os.ErrNotExist) {
			continue // removed as unreferenced since the listing
		}
		if err != nil {
			return n, fmt.Errorf("open upload %s: %w", key, err)
		}
		info, err := f.Stat()
		if err == nil {
			err = addMember(tw, backupUploadsDir+key, f, info.Size(), m)
		}
		_ = f.Close()
		if err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// addMember appends size bytes of r to tw as name and records it in the manifest.
func addMember(tw *tar.Writer, name string, r io.Reader, size int64, m *backupManifestDoc) error {
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o600, Size: size, ModTime: m.CreatedAt, Typeflag: tar.TypeReg}); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	h := sha256.New()
	if _, err := io.CopyN(io.MultiWriter(tw, h), r, size); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	m.Members = append(m.Members, backupMember{Name: name, Size: size, SHA256: hex.EncodeToString(h.Sum(nil))})
	return nil
}
