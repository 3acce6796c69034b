package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"log/slog"
	"math/bits"
	"strconv"

	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql"

	"github.com/ocrinvoice/ocrinvoice/ent"
	"github.com/ocrinvoice/ocrinvoice/ent/ocrinvoicejob"
	"github.com/ocrinvoice/ocrinvoice/ent/supplierprofile"
	"github.com/ocrinvoice/ocrinvoice/internal/apperr"
	"github.com/ocrinvoice/ocrinvoice/internal/invoice"
)

// Learner is what the composition root (internal/app) plugs in: worker/profile's Learn
// behind a small adapter that decodes the stored layout. internal/jobs must not import
// worker packages. It returns the supplier's keys and the profile's new rules (JSON).
type Learner func(ctx context.Context, in LearnInput) (invoice.SupplierKeys, []byte, error)

// LearnInput is what a Learner learns from: one job whose true data is known.
type LearnInput struct {
	// Layout is the job's stored document layout (worker/layout's EncodeLayout).
	Layout []byte
	// Truth is the job's true data (corrected, approved or read from an e-invoice);
	// Machine is what extraction returned before any correction.
	Truth, Machine invoice.ExtractedData
	// Prev is the rules of the profile being updated; nil for a new profile.
	Prev []byte
	// Used tells which fields the job took from Prev's profile; nil when it used none.
	Used *invoice.ProfileUse
}

// MaxFingerprintDistance is how many of the 64 bits two layout fingerprints may differ
// in for documents of one supplier name to be taken as the same layout (SimHashes of two
// issues of one layout differ in a few bits: the values change, the labels do not).
const MaxFingerprintDistance = 10

// maxNameCandidates bounds the profiles of one normalised name a lookup compares
// fingerprints with.
const maxNameCandidates = 32

// SupplierProfile returns the run's owner's supplier profile that matches keys: the one
// with keys' tax id, else the one with its IBAN, else one with its name whose layout
// fingerprint is within MaxFingerprintDistance bits of keys' (the nearest; any when
// either fingerprint is unknown), else, without a name, the one with the same
// fingerprint. Past the tax id, a profile whose tax id is known and not keys' (when
// keys has one) is another supplier's and never matches. nil (and no error) when none
// matches. Profiles of other owners are never
// returned. Errors: Internal.
func (r *Run) SupplierProfile(ctx context.Context, keys invoice.SupplierKeys) (*ent.SupplierProfile, error) {
	return findProfile(ctx, r.s.client, r.job.CreatedBy, keys, "")
}

// findProfile is the lookup of Run.SupplierProfile among owner's profiles in db, leaving
// out the profile skip (when not "").
func findProfile(ctx context.Context, db *ent.Client, owner string, keys invoice.SupplierKeys, skip string) (*ent.SupplierProfile, error) {
	q := func() *ent.SupplierProfileQuery {
		q := db.SupplierProfile.Query().Where(supplierprofile.CreatedBy(owner))
		if skip != "" {
			q.Where(supplierprofile.IDNEQ(skip))
		}
		return q
	}
	first := func(q *ent.SupplierProfileQuery) (*ent.SupplierProfile, error) {
		// No ORDER BY: each lookup is answered from its key's index (a tax id or IBAN is
		// unique per owner; of several profiles of one fingerprint any fits).
		p, err := q.First(ctx)
		if ent.IsNotFound(err) {
			return nil, nil
		}
		if err != nil {
			return nil, internal("find supplier profile", err)
		}
		return p, nil
	}
	if keys.TaxID != "" {
		if p, err := first(q().Where(supplierprofile.TaxID(keys.TaxID))); p != nil || err != nil {
			return p, err
		}
	}
	// Past the tax id, a profile with another known tax id is another supplier.
	sameTaxID := func(q *ent.SupplierProfileQuery) *ent.SupplierProfileQuery {
		if keys.TaxID != "" {
			q.Where(supplierprofile.Or(supplierprofile.TaxIDIsNil(), supplierprofile.TaxID(keys.TaxID)))
		}
		return q
	}
	if keys.IBAN != "" {
		if p, err := first(sameTaxID(q().Where(supplierprofile.Iban(keys.IBAN)))); p != nil || err != nil {
			return p, err
		}
	}
	if keys.Name == "" {
		if keys.Fingerprint == "" {
			return nil, nil
		}
		return first(sameTaxID(q().Where(supplierprofile.Fingerprint(keys.Fingerprint))))
	}
	cands, err := sameTaxID(q().Where(supplierprofile.NameKey(keys.Name))).
		Limit(maxNameCandidates).All(ctx)
	if err != nil {
		return nil, internal("find supplier profile", err)
	}
	var best *ent.SupplierProfile
	bestDist := MaxFingerprintDistance + 1
	for _, p := range cands {
		d, known := fingerprintDistance(keys.Fingerprint, p.Fingerprint)
		if !known {
			d = MaxFingerprintDistance // a match by name alone is the weakest
		}
		// The nearest; of equally near ones the most recently learned.
		if d < bestDist || d == bestDist && best != nil && p.UpdatedAt.After(best.UpdatedAt) {
			best, bestDist = p, d
		}
	}
	return best, nil
}

