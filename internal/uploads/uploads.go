// Package uploads stores documents uploaded to the service, content-addressed by their
// SHA-256: the key of an upload is the lowercase hex digest of its bytes, its URL is
// "upload://<key>", and storing the same bytes twice yields the same key and one file.
//
// A Store is a directory (by default <OCRINVOICE_DATA_DIR>/uploads) holding one file per
// key. Put writes to a temporary file in that directory and renames it into place, so a
// reader never sees a partial upload and a refused or interrupted upload leaves nothing
// behind. Only the document formats the worker can read are accepted (PDF, PNG, JPEG,
// TIFF, BMP, and CII or UBL e-invoice XML), recognised by their first bytes, never by a
// declared type or file name.
//
// The store knows bytes, not owners: who holds a key (and may name it in a job) is
// recorded by internal/jobs (Service.StoreUpload), which stages the bytes (Stage),
// records the owner, then commits them (Commit), and removes a file only when nothing
// references it (RemoveUnreferenced).
//
// The package is a leaf (it uses only the e-invoice reader's Sniff): the API (REST and GraphQL) writes through it and the worker's
// fetcher reads through it; errors that are the client's fault are *apperr.Error values
// (TooLarge, Invalid, UnsupportedMediaType, NotFound) that also match the sentinels below
// with errors.Is.
package uploads

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/ocrinvoice/ocrinvoice/internal/apperr"
	"github.com/ocrinvoice/ocrinvoice/internal/redact"
	"github.com/ocrinvoice/ocrinvoice/worker/einvoice"
)

// Scheme is the URL scheme of uploaded documents: "upload://<key>".
const Scheme = "upload"

// prefix is what every upload URL starts with.
const prefix = Scheme + "://"

// KeyLen is the length of a key: a SHA-256 digest in lowercase hex.
const KeyLen = sha256.Size * 2

// DefaultMaxBytes is the default size limit of one upload (50 MiB).
const DefaultMaxBytes int64 = 50 << 20

// TransferTime is how long an HTTP upload request may take to arrive and be answered; the
// API lifts the server's read and write timeouts to it for upload requests only.
const TransferTime = 15 * time.Minute

// Sentinel errors, matched with errors.Is.
var (
	ErrTooLarge    = errors.New("upload too large")
	ErrEmpty       = errors.New("upload is empty")
	ErrUnsupported = errors.New("unsupported document format")
	ErrInvalidKey  = errors.New("invalid upload key")
	ErrNotFound    = errors.New("upload not found")
	// ErrRead wraps a failure of the reader given to Put (a broken or malformed request
	// body, for one), as opposed to a failure of the store itself.
	ErrRead = errors.New("read upload")
)

// tempPrefix starts the names of files being written; a key (hex) never does.
const tempPrefix = ".tmp-"

// asidePrefix starts the name of a file that RemoveUnreferenced moved aside (followed by
// its key) while it looks again whether the file is referenced.
const asidePrefix = tempPrefix + "rm-"

// staleTemp is how old a leftover temporary file (from a crashed process) must be before
// New removes it; no upload takes this long, so no live write is ever removed.
const staleTemp = 24 * time.Hour

// Upload describes one stored document.
type Upload struct {
	Key    string // SHA-256 of the bytes, 64 lowercase hex characters
	URL    string // "upload://" + Key, what a job's documentUrl names
	SHA256 string // the same digest as Key, for clients that check integrity
	Size   int64  // bytes
	// ContentType is the MIME type detected from the first bytes: application/pdf,
	// image/png, image/jpeg, image/tiff or image/bmp.
	ContentType string
	// DocumentType is the job document type of that format: pdf, png, jpg, tiff or bmp.
	DocumentType string
}

// Store is a directory of uploads. It is safe for concurrent use, also by several
// processes sharing the directory.
type Store struct {
	dir string
}

