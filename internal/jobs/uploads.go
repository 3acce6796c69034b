package jobs

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"entgo.io/ent/dialect/sql"

	"github.com/ocrinvoice/ocrinvoice/ent"
	"github.com/ocrinvoice/ocrinvoice/ent/ocrinvoicejob"
	"github.com/ocrinvoice/ocrinvoice/ent/predicate"
	"github.com/ocrinvoice/ocrinvoice/ent/upload"
	"github.com/ocrinvoice/ocrinvoice/internal/apperr"
	"github.com/ocrinvoice/ocrinvoice/internal/auth"
	"github.com/ocrinvoice/ocrinvoice/internal/redact"
	"github.com/ocrinvoice/ocrinvoice/internal/uploads"
)

// Uploads belong to owners. The store (internal/uploads) keeps one file per content key,
// shared by everyone who uploaded the same bytes; who holds a key is an Upload row per
// (owner, key), written when the owner uploads. The rules, kept here once:
//
//   - A job may name upload://KEY only when its owner (its createdBy) holds KEY; a key
//     nobody holds and a key only other owners hold get the same 404. Naming it sets
//     the row's used_at. A caller that sees every owner may hand a key its own owner
//     holds to the job's owner (claimUploads).
//   - An owner's row goes when a deletion (a group's TTL) leaves no job of that owner
//     naming the key, or, never named by a job, after the unused TTL (SweepUnusedUploads).
//   - A file goes only when no row holds its key and no job names it
//     (RemoveUnreferencedUploads).
//   - An owner's rows count against its quota (Options.UploadQuota); uploading bytes it
//     holds already costs nothing.

// UploadQuota limits what one owner keeps in the upload store: Bytes in all, and Count
// documents. Zero or negative: no limit.
type UploadQuota struct {
	Bytes int64
	Count int
}

// uploadBatch bounds the keys of one IN (...) over uploads or jobs.
const uploadBatch = batchSize

// uploadOwner is the owner an upload of ctx's caller is recorded for: its principal's
// Owner, "" without a principal (the process itself).
func uploadOwner(ctx context.Context) string {
	p, _ := auth.FromContext(ctx)
	return p.Owner
}

// StoreUpload stores the document read from r in store (at most maxBytes, see
// uploads.Store.Stage) and records that the caller's owner holds it. Uploading bytes the
// owner holds already stores nothing new and costs no quota. Errors: those of
// uploads.Store.Stage (Invalid, UnsupportedMediaType, TooLarge, reading r),
// QuotaExceeded when the owner would go over its quota (naming the quota and the
// usage), or Internal. A refused upload leaves neither a file nor a row.
func (s *Service) StoreUpload(ctx context.Context, store *uploads.Store, r io.Reader, maxBytes int64) (uploads.Upload, error) {
	st, err := store.Stage(ctx, r, maxBytes)
	if err != nil {
		return uploads.Upload{}, err
	}
	defer st.Discard()
	owner := uploadOwner(ctx)
	id, err := s.recordUpload(ctx, owner, st.Upload)
	if err != nil {
		return uploads.Upload{}, err
	}
	// The row is written before the file is put under its key: a removal that finds
	// the file unreferenced either saw the row, or is undone by this Commit.
	if err := st.Commit(); err != nil {
		if id != "" {
			_, _ = s.client.Upload.Delete().Where(upload.ID(id), upload.UsedAtIsNil()).Exec(context.WithoutCancel(ctx))
		}
		return uploads.Upload{}, err
	}
	return st.Upload, nil
}