// fingerprintDistance returns the number of bits in which the 64-bit hexadecimal
// fingerprints a and b differ; known is false when either is empty or not hexadecimal.
func fingerprintDistance(a, b string) (d int, known bool) {
	x, errA := strconv.ParseUint(a, 16, 64)
	y, errB := strconv.ParseUint(b, 16, 64)
	if a == "" || b == "" || errA != nil || errB != nil {
		return 0, false
	}
	return bits.OnesCount64(x ^ y), true
}

// LearnSupplierProfile teaches the supplier profile of job id's supplier from the job,
// whose extracted data is taken as true (an e-invoice, a corrected or approved job): the
// Learner reads the job's stored layout and returns the supplier's keys and rules. The
// profile is the job's owner's one that the learned keys find (see Run.SupplierProfile)
// or, failing that, the one the job used; it is updated (version + 1, keys filled in,
// rules replaced) or created (version 1). A tax id or IBAN another profile of the owner
// already has is not moved to this one. Learning for one owner is serialised (a
// transaction holding a per-owner lock on PostgreSQL, SQLite's write lock), so that
// concurrent jobs of one supplier never create two profiles nor lose a version.
// The job is read through ctx's owner scope. Errors: Invalid, NotFound;
// FailedPrecondition when the job is not completed, has no data or no stored layout, or
// no Learner is configured; Internal (also for a failing Learner).
func (s *Service) LearnSupplierProfile(ctx context.Context, jobID string) (*ent.SupplierProfile, error) {
	j, err := s.GetJob(ctx, jobID)
	if err != nil {
		return nil, err
	}
	switch {
	case s.learner == nil:
		return nil, apperr.FailedPrecondition("no supplier profile learner is configured")
	case j.Status != ocrinvoicejob.StatusCompleted || j.ExtractedData == nil:
		return nil, apperr.FailedPrecondition(fmt.Sprintf("job %s is %s without data: only a completed job teaches a supplier profile", j.ID, j.Status))
	}
	if j.DocumentLayout, err = s.readLayout(ctx, j.ID); err != nil {
		return nil, err
	}
	if len(j.DocumentLayout) == 0 {
		return nil, apperr.FailedPrecondition(fmt.Sprintf("job %s has no stored document layout to learn from (it was read before layouts were kept, or from XML alone)", j.ID))
	}
	in := LearnInput{Layout: j.DocumentLayout, Truth: *j.ExtractedData, Machine: machineData(j)}
	var out *ent.SupplierProfile
	err = s.withTx(ctx, func(tx *ent.Tx) error {
		if err := s.lockOwner(ctx, tx, j.CreatedBy); err != nil {
			return err
		}
		out, err = s.learnIn(ctx, tx.Client(), j, in)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// readLayout returns the stored document layout of job id (nil for none), which job
// reads leave out (see withoutLayout). Errors: NotFound, Internal.
func (s *Service) readLayout(ctx context.Context, id string) ([]byte, error) {
	j, err := s.db(ctx).OcrInvoiceJob.Query().Where(ocrinvoicejob.ID(id)).
		Select(ocrinvoicejob.FieldID, ocrinvoicejob.FieldDocumentLayout).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, apperr.NotFound(fmt.Sprintf("job %s not found", id))
	}
	if err != nil {
		return nil, internal("read the job's document layout", err)
	}
	return j.DocumentLayout, nil
}

// machineData is what extraction returned for job j before any correction (its
// machine data; its data when it kept none): the data Learn compares the truth with to
// tell which of a profile's suggestions were wrong.
func machineData(j *ent.OcrInvoiceJob) invoice.ExtractedData {
	if j.MachineData != nil {
		return *j.MachineData
	}
	return *j.ExtractedData
}

// learnIn is LearnSupplierProfile's work inside its transaction db, holding the lock
// of the job's owner.
func (s *Service) learnIn(ctx context.Context, db *ent.Client, j *ent.OcrInvoiceJob, in LearnInput) (*ent.SupplierProfile, error) {
	owner := j.CreatedBy
	var used *ent.SupplierProfile
	if j.SupplierProfile != nil && j.SupplierProfile.ID != "" {
		p, err := db.SupplierProfile.Query().
			Where(supplierprofile.ID(j.SupplierProfile.ID), supplierprofile.CreatedBy(owner)).Only(ctx)
		switch {
		case err == nil:
			used = p
		case !ent.IsNotFound(err): // a deleted profile is simply not used
			return nil, internal("read the job's supplier profile", err)
		}
	}
	learn := func(prev *ent.SupplierProfile) (invoice.SupplierKeys, []byte, error) {
		in := in
		in.Prev, in.Used = nil, nil
		if prev != nil {
			in.Prev = prev.Rules
			if used != nil && prev.ID == used.ID {
				in.Used = j.SupplierProfile
			}
		}
		keys, rules, err := s.learner(ctx, in)
		if err != nil {
			return keys, nil, internal("learn supplier profile from job "+j.ID, err)
		}
		if !json.Valid(rules) {
			return keys, nil, internal("learn supplier profile from job "+j.ID, fmt.Errorf("the learner returned rules that are not JSON"))
		}
		return keys, rules, nil
	}
	keys, rules, err := learn(used)
	if err != nil {
		return nil, err
	}
	prev, err := findProfile(ctx, db, owner, keys, "")
	if err != nil {
		return nil, err
	}
	switch {
	case prev == nil:
		prev = used
	case used == nil || prev.ID != used.ID:
		// The truth names another supplier than the profile the job used: learn again
		// from that supplier's own rules.
		if keys, rules, err = learn(prev); err != nil {
			return nil, err
		}
	}
	keys, err = freeKeys(ctx, db, owner, keys, prev)
	if err != nil {
		return nil, err
	}
	now := s.clock()
	name := displayName(j)
	if prev == nil {
		p, err := db.SupplierProfile.Create().
			SetCreatedBy(owner).
			SetNillableTaxID(nonEmpty(keys.TaxID)).
			SetNillableIban(nonEmpty(keys.IBAN)).
			SetNameKey(keys.Name).
			SetFingerprint(keys.Fingerprint).
			SetDisplayName(name).
			SetRules(rules).
			SetVersion(1).
			SetJobsLearned(1).
			SetLastJobID(j.ID).
			SetCreatedAt(now).
			SetUpdatedAt(now).
			Save(ctx)
		if err != nil {
			return nil, mapDBError("create supplier profile", err)
		}
		return p, nil
	}
	upd := db.SupplierProfile.UpdateOneID(prev.ID).
		Where(supplierprofile.Version(prev.Version)).
		SetRules(rules).
		AddVersion(1).
		AddJobsLearned(1).
		SetLastJobID(j.ID).
		SetUpdatedAt(now)
	if keys.TaxID != "" {
		upd.SetTaxID(keys.TaxID)
	}
	if keys.IBAN != "" {
		upd.SetIban(keys.IBAN)
	}
	if keys.Name != "" {
		upd.SetNameKey(keys.Name)
	}
	if keys.Fingerprint != "" {
		upd.SetFingerprint(keys.Fingerprint)
	}
	if name != "" {
		upd.SetDisplayName(name)
	}
	p, err := upd.Save(ctx)
	if ent.IsNotFound(err) {
		// Only a writer outside the owner's lock gets here (a delete meanwhile).
		return nil, apperr.Conflict(fmt.Sprintf("supplier profile %s changed while it learned from job %s", prev.ID, j.ID))
	}
	if err != nil {
		return nil, mapDBError("update supplier profile", err)
	}
	return p, nil
}

// freeKeys returns keys without the tax id and IBAN that a profile of owner other than
// p (nil: any profile) already has: each names one supplier of an owner at most, and the
// profile that has it keeps it.
func freeKeys(ctx context.Context, db *ent.Client, owner string, keys invoice.SupplierKeys, p *ent.SupplierProfile) (invoice.SupplierKeys, error) {
	taken := func(field, v string) (bool, error) {
		if v == "" {
			return false, nil
		}
		q := db.SupplierProfile.Query().Where(supplierprofile.CreatedBy(owner),
			func(s *sql.Selector) { s.Where(sql.EQ(s.C(field), v)) })
		if p != nil {
			q.Where(supplierprofile.IDNEQ(p.ID))
		}
		ok, err := q.Exist(ctx)
		if err != nil {
			return false, internal("check supplier keys", err)
		}
		return ok, nil
	}
	if ok, err := taken(supplierprofile.FieldTaxID, keys.TaxID); err != nil {
		return keys, err
	} else if ok {
		keys.TaxID = ""
	}
	if ok, err := taken(supplierprofile.FieldIban, keys.IBAN); err != nil {
		return keys, err
	} else if ok {
		keys.IBAN = ""
	}
	return keys, nil
}

// nonEmpty returns nil for "" (an unknown key, stored NULL), else &v.
func nonEmpty(v string) *string {
	if v == "" {
		return nil
	}
	return &v
}

// displayName is the supplier's name as job j's data writes it, within the column's size.
func displayName(j *ent.OcrInvoiceJob) string {
	r := []rune(j.ExtractedData.Invoice.Supplier.Name)
	if len(r) > 1024 {
		r = r[:1024]
	}
	return string(r)
}

// lockOwner serialises the learning of owner's profiles: on PostgreSQL a transaction
// advisory lock keyed by the owner; SQLite transactions hold the database's write lock
// from their start (internal/database opens them IMMEDIATE).
func (s *Service) lockOwner(ctx context.Context, tx *ent.Tx, owner string) error {
	if !s.isPostgres(ctx, tx.Client()) {
		return nil
	}
	h := fnv.New64a()
	_, _ = h.Write([]byte("supplier_profiles\x00" + owner))
	if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", int64(h.Sum64())); err != nil {
		return internal("lock supplier profiles", err)
	}
	return nil
}

// isPostgres reports whether the service's database is PostgreSQL, asked through db
// (the caller's transaction, so that no second connection is needed) until a probe
// succeeds.
func (s *Service) isPostgres(ctx context.Context, db *ent.Client) bool {
	s.dialectMu.Lock()
	defer s.dialectMu.Unlock()
	if s.dialect != "" {
		return s.dialect == dialect.Postgres
	}
	// The dialect shows in the builder of a query that selects nothing.
	var d string
	_, err := db.SupplierProfile.Query().Modify(func(sel *sql.Selector) {
		d = sel.Dialect()
		sel.Where(sql.False())
	}).Strings(ctx)
	if err == nil {
		s.dialect = d
	}
	return d == dialect.Postgres
}

// learnQuietly is LearnSupplierProfile for the callers that must not fail for it (a
// completion, a correction, an approval): the profile learns after the job is stored,
// and a failure is logged, never returned. A job without a stored layout or a service
// without a Learner learns nothing, silently.
func (s *Service) learnQuietly(ctx context.Context, jobID string) {
	if s.learner == nil {
		return
	}
	p, err := s.LearnSupplierProfile(context.WithoutCancel(ctx), jobID)
	if ae := apperr.As(err); ae != nil && ae.Kind == apperr.KindFailedPrecondition {
		s.log.DebugContext(ctx, "Supplier profile not learned", slog.String("job_id", jobID), slog.Any("error", err))
		return
	}
	if err != nil {
		s.log.WarnContext(ctx, "Could not learn supplier profile", slog.String("job_id", jobID), slog.Any("error", err))
		return
	}
	s.log.InfoContext(ctx, "Supplier profile learned", slog.String("job_id", jobID),
		slog.String("profile_id", p.ID), slog.Int("version", p.Version))
}

// ListSupplierProfilesParams select a page of supplier profiles (Limit 1..MaxLimit,
// default DefaultLimit; Offset >= 0), most recently learned first.
type ListSupplierProfilesParams struct {
	Limit, Offset int
}

// ListSupplierProfiles returns one page of the supplier profiles ctx's principal may see
// (its owner's; every owner's for an unscoped caller) and how many there are in all.
// Errors: Invalid (limit, offset), Internal.
func (s *Service) ListSupplierProfiles(ctx context.Context, p ListSupplierProfilesParams) ([]*ent.SupplierProfile, int, error) {
	limit, err := pageBounds(p.Limit, p.Offset)
	if err != nil {
		return nil, 0, err
	}
	q := s.db(ctx).SupplierProfile.Query()
	total, err := q.Clone().Aggregate(ent.Count()).Int(ctx)
	if err != nil {
		return nil, 0, internal("count supplier profiles", err)
	}
	list, err := q.Order(supplierprofile.ByUpdatedAt(sql.OrderDesc()), supplierprofile.ByID(sql.OrderDesc())).
		Limit(limit).Offset(p.Offset).All(ctx)
	if err != nil {
		return nil, 0, internal("list supplier profiles", err)
	}
	return list, total, nil
}

// GetSupplierProfile returns the supplier profile id as ctx's principal may see it.
// Errors: Invalid (not an id), NotFound (also another owner's).
func (s *Service) GetSupplierProfile(ctx context.Context, id string) (*ent.SupplierProfile, error) {
	if err := checkID("id", id); err != nil {
		return nil, err
	}
	p, err := s.db(ctx).SupplierProfile.Get(ctx, id)
	if ent.IsNotFound(err) {
		return nil, apperr.NotFound(fmt.Sprintf("supplier profile %s not found", id))
	}
	if err != nil {
		return nil, internal("get supplier profile", err)
	}
	return p, nil
}

// DeleteSupplierProfile deletes the supplier profile id, as ctx's principal may see it.
// Jobs that used it are not changed (they keep its id and version). The supplier's next
// documents are read without a profile until a job teaches a new one.
// Errors: Invalid, NotFound (also another owner's).
func (s *Service) DeleteSupplierProfile(ctx context.Context, id string) error {
	p, err := s.GetSupplierProfile(ctx, id)
	if err != nil {
		return err
	}
	n, err := s.db(ctx).SupplierProfile.Delete().Where(supplierprofile.ID(p.ID)).Exec(ctx)
	if err != nil {
		return internal("delete supplier profile", err)
	}
	if n == 0 { // deleted meanwhile
		return apperr.NotFound(fmt.Sprintf("supplier profile %s not found", id))
	}
	return nil
}

// SupplierProfileConnection returns a page of the supplier profiles ctx's principal may
// see that match where, in orderBy.
func (s *Service) SupplierProfileConnection(ctx context.Context, p Page, orderBy []*ent.SupplierProfileOrder, where *ent.SupplierProfileWhereInput) (*ent.SupplierProfileConnection, error) {
	return s.client.SupplierProfile.Query().Paginate(ctx, p.After, p.First, p.Before, p.Last,
		ent.WithSupplierProfileOrder(orderBy), ent.WithSupplierProfileFilter(where.Filter))
}