// New opens the store in dir, creating the directory when missing, removes temporary
// files that crashed writers left behind more than a day ago, and puts back files that
// an interrupted RemoveUnreferenced left moved aside.
func New(dir string) (*Store, error) {
	if dir == "" {
		return nil, errors.New("open upload store: no directory")
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("open upload store: %w", err)
	}
	s := &Store{dir: dir}
	if entries, err := os.ReadDir(dir); err == nil {
		for _, e := range entries {
			if key, ok := strings.CutPrefix(e.Name(), asidePrefix); ok && ValidKey(key) {
				// Left moved aside by a RemoveUnreferenced that did not finish: put it
				// back (a file nobody references is only an orphan, removed later; a
				// deleted one that somebody references is a lost document).
				aside, final := filepath.Join(dir, e.Name()), filepath.Join(dir, key)
				if _, err := os.Stat(final); err == nil {
					_ = os.Remove(aside)
				} else {
					_ = os.Rename(aside, final)
				}
				continue
			}
			if !strings.HasPrefix(e.Name(), tempPrefix) {
				continue
			}
			if info, err := e.Info(); err == nil && time.Since(info.ModTime()) > staleTemp {
				_ = os.Remove(filepath.Join(dir, e.Name()))
			}
		}
	}
	return s, nil
}

// Dir returns the store's directory.
func (s *Store) Dir() string { return s.dir }

// headLen is how many first bytes format detection looks at (a PDF header may sit
// anywhere in the first 1024 bytes, as PDF readers accept).
const headLen = 1024

// xmlHeadLen is how many first bytes an XML upload is sniffed in for an e-invoice's root
// element (comments, such as a licence text, may come before it).
const xmlHeadLen = 64 << 10

// startsAsXML tells whether head starts as XML text: an optional byte-order mark and
// white space, then '<'.
func startsAsXML(head []byte) bool {
	head = bytes.TrimLeft(bytes.TrimPrefix(head, []byte("\xef\xbb\xbf")), " \t\r\n")
	return len(head) > 1 && head[0] == '<'
}

// Put stores the bytes read from r, at most maxBytes of them (maxBytes <= 0 means
// DefaultMaxBytes), and describes them: Stage, then Commit. Errors are Stage's and
// Commit's. Storing bytes already stored succeeds and leaves the existing file as it was.
func (s *Store) Put(ctx context.Context, r io.Reader, maxBytes int64) (Upload, error) {
	st, err := s.Stage(ctx, r, maxBytes)
	if err != nil {
		return Upload{}, err
	}
	defer st.Discard()
	if err := st.Commit(); err != nil {
		return Upload{}, err
	}
	return st.Upload, nil
}

// Staged is a document written to the store's directory under a temporary name and
// described, but not yet under its key: Commit puts it there, Discard drops it. It lets
// a caller record who holds the upload (a database row) between writing the bytes and
// publishing them, so that a concurrent RemoveUnreferenced either sees the record or
// has its removal undone by Commit.
type Staged struct {
	Upload
	store *Store
	tmp   string // "" once committed or discarded
}