// recordUpload adds the row (owner, u.Key) and returns its id, or "" when the owner
// holds the key already (its row then counts as uploaded now, for the unused TTL). Over
// the quota, the row is taken back and the error is QuotaExceeded. The row is inserted
// before the usage is summed, so that two uploads racing for the last room cannot both
// get it (both may be refused).
func (s *Service) recordUpload(ctx context.Context, owner string, u uploads.Upload) (string, error) {
	now := s.clock()
	var row *ent.Upload
	for attempt := 0; row == nil; attempt++ {
		// Held already: the same bytes again cost nothing. The touch keeps the unused
		// sweep from deleting the row (it deletes only rows untouched since its cutoff).
		n, err := s.client.Upload.Update().Where(upload.Owner(owner), upload.Key(u.Key)).SetUpdatedAt(now).Save(ctx)
		if err != nil {
			return "", internal("touch upload", err)
		}
		if n > 0 {
			return "", nil
		}
		row, err = s.client.Upload.Create().
			SetOwner(owner).
			SetKey(u.Key).
			SetSize(u.Size).
			SetContentType(u.ContentType).
			SetCreatedAt(now).
			SetUpdatedAt(now).
			Save(ctx)
		if ent.IsConstraintError(err) && attempt == 0 {
			continue // the same owner uploaded the same bytes at the same moment
		}
		if err != nil {
			return "", mapDBError("record upload", err)
		}
	}
	q := s.uploadQuota
	if q.Bytes <= 0 && q.Count <= 0 {
		return row.ID, nil
	}
	count, bytes, err := s.uploadUsage(ctx, owner)
	if err != nil {
		s.dropUploadRow(ctx, row.ID)
		return "", err
	}
	var msg string
	switch {
	case q.Count > 0 && count > q.Count:
		msg = fmt.Sprintf("upload quota exceeded: this owner keeps %d uploads, the most its quota allows (OCRINVOICE_UPLOAD_QUOTA_COUNT=%d)",
			count-1, q.Count)
	case q.Bytes > 0 && bytes > q.Bytes:
		msg = fmt.Sprintf("upload quota exceeded: this owner's uploads take %s of its %s quota (OCRINVOICE_UPLOAD_QUOTA_BYTES=%d); this document of %s would go over it",
			bytesText(bytes-u.Size), uploads.HumanBytes(q.Bytes), q.Bytes, bytesText(u.Size))
	default:
		return row.ID, nil
	}
	s.dropUploadRow(ctx, row.ID)
	return "", apperr.QuotaExceeded(msg + "; uploads that no job names are removed after OCRINVOICE_UPLOAD_UNUSED_TTL")
}

// bytesText is n for a message: "1.5 GiB (1610612736 bytes)", or "36 bytes".
func bytesText(n int64) string {
	h := uploads.HumanBytes(n)
	if h == fmt.Sprintf("%d bytes", n) {
		return h
	}
	return fmt.Sprintf("%s (%d bytes)", h, n)
}

// uploadUsage returns how many uploads owner keeps and their bytes.
func (s *Service) uploadUsage(ctx context.Context, owner string) (int, int64, error) {
	var v []struct {
		Count int   `json:"count"`
		Bytes int64 `json:"bytes"`
	}
	err := s.client.Upload.Query().Where(upload.Owner(owner)).
		Aggregate(ent.Count(), ent.As(ent.Sum(upload.FieldSize), "bytes")).
		Scan(ctx, &v)
	if err != nil || len(v) != 1 {
		return 0, 0, internal("sum the owner's uploads", fmt.Errorf("%d rows: %w", len(v), err))
	}
	return v[0].Count, v[0].Bytes, nil
}

// dropUploadRow takes back a row recordUpload just added, unless a job named it
// meanwhile.
func (s *Service) dropUploadRow(ctx context.Context, id string) {
	if _, err := s.client.Upload.Delete().Where(upload.ID(id), upload.UsedAtIsNil()).Exec(context.WithoutCancel(ctx)); err != nil {
		s.log.WarnContext(ctx, "Could not take back an upload record", slog.String("upload_id", id), slog.Any("error", err))
	}
}

