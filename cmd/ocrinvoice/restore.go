package main

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/ocrinvoice/ocrinvoice/internal/config"
	"github.com/ocrinvoice/ocrinvoice/internal/uploads"
)

const restoreUsage = `Usage:
  ocrinvoice restore --from FILE [--force] [--data-dir DIR] [--database-url URL]

Restore an archive written by 'ocrinvoice backup' into a data directory: the SQLite
database to DATABASE_URL (default: DIR/ocrinvoice.db) and the uploaded documents to
DIR/uploads. Stop every serve, all and worker process using the directory first.

The whole archive is read and every member checked against the SHA-256 and size in its
manifest before anything is written; a corrupt, truncated or foreign archive is refused
and writes nothing. The restore refuses to replace an existing database unless --force
is given. Uploads already in DIR/uploads are kept (they are named by their content).

For an archive of a PostgreSQL deployment only the uploads are restored; restore the
database with pg_restore (see 'ocrinvoice backup --help').
`

// restoreCommand restores a backup archive; see restoreUsage. It creates the database
// it restores (into a data directory without one, or over one with --force).
func restoreCommand() *command {
	return &command{
		name: "restore", summary: "restore a backup archive into an empty data directory",
		usage: restoreUsage,
		setup: func(fs *flag.FlagSet, e *cmdEnv) runFunc {
			var from string
			var force bool
			var d databaseFlags
			fs.StringVar(&from, "from", "", "archive `FILE` to read")
			fs.BoolVar(&force, "force", false, "replace an existing database")
			d.register(fs)
			return func(ctx context.Context, args []string) error {
				if len(args) > 0 {
					return usageErrorf("restore", "unexpected argument %q", args[0])
				}
				if from == "" {
					return usageErrorf("restore", "--from FILE is required")
				}
				cfg, err := d.load(e.getenv)
				if err != nil {
					return fmt.Errorf("restore: %w", err)
				}
				m, err := restoreBackup(ctx, cfg, from, force)
				if err != nil {
					return fmt.Errorf("restore: %w", err)
				}
				fmt.Fprintf(e.stdout, "Restored %s from %s into %s\n", m.summary(), from, cfg.DataDir)
				m.printNotes(e.stdout)
				return nil
			}
		},
	}
}

// restoreBackup checks the archive at from, then writes its uploads and database. See
// restoreUsage for the guarantees.
func restoreBackup(ctx context.Context, cfg config.Config, from string, force bool) (backupManifestDoc, error) {
	dbPath, isSQLite := cfg.SQLitePath()
	if isSQLite && !force {
		if info, err := os.Stat(dbPath); err == nil && info.Size() > 0 {
			return backupManifestDoc{}, fmt.Errorf("a database already exists at %s; restore into an empty data directory or give --force to replace it", dbPath)
		}
	}
	m, err := verifyBackup(ctx, from)
	if err != nil {
		return m, err
	}
	if m.Database == "sqlite" && !isSQLite {
		return m, errors.New("the archive holds a SQLite database but DATABASE_URL names PostgreSQL; restore into a SQLite data directory")
	}
	want := make(map[string]backupMember, len(m.Members))
	for _, mem := range m.Members {
		want[mem.Name] = mem
	}
	uploadDir := cfg.UploadDir()
	if err := os.MkdirAll(uploadDir, 0o750); err != nil {
		return m, fmt.Errorf("create %s: %w", uploadDir, err)
	}
	var dbTmp string
	if m.Database == "sqlite" {
		dbTmp = dbPath + ".restore-tmp"
		defer os.Remove(dbTmp) // gone once renamed; left only by a failure
	}
	err = readBackup(from, func(name string, r io.Reader) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		var tmp, final string
		if name == backupDBName {
			if err := os.MkdirAll(filepath.Dir(dbPath), 0o750); err != nil {
				return fmt.Errorf("create database directory: %w", err)
			}
			tmp = dbTmp
		} else {
			key := strings.TrimPrefix(name, backupUploadsDir)
			// ".tmp-" names are the store's temporary files, tidied up if left behind.
			tmp, final = filepath.Join(uploadDir, ".tmp-restore-"+key), filepath.Join(uploadDir, key)
		}
		if err := writeChecked(tmp, r, want[name]); err != nil {
			_ = os.Remove(tmp)
			return err
		}
		if final != "" {
			if err := os.Rename(tmp, final); err != nil {
				_ = os.Remove(tmp)
				return fmt.Errorf("restore %s: %w", name, err)
			}
		}
		return nil
	})
	if err != nil {
		return m, err
	}
	if m.Database != "sqlite" {
		return m, nil
	}
	// The database last, so that it never names an upload that is not there yet. The old
	// database's WAL and shared-memory files belong to it and would corrupt the new one.
	if err := checkSQLite(ctx, dbTmp, map[string]int{}); err != nil {
		return m, fmt.Errorf("check the restored database: %w", err)
	}
	for _, suffix := range []string{"-wal", "-shm", "-journal"} {
		if err := os.Remove(dbPath + suffix); err != nil && !errors.Is(err, os.ErrNotExist) {
			return m, fmt.Errorf("remove the old %s: %w", dbPath+suffix, err)
		}
	}
	if err := os.Rename(dbTmp, dbPath); err != nil {
		return m, fmt.Errorf("restore the database: %w", err)
	}
	return m, nil
}

// writeChecked writes r to a new file at path and fails unless it has mem's size and
// SHA-256.
func writeChecked(path string, r io.Reader, mem backupMember) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("restore %s: %w", mem.Name, err)
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), r)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("restore %s: %w", mem.Name, err)
	}
	if n != mem.Size || hex.EncodeToString(h.Sum(nil)) != mem.SHA256 {
		return fmt.Errorf("restore %s: the archive changed while it was restored", mem.Name)
	}
	return nil
}