// Stage writes the bytes read from r, at most maxBytes of them (maxBytes <= 0 means
// DefaultMaxBytes), to a temporary file in the store and describes them. Errors:
//   - ErrEmpty (apperr Invalid) when r yields no bytes;
//   - ErrUnsupported (apperr UnsupportedMediaType) when the first bytes are not PDF, PNG,
//     JPEG, TIFF or BMP, nor XML whose root is a CII or UBL invoice (looked for in the
//     first 64 KiB); detected before the rest is read;
//   - ErrTooLarge (apperr TooLarge) when r yields more than maxBytes; the message says
//     the limit;
//   - the context's error when ctx ends while reading; any other error is an I/O failure
//     (reading r or writing the store).
//
// On error nothing is left in the store. On success the caller must call Commit or
// Discard (Discard after Commit is a no-op, so `defer st.Discard()` is the idiom).
func (s *Store) Stage(ctx context.Context, r io.Reader, maxBytes int64) (*Staged, error) {
	if maxBytes <= 0 {
		maxBytes = DefaultMaxBytes
	}
	r = ctxReader{ctx: ctx, r: r}
	head := make([]byte, headLen)
	n, err := io.ReadFull(r, head)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("store upload: %w", context.Cause(ctx))
		}
		return nil, fmt.Errorf("%w: %w", ErrRead, err)
	}
	head = head[:n]
	if n == 0 {
		return nil, &apperr.Error{Kind: apperr.KindInvalid, Message: "the document is empty (0 bytes)", Err: ErrEmpty}
	}
	docType, contentType, ok := Detect(head)
	if !ok && startsAsXML(head) && n == headLen {
		// An e-invoice's root element may follow a long licence comment: look further.
		more := make([]byte, xmlHeadLen-headLen)
		k, err := io.ReadFull(r, more)
		if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
			if ctx.Err() != nil {
				return nil, fmt.Errorf("store upload: %w", context.Cause(ctx))
			}
			return nil, fmt.Errorf("%w: %w", ErrRead, err)
		}
		head = append(head, more[:k]...)
		n = len(head)
	}
	if !ok && startsAsXML(head) {
		if _, err := einvoice.Sniff(head); err != nil {
			return nil, &apperr.Error{Kind: apperr.KindUnsupportedMediaType,
				Message: "the document is XML but not an e-invoice: only UN/CEFACT CII (ZUGFeRD, Factur-X, XRechnung) and UBL Invoice or CreditNote are read (" + err.Error() + ")",
				Err:     ErrUnsupported}
		}
		docType, contentType, ok = "xml", "application/xml", true
	}
	if !ok {
		return nil, &apperr.Error{Kind: apperr.KindUnsupportedMediaType,
			Message: fmt.Sprintf("the document is not a PDF, PNG, JPEG, TIFF or BMP file, nor a CII or UBL e-invoice (first bytes %q)", head[:min(n, 8)]),
			Err:     ErrUnsupported}
	}
	if int64(n) > maxBytes {
		return nil, tooLarge(maxBytes)
	}

	tmp, err := os.CreateTemp(s.dir, tempPrefix+"*")
	if err != nil {
		return nil, fmt.Errorf("store upload: %w", err)
	}
	tmpName := tmp.Name()
	keep := false
	defer func() {
		if !keep {
			_ = tmp.Close()
			_ = os.Remove(tmpName)
		}
	}()
	h := sha256.New()
	w := io.MultiWriter(tmp, h)
	if _, err := w.Write(head); err != nil {
		return nil, fmt.Errorf("store upload: %w", err)
	}
	// One byte over the limit is enough to know the body is too large. Reading and
	// writing are separated so that a failure names its side.
	rest, err := copyTo(w, io.LimitReader(r, maxBytes-int64(n)+1))
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("store upload: %w", context.Cause(ctx))
		}
		return nil, err
	}
	size := int64(n) + rest
	if size > maxBytes {
		return nil, tooLarge(maxBytes)
	}
	if err := tmp.Sync(); err != nil {
		return nil, fmt.Errorf("store upload: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return nil, fmt.Errorf("store upload: %w", err)
	}
	if err := os.Chmod(tmpName, 0o640); err != nil {
		return nil, fmt.Errorf("store upload: %w", err)
	}
	key := digest(h)
	keep = true
	return &Staged{
		Upload: Upload{Key: key, URL: prefix + key, SHA256: key, Size: size, ContentType: contentType, DocumentType: docType},
		store:  s, tmp: tmpName,
	}, nil
}

// Commit puts the staged bytes under their key, unless a file is there already (the
// same bytes, stored before: it is left as it was and the staged copy dropped). After
// Commit returns nil the key names the complete document.
func (st *Staged) Commit() error {
	if st.tmp == "" {
		return errors.New("store upload: committed or discarded already")
	}
	final := filepath.Join(st.store.dir, st.Key)
	if _, err := os.Stat(final); err == nil {
		st.Discard()
		return nil
	}
	// Rename is atomic within a directory: the key names complete bytes or nothing.
	// Two writers of the same bytes race harmlessly (identical content either way).
	if err := os.Rename(st.tmp, final); err != nil {
		return fmt.Errorf("store upload: %w", err)
	}
	st.tmp = ""
	return nil
}