// claimUploads checks that owner holds every key of keys (upload keys a job or a batch
// names) and marks them used (used_at). A caller that sees every owner (an admin, the
// local principal without authentication, the process itself) may also name an upload
// its own owner holds for a job of another owner: the row is then copied to that owner
// (the admin hands the document over). It returns the keys owner does not hold (and
// was not handed), which the caller reports as not found. db is the client of the
// caller's transaction, if any; now is the time of the mark.
func (s *Service) claimUploads(ctx context.Context, db *ent.Client, owner string, keys []string, now time.Time) (map[string]bool, error) {
	keys = uniqueStrings(keys)
	missing := map[string]bool{}
	for start := 0; start < len(keys); start += uploadBatch {
		chunk := keys[start:min(start+uploadBatch, len(keys))]
		// Mark first, then look: a row the unused sweep deletes before the mark is not
		// seen; one marked is never deleted by it (it deletes only unused rows).
		if _, err := db.Upload.Update().Where(upload.Owner(owner), upload.KeyIn(chunk...)).SetUsedAt(now).SetUpdatedAt(now).Save(ctx); err != nil {
			return nil, internal("mark uploads used", err)
		}
		held, err := db.Upload.Query().Where(upload.Owner(owner), upload.KeyIn(chunk...)).Select(upload.FieldKey).Strings(ctx)
		if err != nil {
			return nil, internal("look up uploads", err)
		}
		have := make(map[string]bool, len(held))
		for _, k := range held {
			have[k] = true
		}
		var lacking []string
		for _, k := range chunk {
			if !have[k] {
				lacking = append(lacking, k)
			}
		}
		if len(lacking) == 0 {
			continue
		}
		handed, err := s.handOverUploads(ctx, db, owner, lacking, now)
		if err != nil {
			return nil, err
		}
		for _, k := range lacking {
			if !handed[k] {
				missing[k] = true
			}
		}
	}
	return missing, nil
}

// handOverUploads copies to owner the rows of keys that the caller's own owner holds,
// when the caller sees every owner and acts for another; see claimUploads.
func (s *Service) handOverUploads(ctx context.Context, db *ent.Client, owner string, keys []string, now time.Time) (map[string]bool, error) {
	if _, scoped := auth.ScopeOf(ctx); scoped {
		return nil, nil
	}
	giver := uploadOwner(ctx)
	if giver == owner {
		return nil, nil
	}
	rows, err := db.Upload.Query().Where(upload.Owner(giver), upload.KeyIn(keys...)).All(ctx)
	if err != nil {
		return nil, internal("look up the caller's uploads", err)
	}
	handed := make(map[string]bool, len(rows))
	for _, u := range rows {
		err := db.Upload.Create().
			SetOwner(owner).
			SetKey(u.Key).
			SetSize(u.Size).
			SetContentType(u.ContentType).
			SetUsedAt(now).
			SetCreatedAt(now).
			SetUpdatedAt(now).
			Exec(ctx)
		if ent.IsConstraintError(err) {
			// The owner uploaded the same bytes meanwhile.
			return nil, apperr.Conflict("an upload of the job's owner changed meanwhile; try again")
		}
		if err != nil {
			return nil, internal("hand an upload over", err)
		}
		handed[u.Key] = true
	}
	return handed, nil
}

// unclaimUpload undoes the used mark claimUploads set at claimed on (owner, key) when
// storing the job that named it failed and no job of owner names it: the row counts as
// never used again.
func (s *Service) unclaimUpload(ctx context.Context, owner, key string, claimed time.Time) {
	url := uploads.URL(key)
	_, err := s.client.Upload.Update().
		Where(upload.Owner(owner), upload.Key(key), upload.UsedAt(claimed),
			func(sel *sql.Selector) {
				t := sql.Table(ocrinvoicejob.Table)
				sel.Where(sql.Not(sql.Exists(sql.Dialect(sel.Dialect()).Select(t.C(ocrinvoicejob.FieldID)).From(t).
					Where(sql.And(sql.EQ(t.C(ocrinvoicejob.FieldCreatedBy), owner), sql.EQ(t.C(ocrinvoicejob.FieldDocumentURL), url))))))
			}).
		ClearUsedAt().
		Save(context.WithoutCancel(ctx))
	if err != nil {
		s.log.WarnContext(ctx, "Could not undo the use of an upload", slog.String("upload", redact.UploadKey(key)), slog.Any("error", err))
	}
}

// uploadNotFound is the answer for an upload URL that the job's owner does not hold,
// whether nobody or somebody else holds it (the same words, so that it tells nothing
// about other owners' uploads): field is the contract field naming it.
func uploadNotFound(field string) apperr.Detail {
	return apperr.Detail{Field: field, Message: "no such upload: upload the document first (POST /api/v1/uploads or the uploadDocument mutation) and name the documentUrl it returns"}
}