// verifyBackup reads the whole archive at path and returns its manifest when every
// member is one the format allows, appears in the manifest's order and has its size and
// SHA-256, and the archive ends after the manifest. It writes nothing.
func verifyBackup(ctx context.Context, path string) (backupManifestDoc, error) {
	var got []backupMember
	err := readBackup(path, func(name string, r io.Reader) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		h := sha256.New()
		n, err := io.Copy(h, r)
		if err != nil {
			return fmt.Errorf("read %s: %w", name, err)
		}
		got = append(got, backupMember{Name: name, Size: n, SHA256: hex.EncodeToString(h.Sum(nil))})
		return nil
	})
	if err != nil {
		return backupManifestDoc{}, err
	}
	m, err := readManifest(path)
	if err != nil {
		return m, err
	}
	if len(got) != len(m.Members) {
		return m, fmt.Errorf("%s: %d members, the manifest lists %d", path, len(got), len(m.Members))
	}
	for i, g := range got {
		if g != m.Members[i] {
			return m, fmt.Errorf("%s: member %s does not match the manifest (size %d, sha256 %s; want %s, %d, %s)",
				path, g.Name, g.Size, g.SHA256, m.Members[i].Name, m.Members[i].Size, m.Members[i].SHA256)
		}
		if key, ok := strings.CutPrefix(g.Name, backupUploadsDir); ok && key != g.SHA256 {
			return m, fmt.Errorf("%s: upload %s holds other bytes (sha256 %s)", path, key, g.SHA256)
		}
	}
	hasDB := len(got) > 0 && got[0].Name == backupDBName
	if hasDB != (m.Database == "sqlite") {
		return m, fmt.Errorf("%s: the manifest says database %q but the archive %s a database", path, m.Database,
			map[bool]string{true: "holds", false: "lacks"}[hasDB])
	}
	return m, nil
}

// readBackup calls fn with the name and content of every member of the archive at path
// before the manifest, in order (see walkBackup for what fails).
func readBackup(path string, fn func(name string, r io.Reader) error) error {
	return walkBackup(path, fn, false)
}

// readManifest decodes the manifest of the archive at path.
func readManifest(path string) (backupManifestDoc, error) {
	var m backupManifestDoc
	var doc []byte
	err := walkBackup(path, func(name string, r io.Reader) error {
		if name != backupManifest {
			_, err := io.Copy(io.Discard, r)
			return err
		}
		var err error
		doc, err = io.ReadAll(io.LimitReader(r, backupManifestMax+1))
		return err
	}, true)
	if err != nil {
		return m, err
	}
	if len(doc) > backupManifestMax {
		return m, fmt.Errorf("%s: the manifest is larger than %d bytes", path, backupManifestMax)
	}
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return m, fmt.Errorf("%s: decode the manifest: %w", path, err)
	}
	if m.Format != backupFormat || m.Version != backupVersion {
		return m, fmt.Errorf("%s: not an ocrinvoice backup of format version %d (format %q, version %d)", path, backupVersion, m.Format, m.Version)
	}
	if m.Database != "sqlite" && m.Database != "postgres" {
		return m, fmt.Errorf("%s: unknown database kind %q in the manifest", path, m.Database)
	}
	return m, nil
}

// walkBackup reads the archive at path (gzip-compressed or not) and calls fn for each
// member before the manifest, and for the manifest too when whole. It fails on a member
// the format does not allow, a member after the manifest, a missing manifest, and any
// read error (a truncated archive, a bad tar header or gzip checksum).
func walkBackup(path string, fn func(name string, r io.Reader) error, whole bool) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	defer f.Close()
	br := bufio.NewReader(f)
	var r io.Reader = br
	if head, _ := br.Peek(2); len(head) == 2 && head[0] == 0x1f && head[1] == 0x8b {
		gz, err := gzip.NewReader(br)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		gz.Multistream(false)
		r = gz
	}
	tr := tar.NewReader(r)
	seen := map[string]bool{}
	manifest := false
	for i := 0; ; i++ {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("%s is corrupt or truncated: %w", path, err)
		}
		if manifest {
			return fmt.Errorf("%s: member %q follows the manifest", path, hdr.Name)
		}
		name := hdr.Name
		ok := hdr.Typeflag == tar.TypeReg && !seen[name] &&
			(name == backupManifest || name == backupDBName && i == 0 ||
				strings.HasPrefix(name, backupUploadsDir) && uploads.ValidKey(strings.TrimPrefix(name, backupUploadsDir)))
		if !ok {
			return fmt.Errorf("%s: unexpected member %q (not an ocrinvoice backup?)", path, name)
		}
		seen[name] = true
		if name == backupManifest {
			manifest = true
			if !whole {
				if _, err := io.Copy(io.Discard, tr); err != nil {
					return fmt.Errorf("%s is corrupt or truncated: %w", path, err)
				}
				continue
			}
		}
		if err := fn(name, tr); err != nil {
			if errors.Is(err, io.ErrUnexpectedEOF) {
				return fmt.Errorf("%s is corrupt or truncated: %w", path, err)
			}
			return err
		}
	}
	if !manifest {
		return fmt.Errorf("%s has no manifest: not an ocrinvoice backup, or truncated", path)
	}
	// The rest of the stream: the gzip checksum is checked at its end.
	if _, err := io.Copy(io.Discard, r); err != nil {
		return fmt.Errorf("%s is corrupt or truncated: %w", path, err)
	}
	return nil
}