// Discard removes the staged bytes unless they were committed.
func (st *Staged) Discard() {
	if st.tmp != "" {
		_ = os.Remove(st.tmp)
		st.tmp = ""
	}
}

// copyTo copies r to w like io.Copy; a read failure wraps ErrRead (with the reader's own
// error in the chain, e.g. an *http.MaxBytesError), a write failure is a store failure.
func copyTo(w io.Writer, r io.Reader) (int64, error) {
	buf := make([]byte, 64<<10)
	var n int64
	for {
		k, rerr := r.Read(buf)
		if k > 0 {
			if _, err := w.Write(buf[:k]); err != nil {
				return n, fmt.Errorf("store upload: %w", err)
			}
			n += int64(k)
		}
		if errors.Is(rerr, io.EOF) {
			return n, nil
		}
		if rerr != nil {
			return n, fmt.Errorf("%w: %w", ErrRead, rerr)
		}
	}
}

// TooLargeError is the error Put returns for a document over maxBytes (apperr TooLarge,
// matching ErrTooLarge); callers that enforce the limit themselves return the same.
func TooLargeError(maxBytes int64) error { return tooLarge(maxBytes) }

func tooLarge(maxBytes int64) error {
	return &apperr.Error{Kind: apperr.KindTooLarge,
		Message: fmt.Sprintf("the document is over the upload limit of %s (%d bytes)", HumanBytes(maxBytes), maxBytes),
		Err:     ErrTooLarge}
}

func digest(h hash.Hash) string { return hex.EncodeToString(h.Sum(nil)) }

// Open opens the upload named key for reading. Errors: ErrInvalidKey (apperr Invalid)
// for a key that is not 64 lowercase hex characters, ErrNotFound (apperr NotFound) when
// nothing is stored under it.
func (s *Store) Open(key string) (*os.File, error) {
	p, err := s.Path(key)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if errors.Is(err, os.ErrNotExist) {
		return nil, &apperr.Error{Kind: apperr.KindNotFound, Message: "upload not found: " + redact.UploadKey(key), Err: ErrNotFound}
	}
	if err != nil {
		return nil, fmt.Errorf("open upload %s: %w", redact.UploadKey(key), err)
	}
	return f, nil
}

// Remove deletes the upload named key, whoever else may use it; a key with nothing
// stored is no error. Callers that share the store with owners use RemoveUnreferenced.
// Errors: ErrInvalidKey (apperr Invalid), or the file system's.
func (s *Store) Remove(key string) error {
	p, err := s.Path(key)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove upload %s: %w", redact.UploadKey(key), err)
	}
	return nil
}

// Referenced reports which of keys something still refers to (an owner's record, a
// job); RemoveUnreferenced asks it.
type Referenced func(keys []string) (map[string]bool, error)