// claimJobDocument is claimUploads for the document of one job: NotFound naming
// documentUrl when owner does not hold it. It returns the key claimed ("" for a
// document that is not an upload) and when.
func (s *Service) claimJobDocument(ctx context.Context, owner, documentURL string) (string, time.Time, error) {
	if !uploads.IsURL(documentURL) {
		return "", time.Time{}, nil
	}
	key, err := uploads.KeyFromURL(documentURL)
	if err != nil {
		return "", time.Time{}, nil // ValidateDocumentURL reported it
	}
	claimed := s.clock()
	missing, err := s.claimUploads(ctx, s.client, owner, []string{key}, claimed)
	if err != nil {
		return "", time.Time{}, err
	}
	if missing[key] {
		d := uploadNotFound("documentUrl")
		return "", time.Time{}, apperr.NotFound("documentUrl: "+d.Message, d)
	}
	return key, claimed, nil
}

// uploadDocumentTypes maps the MIME types the upload store detects (uploads.Detect) to
// job document types.
var uploadDocumentTypes = map[string]string{
	"application/pdf": "pdf", "image/png": "png", "image/jpeg": "jpg", "image/tiff": "tiff",
	"image/bmp": "bmp", "application/xml": "xml",
}

// uploadTypes returns, for the upload URLs among urls, the document type the store
// detected from their bytes when they were uploaded (by anyone: the type is a property of
// the bytes, and whether the job's owner may name the upload is decided by the claim).
// URLs that are not uploads, or that no upload row knows, are left out.
func (s *Service) uploadTypes(ctx context.Context, urls []string) (map[string]string, error) {
	var keys []string
	for _, u := range urls {
		if key, err := uploads.KeyFromURL(u); err == nil {
			keys = append(keys, key)
		}
	}
	keys = uniqueStrings(keys)
	out := map[string]string{}
	for start := 0; start < len(keys); start += uploadBatch {
		chunk := keys[start:min(start+uploadBatch, len(keys))]
		var rows []struct {
			Key         string `json:"key"`
			ContentType string `json:"content_type"`
		}
		err := s.client.Upload.Query().Where(upload.KeyIn(chunk...)).
			GroupBy(upload.FieldKey, upload.FieldContentType).Scan(ctx, &rows)
		if err != nil {
			return nil, internal("look up the types of uploads", err)
		}
		for _, r := range rows {
			if t := uploadDocumentTypes[r.ContentType]; t != "" {
				out[uploads.URL(r.Key)] = t
			}
		}
	}
	return out, nil
}

// claimGroupDocuments is claimUploads for the documents of a batch, on db (the batch's
// transaction): NotFound naming documents[i].documentUrl for each document whose upload
// owner does not hold.
func (s *Service) claimGroupDocuments(ctx context.Context, db *ent.Client, owner string, docs []resolvedDocument) error {
	var keys []string
	idx := map[string][]int{}
	for i, d := range docs {
		if !uploads.IsURL(d.DocumentURL) {
			continue
		}
		key, err := uploads.KeyFromURL(d.DocumentURL)
		if err != nil {
			continue
		}
		keys = append(keys, key)
		idx[key] = append(idx[key], i)
	}
	if len(keys) == 0 {
		return nil
	}
	missing, err := s.claimUploads(ctx, db, owner, keys, s.clock())
	if err != nil || len(missing) == 0 {
		return err
	}
	var det []apperr.Detail
	for i, d := range docs {
		key, err := uploads.KeyFromURL(d.DocumentURL)
		if err != nil || !missing[key] {
			continue
		}
		det = append(det, uploadNotFound(fmt.Sprintf("documents[%d].documentUrl", i)))
		if len(det) >= 100 {
			break
		}
	}
	msg := fmt.Sprintf("%s: %s", det[0].Field, det[0].Message)
	if len(det) > 1 {
		msg += fmt.Sprintf(" (and %d more)", len(det)-1)
	}
	return apperr.NotFound(msg, det...)
}

// uploadRef is an owner's job naming an upload URL.
type uploadRef struct {
	Owner string `json:"created_by"`
	URL   string `json:"document_url"`
}