// RemoveUnreferenced deletes the files of those keys that referenced reports as
// unreferenced, and returns the keys whose files it deleted. Keys that are invalid or
// have no file are skipped.
//
// It is safe against a concurrent upload of the same bytes that records its reference
// before it calls Staged.Commit: the files are first moved aside, referenced is asked
// again, and a file found referenced then is moved back (Commit, for its part, puts the
// file back when it finds it missing). A file is thus deleted only when no reference was
// recorded before the second look. On an error from referenced, every file moved aside
// is moved back.
func (s *Store) RemoveUnreferenced(keys []string, referenced Referenced) ([]string, error) {
	var present []string
	for _, k := range keys {
		if !ValidKey(k) {
			continue
		}
		if _, err := os.Stat(filepath.Join(s.dir, k)); err == nil {
			present = append(present, k)
		}
	}
	if len(present) == 0 {
		return nil, nil
	}
	// A first look, so that files still in use are never moved, not even for a moment.
	used, err := referenced(present)
	if err != nil {
		return nil, err
	}
	type aside struct{ key, path string }
	var moved []aside
	for _, k := range present {
		if used[k] {
			continue
		}
		p := filepath.Join(s.dir, asidePrefix+k)
		if err := os.Rename(filepath.Join(s.dir, k), p); err != nil {
			continue // gone meanwhile (another remover), or not ours to move
		}
		moved = append(moved, aside{k, p})
	}
	if len(moved) == 0 {
		return nil, nil
	}
	candidates := make([]string, len(moved))
	for i, m := range moved {
		candidates[i] = m.key
	}
	used, err = referenced(candidates)
	if err != nil {
		for _, m := range moved {
			_ = os.Rename(m.path, filepath.Join(s.dir, m.key))
		}
		return nil, err
	}
	var removed []string
	var errs []error
	for _, m := range moved {
		if used[m.key] {
			// Referenced meanwhile: back it goes (a Commit may have put the same bytes
			// there already; renaming over them changes nothing).
			if err := os.Rename(m.path, filepath.Join(s.dir, m.key)); err != nil {
				errs = append(errs, fmt.Errorf("restore upload %s: %w", redact.UploadKey(m.key), err))
			}
			continue
		}
		if err := os.Remove(m.path); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, fmt.Errorf("remove upload %s: %w", redact.UploadKey(m.key), err))
			continue
		}
		removed = append(removed, m.key)
	}
	return removed, errors.Join(errs...)
}

// Stat returns the size of the file stored under key and when it was written; ok is
// false when nothing is stored under it (or key is invalid).
func (s *Store) Stat(key string) (size int64, modTime time.Time, ok bool) {
	if !ValidKey(key) {
		return 0, time.Time{}, false
	}
	info, err := os.Stat(filepath.Join(s.dir, key))
	if err != nil || !info.Mode().IsRegular() {
		return 0, time.Time{}, false
	}
	return info.Size(), info.ModTime(), true
}

// Walk calls fn with the key and modification time of every stored document, in the
// order of the directory's names, until fn returns false. Temporary files and anything
// else that is not named by a key are skipped. Errors: reading the directory.
func (s *Store) Walk(fn func(key string, modTime time.Time) bool) error {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return fmt.Errorf("list uploads: %w", err)
	}
	for _, e := range entries {
		if !ValidKey(e.Name()) || !e.Type().IsRegular() {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue // removed meanwhile
		}
		if !fn(e.Name(), info.ModTime()) {
			return nil
		}
	}
	return nil
}

// Path returns the file path of key in the store, whether or not it exists. A key that is
// not 64 lowercase hex characters is ErrInvalidKey (apperr Invalid): no key can name a
// path outside the directory.
func (s *Store) Path(key string) (string, error) {
	if !ValidKey(key) {
		return "", invalidKey(key)
	}
	return filepath.Join(s.dir, key), nil
}

func invalidKey(key string) error {
	if len(key) > 80 {
		key = key[:80] + "..."
	}
	return &apperr.Error{Kind: apperr.KindInvalid,
		Message: fmt.Sprintf("invalid upload key %q: a key is %d lowercase hexadecimal characters (the SHA-256 of the document)", key, KeyLen),
		Err:     ErrInvalidKey}
}