// releaseUploads removes the rows of refs (owner, upload URL) that no remaining job of
// that owner names, after their jobs were deleted on db (in the same transaction). It
// returns the keys of refs, whose files the caller may then remove when nothing else
// references them (RemoveUnreferencedUploads).
func releaseUploads(ctx context.Context, db *ent.Client, refs []uploadRef) ([]string, error) {
	var keys []string
	seen := map[string]bool{}
	for start := 0; start < len(refs); start += uploadBatch {
		chunk := refs[start:min(start+uploadBatch, len(refs))]
		urls := make([]string, 0, len(chunk))
		for _, r := range chunk {
			urls = append(urls, r.URL)
		}
		var still []uploadRef
		if err := db.OcrInvoiceJob.Query().Where(ocrinvoicejob.DocumentURLIn(uniqueStrings(urls)...)).
			Unique(true).Select(ocrinvoicejob.FieldCreatedBy, ocrinvoicejob.FieldDocumentURL).Scan(ctx, &still); err != nil {
			return nil, internal("look for other jobs of the uploads", err)
		}
		named := make(map[uploadRef]bool, len(still))
		for _, r := range still {
			named[r] = true
		}
		byOwner := map[string][]string{}
		for _, r := range chunk {
			key, err := uploads.KeyFromURL(r.URL)
			if err != nil {
				continue
			}
			if !seen[key] {
				seen[key] = true
				keys = append(keys, key)
			}
			if !named[r] {
				byOwner[r.Owner] = append(byOwner[r.Owner], key)
			}
		}
		for owner, ks := range byOwner {
			if _, err := db.Upload.Delete().Where(upload.Owner(owner), upload.KeyIn(ks...)).Exec(ctx); err != nil {
				return nil, internal("release uploads", err)
			}
		}
	}
	return keys, nil
}

// referencedUploads reports which of keys an owner holds or a job names.
func (s *Service) referencedUploads(ctx context.Context, keys []string) (map[string]bool, error) {
	ref := make(map[string]bool, len(keys))
	for start := 0; start < len(keys); start += uploadBatch {
		chunk := keys[start:min(start+uploadBatch, len(keys))]
		held, err := s.client.Upload.Query().Where(upload.KeyIn(chunk...)).Unique(true).Select(upload.FieldKey).Strings(ctx)
		if err != nil {
			return nil, internal("look for owners of the uploads", err)
		}
		for _, k := range held {
			ref[k] = true
		}
		var urls []string
		for _, k := range chunk {
			if !ref[k] {
				urls = append(urls, uploads.URL(k))
			}
		}
		if len(urls) == 0 {
			continue
		}
		// Only keys no owner holds get here (rarely: a job cannot name an upload its
		// owner does not hold), so the jobs table is not scanned for every key.
		// A job whose document was deleted after the retention period needs no file.
		named, err := s.client.OcrInvoiceJob.Query().Where(ocrinvoicejob.DocumentURLIn(urls...), ocrinvoicejob.DocumentDeletedAtIsNil()).
			Unique(true).Select(ocrinvoicejob.FieldDocumentURL).Strings(ctx)
		if err != nil {
			return nil, internal("look for jobs of the uploads", err)
		}
		for _, u := range named {
			if k, err := uploads.KeyFromURL(u); err == nil {
				ref[k] = true
			}
		}
	}
	return ref, nil
}

// RemoveUnreferencedUploads deletes from store the files of those keys that no owner
// holds and no job names (see uploads.Store.RemoveUnreferenced for why a concurrent
// upload of the same bytes is safe), and returns the keys whose files it deleted.
// Call it with ctx of the process (no principal): references of every owner count.
func (s *Service) RemoveUnreferencedUploads(ctx context.Context, store *uploads.Store, keys []string) ([]string, error) {
	var removed []string
	for start := 0; start < len(keys); start += uploadBatch {
		chunk := keys[start:min(start+uploadBatch, len(keys))]
		done, err := store.RemoveUnreferenced(chunk, func(ks []string) (map[string]bool, error) {
			return s.referencedUploads(ctx, ks)
		})
		removed = append(removed, done...)
		if err != nil {
			return removed, err
		}
	}
	return removed, nil
}

// SweepUnusedUploads deletes at most limit rows of uploads that no job ever named
// (used_at unset) and that were last uploaded before cutoff, oldest first, and returns
// their keys, whose files the caller may then remove (RemoveUnreferencedUploads). A row
// that a job names or its owner uploads again meanwhile is kept: the delete is
// conditional on both.
func (s *Service) SweepUnusedUploads(ctx context.Context, cutoff time.Time, limit int) ([]string, error) {
	unused := func() []predicate.Upload {
		// updated_at moves when the owner uploads the bytes again; created_at (indexed,
		// never later) narrows the scan.
		return []predicate.Upload{upload.UsedAtIsNil(), upload.CreatedAtLT(cutoff), upload.UpdatedAtLT(cutoff)}
	}
	rows, err := s.client.Upload.Query().
		Where(unused()...).
		Order(ent.Asc(upload.FieldCreatedAt), ent.Asc(upload.FieldID)).
		Limit(limit).
		All(ctx)
	if err != nil {
		return nil, internal("list unused uploads", err)
	}
	if len(rows) == 0 {
		return nil, nil
	}
	ids := make([]string, len(rows))
	keys := make([]string, 0, len(rows))
	for i, u := range rows {
		ids[i] = u.ID
		keys = append(keys, u.Key)
	}
	for start := 0; start < len(ids); start += uploadBatch {
		chunk := ids[start:min(start+uploadBatch, len(ids))]
		if _, err := s.client.Upload.Delete().Where(append(unused(), upload.IDIn(chunk...))...).Exec(ctx); err != nil {
			return nil, internal("delete unused uploads", err)
		}
	}
	return uniqueStrings(keys), nil
}

// BackfillUploads gives every upload that jobs name but no row records (stored before
// uploads had owners) a row for each owner whose job names it, marked used, when its
// file is in store; it returns how many rows it added. Afterwards those owners hold
// their documents as if they had uploaded them. Idempotent, and cheap once done: one
// query finds nothing left to do.
func (s *Service) BackfillUploads(ctx context.Context, store *uploads.Store) (int, error) {
	var refs []uploadRef
	err := s.client.OcrInvoiceJob.Query().
		Where(ocrinvoicejob.DocumentURLHasPrefix(uploads.Scheme+"://"), func(sel *sql.Selector) {
			t := sql.Table(upload.Table)
			// upload://KEY without its 9-character scheme is the row's key.
			sameKey := sql.P(func(b *sql.Builder) {
				b.Ident(t.C(upload.FieldKey)).WriteString(" = SUBSTR(").Ident(sel.C(ocrinvoicejob.FieldDocumentURL)).
					WriteString(fmt.Sprintf(", %d)", len(uploads.Scheme+"://")+1))
			})
			sel.Where(sql.Not(sql.Exists(sql.Dialect(sel.Dialect()).Select(t.C(upload.FieldID)).From(t).
				Where(sql.And(sql.ColumnsEQ(t.C(upload.FieldOwner), sel.C(ocrinvoicejob.FieldCreatedBy)), sameKey)))))
		}).
		Unique(true).
		Select(ocrinvoicejob.FieldCreatedBy, ocrinvoicejob.FieldDocumentURL).
		Scan(ctx, &refs)
	if err != nil {
		return 0, internal("find uploads without owners", err)
	}
	now := s.clock()
	added := 0
	for _, r := range refs {
		key, err := uploads.KeyFromURL(r.URL)
		if err != nil {
			continue
		}
		size, _, ok := store.Stat(key)
		if !ok {
			continue // gone: the job fails on it as before
		}
		err = s.client.Upload.Create().
			SetOwner(r.Owner).
			SetKey(key).
			SetSize(size).
			SetContentType(contentTypeOf(store, key)).
			SetUsedAt(now).
			SetCreatedAt(now).
			SetUpdatedAt(now).
			Exec(ctx)
		switch {
		case ent.IsConstraintError(err):
			// Recorded meanwhile (another process backfilling, or the owner uploading).
		case err != nil:
			return added, internal("record an upload", err)
		default:
			added++
		}
	}
	return added, nil
}

// contentTypeOf detects the MIME type of a stored document from its first bytes.
func contentTypeOf(store *uploads.Store, key string) string {
	f, err := store.Open(key)
	if err != nil {
		return ""
	}
	defer f.Close()
	head := make([]byte, 1024)
	n, _ := io.ReadFull(f, head)
	_, ct, _ := uploads.Detect(head[:n])
	return ct
}

func uniqueStrings(in []string) []string {
	seen := make(map[string]bool, len(in))
	out := make([]string, 0, len(in))
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