// ValidKey reports whether key is 64 lowercase hexadecimal characters.
func ValidKey(key string) bool {
	if len(key) != KeyLen {
		return false
	}
	for i := 0; i < len(key); i++ {
		c := key[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// IsURL reports whether raw uses the upload scheme (case-insensitive), valid or not.
func IsURL(raw string) bool {
	return len(raw) >= len(prefix) && strings.EqualFold(raw[:len(prefix)], prefix)
}

// KeyFromURL returns the key of an upload URL. Only the exact form "upload://<key>" with a
// valid key is accepted: no path, query, fragment, user or other spelling, so that
// validation and the worker agree on what a URL names. Errors wrap ErrInvalidKey
// (apperr Invalid).
func KeyFromURL(raw string) (string, error) {
	if !IsURL(raw) {
		return "", &apperr.Error{Kind: apperr.KindInvalid, Message: fmt.Sprintf("not an upload URL (want %s<key>)", prefix), Err: ErrInvalidKey}
	}
	key := raw[len(prefix):]
	if !ValidKey(key) {
		return "", invalidKey(key)
	}
	return key, nil
}

// URL returns the upload URL of key.
func URL(key string) string { return prefix + key }

// Detect names the format of a document from its first bytes (up to 1024 are looked at):
// the job document type (pdf, png, jpg, tiff, bmp) and the MIME type. ok is false for
// anything else. The rules match the worker's (worker/ocr.DetectFormat).
func Detect(head []byte) (docType, contentType string, ok bool) {
	probe := head[:min(len(head), headLen)]
	if isArchive(head) {
		// A ZIP (or other archive) that stores a PDF uncompressed has "%PDF-" in its first
		// bytes; it is still an archive, never read as a document.
		return "", "", false
	}
	switch {
	case bytes.Contains(probe, []byte("%PDF-")):
		return "pdf", "application/pdf", true
	case bytes.HasPrefix(head, []byte("\x89PNG\r\n\x1a\n")):
		return "png", "image/png", true
	case bytes.HasPrefix(head, []byte{0xFF, 0xD8, 0xFF}):
		return "jpg", "image/jpeg", true
	case bytes.HasPrefix(head, []byte("II*\x00")), bytes.HasPrefix(head, []byte("MM\x00*")):
		return "tiff", "image/tiff", true
	case bytes.HasPrefix(head, []byte("BM")) && len(head) >= 14:
		return "bmp", "image/bmp", true
	}
	return "", "", false
}

// archiveMagics start archive and compressed files (ZIP and its empty and spanned forms,
// gzip, bzip2, xz, zstd, 7z, RAR).
var archiveMagics = [][]byte{
	[]byte("PK\x03\x04"), []byte("PK\x05\x06"), []byte("PK\x07\x08"),
	{0x1f, 0x8b}, []byte("BZh"), {0xfd, '7', 'z', 'X', 'Z', 0x00}, {0x28, 0xb5, 0x2f, 0xfd},
	{'7', 'z', 0xbc, 0xaf, 0x27, 0x1c}, []byte("Rar!\x1a\x07"),
}

func isArchive(head []byte) bool {
	for _, m := range archiveMagics {
		if bytes.HasPrefix(head, m) {
			return true
		}
	}
	return false
}

// MaxNameLen is the longest DocumentName returns, in characters: the limit of a job's
// documentName (jobs.MaxDocumentNameLen).
const MaxNameLen = 1024

// DocumentName makes the file name a client sent with an upload usable as a job's
// documentName: the last path element only (after '/' or '\\'), valid UTF-8 without
// control characters or bidirectional-text overrides (which make "fdp.exe" display as
// "exe.pdf"), at most MaxNameLen characters; "document.<docType>" when nothing is left.
// It names the document for people; the stored file is named by its key alone.
func DocumentName(filename, docType string) string {
	filename = strings.ToValidUTF8(filename, "")
	if i := strings.LastIndexAny(filename, `/\`); i >= 0 {
		filename = filename[i+1:]
	}
	name := strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) {
			return -1
		}
		return r
	}, filename)
	name = strings.TrimSpace(name)
	if utf8.RuneCountInString(name) > MaxNameLen {
		name = string([]rune(name)[:MaxNameLen])
	}
	if name == "" || name == "." || name == ".." {
		return "document." + docType
	}
	return name
}

// HumanBytes formats n for messages: "10 GiB", "50 MiB" or "4 KiB" when it is a whole
// number of them, else "1.5 GiB" style with one decimal from a MiB up, else bytes.
func HumanBytes(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%d bytes", n)
}

// ctxReader stops reading when ctx ends, so an abandoned upload stops early.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
