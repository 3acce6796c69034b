package jobs_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ocrinvoice/ocrinvoice/ent"
	"github.com/ocrinvoice/ocrinvoice/ent/ocrinvoicejob"
	"github.com/ocrinvoice/ocrinvoice/internal/apperr"
	"github.com/ocrinvoice/ocrinvoice/internal/auth"
	"github.com/ocrinvoice/ocrinvoice/internal/database/databasetest"
	"github.com/ocrinvoice/ocrinvoice/internal/invoice"
	"github.com/ocrinvoice/ocrinvoice/internal/jobs"
)

// testLayout is the stand-in of worker/layout's encoding that testLearner reads: the
// first page's fingerprint and the label in front of the invoice number.
type testLayout struct {
	Fingerprint string `json:"fingerprint"`
	NumberLabel string `json:"numberLabel"`
}

// testRules are what testLearner learns: the label of the invoice number, how many
// documents taught it, and the fields whose suggestions the truth contradicted.
type testRules struct {
	NumberLabel string   `json:"numberLabel"`
	Documents   int      `json:"documents"`
	Decayed     []string `json:"decayed,omitempty"`
}

// testLearner is a real Learner of the test: the supplier's keys come from the truth
// (tax id and IBAN upper case without spaces, the name lower case) and the layout's
// fingerprint; the rules count the documents on top of prev and record a decay for
// each used field the truth contradicts (only invoice.number is compared).
func testLearner(_ context.Context, in jobs.LearnInput) (invoice.SupplierKeys, []byte, error) {
	var ld testLayout
	if err := json.Unmarshal(in.Layout, &ld); err != nil {
		return invoice.SupplierKeys{}, nil, fmt.Errorf("decode layout: %w", err)
	}
	sup := in.Truth.Invoice.Supplier
	keys := invoice.SupplierKeys{
		TaxID:       strings.ToUpper(strings.ReplaceAll(sup.TaxID, " ", "")),
		IBAN:        strings.ToUpper(strings.ReplaceAll(in.Truth.Invoice.Payment.IBAN, " ", "")),
		Name:        strings.ToLower(sup.Name),
		Fingerprint: ld.Fingerprint,
	}
	var r testRules
	if in.Prev != nil {
		if err := json.Unmarshal(in.Prev, &r); err != nil {
			return keys, nil, fmt.Errorf("decode prev: %w", err)
		}
	}
	if in.Used != nil && slices.Contains(in.Used.Fields, "invoice.number") && in.Machine.Invoice.Number != in.Truth.Invoice.Number {
		r.Decayed = append(r.Decayed, "invoice.number")
	}
	r.NumberLabel = ld.NumberLabel
	r.Documents++
	b, err := json.Marshal(r)
	return keys, b, err
}

func rulesOf(t *testing.T, p *ent.SupplierProfile) testRules {
	t.Helper()
	var r testRules
	if err := json.Unmarshal(p.Rules, &r); err != nil {
		t.Fatalf("rules %s: %v", p.Rules, err)
	}
	return r
}

// profileService is a service with learner (nil: none) and logs into logs when given.
func profileService(t *testing.T, c *ent.Client, learner jobs.Learner, logs *bytes.Buffer) *jobs.Service {
	t.Helper()
	log := quiet
	if logs != nil {
		log = slog.New(slog.NewTextHandler(&lockedWriter{w: logs}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	s := jobs.NewService(c, nil, jobs.Options{Logger: log, Learner: learner})
	if err := s.EnsureBuiltins(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}

type lockedWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// supplierDoc is one document of a supplier, as a job's run would complete it.
type supplierDoc struct {
	owner, number, taxID, iban, name, fingerprint string
	einvoice                                      bool
	noLayout                                      bool
	used                                          *invoice.ProfileUse
}

func (d supplierDoc) complete() jobs.CompleteInput {
	data := &invoice.ExtractedData{Invoice: invoice.Invoice{Number: d.number,
		Supplier: invoice.Supplier{Name: d.name, TaxID: d.taxID}, Payment: invoice.Payment{IBAN: d.iban}}}
	in := jobs.CompleteInput{ExtractedData: data, Pages: 1, EInvoice: d.einvoice, Profile: d.used}
	if !d.noLayout {
		in.Layout, _ = json.Marshal(testLayout{Fingerprint: d.fingerprint, NumberLabel: "Invoice No"})
	}
	return in
}

// completeDoc creates a job of d's owner and completes it with d; it returns the job.
func completeDoc(t *testing.T, s *jobs.Service, d supplierDoc) *ent.OcrInvoiceJob {
	t.Helper()
	ctx := context.Background()
	in := validInput(d.number)
	in.CreatedBy = d.owner
	j, err := s.CreateJob(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	r, err := s.StartRun(ctx, j.ID, jobs.AnyRun, jobs.Worker{})
	if err != nil {
		t.Fatal(err)
	}
	done, err := r.Complete(ctx, d.complete())
	if err != nil {
		t.Fatal(err)
	}
	return done
}

// lookup is Run.SupplierProfile for a new job of owner.
func lookup(t *testing.T, s *jobs.Service, owner string, keys invoice.SupplierKeys) *ent.SupplierProfile {
	t.Helper()
	ctx := context.Background()
	in := validInput(fmt.Sprintf("LOOKUP-%d", time.Now().UnixNano()))
	in.CreatedBy = owner
	j, err := s.CreateJob(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	r, err := s.StartRun(ctx, j.ID, jobs.AnyRun, jobs.Worker{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := r.SupplierProfile(ctx, keys)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestLearnSupplierProfile: a completed job with a layout teaches its owner's profile of
// its supplier, created at version 1 and updated (version + 1, rules learned on top of
// the previous ones) by the next job of the same supplier; the lookup finds it by tax
// id, IBAN, or name and a near fingerprint, and nothing of another owner's.
func TestLearnSupplierProfile(t *testing.T) {
	databasetest.Each(t, func(t *testing.T, c *ent.Client) {
		ctx := context.Background()
		s := profileService(t, c, testLearner, nil)
		acme := supplierDoc{owner: "team-a", taxID: "de 123456789", iban: "de89 3704 0044 0532 0130 00", name: "Acme", fingerprint: "00000000000000ff"}

		d1 := acme
		d1.number = "A-1"
		j1 := completeDoc(t, s, d1)
		if n, _ := c.SupplierProfile.Query().Count(ctx); n != 0 {
			t.Fatalf("a scan's completion learned %d profiles; only reviews and e-invoices teach", n)
		}
		p1, err := s.LearnSupplierProfile(ctx, j1.ID)
		if err != nil {
			t.Fatal(err)
		}
		if p1.Version != 1 || p1.JobsLearned != 1 || p1.LastJobID != j1.ID || p1.CreatedBy != "team-a" ||
			str(p1.TaxID) != "DE123456789" || str(p1.Iban) != "DE89370400440532013000" || p1.NameKey != "acme" ||
			p1.Fingerprint != "00000000000000ff" || p1.DisplayName != "Acme" || rulesOf(t, p1).Documents != 1 {
			t.Fatalf("first profile: %+v rules %s", p1, p1.Rules)
		}

		d2 := acme
		d2.number, d2.fingerprint = "A-2", "00000000000000fe"
		j2 := completeDoc(t, s, d2)
		p2, err := s.LearnSupplierProfile(ctx, j2.ID)
		if err != nil {
			t.Fatal(err)
		}
		if p2.ID != p1.ID || p2.Version != 2 || p2.JobsLearned != 2 || p2.LastJobID != j2.ID ||
			p2.Fingerprint != "00000000000000fe" || rulesOf(t, p2).Documents != 2 || !p2.UpdatedAt.After(p1.UpdatedAt) && !p2.UpdatedAt.Equal(p1.UpdatedAt) {
			t.Fatalf("second learning: %+v rules %s, want profile %s at version 2 with 2 documents", p2, p2.Rules, p1.ID)
		}

		for name, tc := range map[string]struct {
			owner string
			keys  invoice.SupplierKeys
			found bool
		}{
			"tax id":                        {"team-a", invoice.SupplierKeys{TaxID: "DE123456789"}, true},
			"iban":                          {"team-a", invoice.SupplierKeys{IBAN: "DE89370400440532013000"}, true},
			"iban with another tax id":      {"team-a", invoice.SupplierKeys{TaxID: "FR999", IBAN: "DE89370400440532013000"}, false},
			"name with another tax id":      {"team-a", invoice.SupplierKeys{TaxID: "FR999", Name: "acme"}, false},
			"name and near fingerprint":     {"team-a", invoice.SupplierKeys{Name: "acme", Fingerprint: "00000000000003fe"}, true},
			"name, fingerprint unknown":     {"team-a", invoice.SupplierKeys{Name: "acme"}, true},
			"name and far fingerprint":      {"team-a", invoice.SupplierKeys{Name: "acme", Fingerprint: "ffffffffffff00fe"}, false},
			"fingerprint alone, exact":      {"team-a", invoice.SupplierKeys{Fingerprint: "00000000000000fe"}, true},
			"fingerprint alone, near":       {"team-a", invoice.SupplierKeys{Fingerprint: "00000000000000ff"}, false},
			"other tax id":                  {"team-a", invoice.SupplierKeys{TaxID: "DE000"}, false},
			"nothing known":                 {"team-a", invoice.SupplierKeys{}, false},
			"another owner, same tax id":    {"team-b", invoice.SupplierKeys{TaxID: "DE123456789"}, false},
			"another owner, same name":      {"team-b", invoice.SupplierKeys{Name: "acme"}, false},
			"no owner, same keys":           {"", invoice.SupplierKeys{TaxID: "DE123456789", Name: "acme"}, false},
			"another owner, same iban":      {"team-b", invoice.SupplierKeys{IBAN: "DE89370400440532013000"}, false},
			"another owner, same layout":    {"team-b", invoice.SupplierKeys{Fingerprint: "00000000000000fe"}, false},
			"tax id wins over another name": {"team-a", invoice.SupplierKeys{TaxID: "DE123456789", Name: "globex"}, true},
		} {
			t.Run(name, func(t *testing.T) {
				p := lookup(t, s, tc.owner, tc.keys)
				if (p != nil) != tc.found || p != nil && p.ID != p1.ID {
					t.Errorf("lookup %+v for %q: %v, want found=%v", tc.keys, tc.owner, p, tc.found)
				}
			})
		}
	})
}

// TestLearnSupplierProfileRefuses: what cannot teach a profile is a clear error and
// stores nothing.
func TestLearnSupplierProfileRefuses(t *testing.T) {
	databasetest.Each(t, func(t *testing.T, c *ent.Client) {
		ctx := context.Background()
		s := profileService(t, c, testLearner, nil)
		noLayout := completeDoc(t, s, supplierDoc{owner: "team-a", number: "N-1", taxID: "DE1", noLayout: true})
		_, err := s.LearnSupplierProfile(ctx, noLayout.ID)
		wantKind(t, err, apperr.KindFailedPrecondition, "")
		if !strings.Contains(err.Error(), "layout") {
			t.Errorf("no layout: %v, want the layout named", err)
		}
		created, err := s.CreateJob(ctx, validInput("N-2"))
		if err != nil {
			t.Fatal(err)
		}
		_, err = s.LearnSupplierProfile(ctx, created.ID)
		wantKind(t, err, apperr.KindFailedPrecondition, "")
		_, err = s.LearnSupplierProfile(ctx, "nope")
		wantKind(t, err, apperr.KindInvalid, "id")
		_, err = s.LearnSupplierProfile(ctx, "0123456789abcdef01234567")
		wantKind(t, err, apperr.KindNotFound, "")

		good := completeDoc(t, s, supplierDoc{owner: "team-a", number: "N-3", taxID: "DE1"})
		_, err = profileService(t, c, nil, nil).LearnSupplierProfile(ctx, good.ID)
		wantKind(t, err, apperr.KindFailedPrecondition, "")
		failing := func(context.Context, jobs.LearnInput) (invoice.SupplierKeys, []byte, error) {
			return invoice.SupplierKeys{}, nil, errors.New("layout is corrupt")
		}
		_, err = profileService(t, c, failing, nil).LearnSupplierProfile(ctx, good.ID)
		wantKind(t, err, apperr.KindInternal, "")
		notJSON := func(context.Context, jobs.LearnInput) (invoice.SupplierKeys, []byte, error) {
			return invoice.SupplierKeys{TaxID: "DE1"}, []byte("{not json"), nil
		}
		_, err = profileService(t, c, notJSON, nil).LearnSupplierProfile(ctx, good.ID)
		wantKind(t, err, apperr.KindInternal, "")
		// Another owner's key does not reach the job.
		_, err = s.LearnSupplierProfile(as(auth.RoleSubmitter, "team-b"), good.ID)
		wantKind(t, err, apperr.KindNotFound, "")
		if n, _ := c.SupplierProfile.Query().Count(ctx); n != 0 {
			t.Fatalf("refused learnings stored %d profiles", n)
		}
		if _, err := s.LearnSupplierProfile(as(auth.RoleSubmitter, "team-a"), good.ID); err != nil {
			t.Fatalf("the owner's key: %v", err)
		}
	})
}

// TestEInvoiceCompletionLearns: an e-invoice job's completion teaches its supplier's
// profile at once, the job records the profile its extraction used, and a learner that
// fails never fails the completion (it is logged).
func TestEInvoiceCompletionLearns(t *testing.T) {
	databasetest.Each(t, func(t *testing.T, c *ent.Client) {
		ctx := context.Background()
		logs := &bytes.Buffer{}
		s := profileService(t, c, testLearner, logs)
		j := completeDoc(t, s, supplierDoc{owner: "team-a", number: "E-1", taxID: "DE42", name: "Initech", fingerprint: "1111111111111111", einvoice: true})
		p := lookup(t, s, "team-a", invoice.SupplierKeys{TaxID: "DE42"})
		if p == nil || p.Version != 1 || p.LastJobID != j.ID {
			t.Fatalf("after the e-invoice: profile %+v, want version 1 learned from %s", p, j.ID)
		}
		if !strings.Contains(logs.String(), "Supplier profile learned") {
			t.Errorf("logs: %s", logs)
		}

		use := &invoice.ProfileUse{ID: p.ID, Version: p.Version, Fields: []string{"invoice.number"}}
		j2 := completeDoc(t, s, supplierDoc{owner: "team-a", number: "E-2", taxID: "DE42", name: "Initech", fingerprint: "1111111111111111", used: use})
		stored, err := s.GetJob(ctx, j2.ID)
		if err != nil {
			t.Fatal(err)
		}
		if stored.SupplierProfile == nil || stored.SupplierProfile.ID != p.ID || stored.SupplierProfile.Version != 1 ||
			!slices.Equal(stored.SupplierProfile.Fields, []string{"invoice.number"}) || len(layoutOf(t, c, j2.ID)) == 0 {
			t.Fatalf("job records profile %+v, layout %d bytes", stored.SupplierProfile, len(layoutOf(t, c, j2.ID)))
		}
		// Job reads leave the layout out; it is read only to learn.
		if stored.DocumentLayout != nil {
			t.Errorf("GetJob read %d layout bytes", len(stored.DocumentLayout))
		}
		if list, _, err := s.ListJobs(ctx, jobs.ListJobsParams{}); err != nil || len(list) == 0 || list[0].DocumentLayout != nil {
			t.Errorf("ListJobs read the layout: %v", err)
		}
		// A re-run clears what the earlier run stored.
		in := validInput("E-2")
		in.CreatedBy = "team-a"
		in.DocumentURL = "https://files.example.com/E-2-again.pdf"
		rerun, err := s.UpdateJob(ctx, j2.ID, in)
		if err != nil {
			t.Fatal(err)
		}
		if rerun.SupplierProfile != nil || layoutOf(t, c, j2.ID) != nil {
			t.Errorf("re-run job keeps profile %+v and %d layout bytes", rerun.SupplierProfile, len(layoutOf(t, c, j2.ID)))
		}

		logs.Reset()
		failing := func(context.Context, jobs.LearnInput) (invoice.SupplierKeys, []byte, error) {
			return invoice.SupplierKeys{}, nil, errors.New("layout is corrupt")
		}
		sf := profileService(t, c, failing, logs)
		j3 := completeDoc(t, sf, supplierDoc{owner: "team-a", number: "E-3", taxID: "DE42", einvoice: true})
		if j3.Status != ocrinvoicejob.StatusCompleted {
			t.Fatalf("completion with a failing learner: %s", j3.Status)
		}
		if !strings.Contains(logs.String(), "Could not learn supplier profile") || !strings.Contains(logs.String(), j3.ID) {
			t.Errorf("the failure is not logged: %s", logs)
		}
		if p2 := lookup(t, s, "team-a", invoice.SupplierKeys{TaxID: "DE42"}); p2.Version != 1 {
			t.Errorf("a failed learning changed the profile to version %d", p2.Version)
		}
		// An e-invoice without a layout (XML alone) learns nothing, quietly.
		logs.Reset()
		completeDoc(t, s, supplierDoc{owner: "team-a", number: "E-4", taxID: "DE42", einvoice: true, noLayout: true})
		if strings.Contains(logs.String(), "WARN") {
			t.Errorf("an e-invoice without layout warned: %s", logs)
		}
	})
}

// TestLearnFromUsedProfile: the profile the job used learns with what it suggested (a
// contradicted suggestion decays); a job whose truth names another supplier teaches that
// supplier's profile, which did not make the suggestions.
func TestLearnFromUsedProfile(t *testing.T) {
	databasetest.Each(t, func(t *testing.T, c *ent.Client) {
		ctx := context.Background()
		s := profileService(t, c, testLearner, nil)
		acme := completeDoc(t, s, supplierDoc{owner: "team-a", number: "U-1", taxID: "DE1", name: "Acme", fingerprint: "00000000000000aa", einvoice: true})
		globex := completeDoc(t, s, supplierDoc{owner: "team-a", number: "U-2", taxID: "DE2", name: "Globex", fingerprint: "ff000000000000aa", einvoice: true})
		pa := lookup(t, s, "team-a", invoice.SupplierKeys{TaxID: "DE1"})
		pg := lookup(t, s, "team-a", invoice.SupplierKeys{TaxID: "DE2"})
		if pa == nil || pg == nil || pa.ID == pg.ID || pa.LastJobID != acme.ID || pg.LastJobID != globex.ID {
			t.Fatalf("profiles %v %v", pa, pg)
		}
		use := &invoice.ProfileUse{ID: pa.ID, Version: 1, Fields: []string{"invoice.number"}}

		// The job used Acme's profile and the truth's number differs from the machine's:
		// machineData is the job's data until corrections keep both, so no decay here, but
		// Used reaches the learner through the profile the job used.
		j := completeDoc(t, s, supplierDoc{owner: "team-a", number: "U-3", taxID: "DE1", name: "Acme", fingerprint: "00000000000000ab", used: use})
		p, err := s.LearnSupplierProfile(ctx, j.ID)
		if err != nil {
			t.Fatal(err)
		}
		if p.ID != pa.ID || p.Version != 2 {
			t.Fatalf("learned %s v%d, want %s v2", p.ID, p.Version, pa.ID)
		}
		// The job used Acme's profile, but its supplier is Globex (by tax id): Globex learns.
		j2 := completeDoc(t, s, supplierDoc{owner: "team-a", number: "U-4", taxID: "DE2", name: "Globex", fingerprint: "00000000000000ab", used: use})
		p2, err := s.LearnSupplierProfile(ctx, j2.ID)
		if err != nil {
			t.Fatal(err)
		}
		if p2.ID != pg.ID || p2.Version != 2 {
			t.Fatalf("learned %s v%d, want Globex %s v2", p2.ID, p2.Version, pg.ID)
		}
		// A job whose keys match nothing learns into the profile it used, without moving
		// a tax id another profile has.
		j3 := completeDoc(t, s, supplierDoc{owner: "team-a", number: "U-5", name: "acme (renamed)", fingerprint: "0f0f0f0f0f0f0f0f", used: use})
		p3, err := s.LearnSupplierProfile(ctx, j3.ID)
		if err != nil {
			t.Fatal(err)
		}
		if p3.ID != pa.ID || p3.Version != 3 || str(p3.TaxID) != "DE1" || p3.NameKey != "acme (renamed)" {
			t.Fatalf("learned %+v, want Acme's profile at version 3 keeping its tax id", p3)
		}
		// A new IBAN that another profile holds stays with that profile.
		if _, err := c.SupplierProfile.UpdateOneID(pg.ID).SetIban("GB29NWBK60161331926819").Save(ctx); err != nil {
			t.Fatal(err)
		}
		j4 := completeDoc(t, s, supplierDoc{owner: "team-a", number: "U-6", taxID: "DE1", iban: "GB29NWBK60161331926819", name: "Acme"})
		p4, err := s.LearnSupplierProfile(ctx, j4.ID)
		if err != nil {
			t.Fatal(err)
		}
		if p4.ID != pa.ID || p4.Iban != nil {
			t.Fatalf("learned %+v, want Acme's profile without Globex's IBAN", p4)
		}
	})
}

// TestSupplierProfilesOwners: lists, gets and deletes see the caller's owner's profiles
// only; deleting a profile leaves the jobs that used it alone.
func TestSupplierProfilesOwners(t *testing.T) {
	databasetest.Each(t, func(t *testing.T, c *ent.Client) {
		ctx := context.Background()
		s := profileService(t, c, testLearner, nil)
		for i, owner := range []string{"team-a", "team-a", "team-b"} {
			completeDoc(t, s, supplierDoc{owner: owner, number: fmt.Sprintf("O-%d", i), taxID: fmt.Sprintf("DE%d", i), name: "Same Name", einvoice: true})
		}
		// Same supplier for both owners: two profiles.
		completeDoc(t, s, supplierDoc{owner: "team-b", number: "O-9", taxID: "DE0", einvoice: true})
		a, b := as(auth.RoleSubmitter, "team-a"), as(auth.RoleViewer, "team-b")
		la, na, err := s.ListSupplierProfiles(a, jobs.ListSupplierProfilesParams{Limit: 1})
		if err != nil || na != 2 || len(la) != 1 || la[0].CreatedBy != "team-a" {
			t.Fatalf("team-a page: %v, %d in all, %v", la, na, err)
		}
		lb, nb, err := s.ListSupplierProfiles(b, jobs.ListSupplierProfilesParams{})
		if err != nil || nb != 2 {
			t.Fatalf("team-b: %d profiles, %v", nb, err)
		}
		if _, n, _ := s.ListSupplierProfiles(ctx, jobs.ListSupplierProfilesParams{}); n != 4 {
			t.Errorf("unscoped list: %d, want 4", n)
		}
		_, _, err = s.ListSupplierProfiles(a, jobs.ListSupplierProfilesParams{Limit: jobs.MaxLimit + 1})
		wantKind(t, err, apperr.KindInvalid, "limit")
		_, _, err = s.ListSupplierProfiles(a, jobs.ListSupplierProfilesParams{Offset: -1})
		wantKind(t, err, apperr.KindInvalid, "offset")

		_, err = s.GetSupplierProfile(a, lb[0].ID)
		wantKind(t, err, apperr.KindNotFound, "")
		wantKind(t, s.DeleteSupplierProfile(a, lb[0].ID), apperr.KindNotFound, "")
		wantKind(t, s.DeleteSupplierProfile(a, "x"), apperr.KindInvalid, "id")
		if typ, err := s.NodeType(b, lb[0].ID); err != nil || typ != "supplier_profiles" {
			t.Errorf("NodeType: %q, %v", typ, err)
		}

		before, err := c.OcrInvoiceJob.Query().Count(ctx)
		if err != nil {
			t.Fatal(err)
		}
		last := la[0].LastJobID
		if err := s.DeleteSupplierProfile(a, la[0].ID); err != nil {
			t.Fatal(err)
		}
		_, err = s.GetSupplierProfile(a, la[0].ID)
		wantKind(t, err, apperr.KindNotFound, "")
		if after, _ := c.OcrInvoiceJob.Query().Count(ctx); after != before {
			t.Errorf("delete changed the jobs: %d -> %d", before, after)
		}
		if _, err := s.GetJob(ctx, last); err != nil {
			t.Errorf("the job the profile learned from: %v", err)
		}
		if _, nb2, _ := s.ListSupplierProfiles(b, jobs.ListSupplierProfilesParams{}); nb2 != 2 {
			t.Errorf("team-a's delete left team-b %d profiles", nb2)
		}
	})
}

// TestConcurrentLearning: jobs of one supplier learning at once make one profile whose
// version counts every one of them.
func TestConcurrentLearning(t *testing.T) {
	databasetest.Each(t, func(t *testing.T, c *ent.Client) {
		ctx := context.Background()
		s := profileService(t, c, testLearner, nil)
		const n = 12
		var ids []string
		for i := range n {
			// Alternate keys: some jobs know only the name, so that a lookup by tax id
			// and one by name race for the same supplier.
			d := supplierDoc{owner: "team-a", number: fmt.Sprintf("C-%d", i), taxID: "DE777", name: "Racer", fingerprint: "00000000000000c0"}
			ids = append(ids, completeDoc(t, s, d).ID)
			// Another owner's jobs of the same supplier, learning at the same time.
			d.owner, d.number = "team-b", fmt.Sprintf("CB-%d", i)
			ids = append(ids, completeDoc(t, s, d).ID)
		}
		var wg sync.WaitGroup
		errs := make(chan error, len(ids))
		for _, id := range ids {
			wg.Go(func() {
				if _, err := s.LearnSupplierProfile(ctx, id); err != nil {
					errs <- err
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		for _, owner := range []string{"team-a", "team-b"} {
			list, total, err := s.ListSupplierProfiles(as(auth.RoleViewer, owner), jobs.ListSupplierProfilesParams{})
			if err != nil {
				t.Fatal(err)
			}
			if total != 1 || list[0].Version != n || list[0].JobsLearned != n || rulesOf(t, list[0]).Documents != n {
				t.Fatalf("%s: %d profiles, first %+v (rules %s); want one at version %d", owner, total, list[0], list[0].Rules, n)
			}
		}
	})
}

// str is *p, "" for nil.
func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// layoutOf reads the stored document layout of job id.
func layoutOf(t *testing.T, c *ent.Client, id string) []byte {
	t.Helper()
	j, err := c.OcrInvoiceJob.Query().Where(ocrinvoicejob.ID(id)).Select(ocrinvoicejob.FieldID, ocrinvoicejob.FieldDocumentLayout).Only(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return j.DocumentLayout
}

// TestReviewTeaches: a correction teaches the supplier's profile from the corrected data,
// with the machine's data and the fields the job took from the profile, so that a
// suggestion the person corrected decays; an approval teaches it too.
func TestReviewTeaches(t *testing.T) {
	databasetest.Each(t, func(t *testing.T, c *ent.Client) {
		s := profileService(t, c, testLearner, nil)
		first := completeDoc(t, s, supplierDoc{owner: "team-a", number: "R-1", taxID: "DE5", name: "Hooli", fingerprint: "0000000000000005", einvoice: true})
		p := lookup(t, s, "team-a", invoice.SupplierKeys{TaxID: "DE5"})
		if p == nil || p.LastJobID != first.ID {
			t.Fatalf("profile after the e-invoice: %+v", p)
		}
		use := &invoice.ProfileUse{ID: p.ID, Version: p.Version, Fields: []string{"invoice.number"}}
		j := completeDoc(t, s, supplierDoc{owner: "team-a", number: "R-2-WRONG", taxID: "DE5", name: "Hooli", fingerprint: "0000000000000005", used: use})
		if got := lookup(t, s, "team-a", invoice.SupplierKeys{TaxID: "DE5"}); got.Version != 1 {
			t.Fatalf("a scan's completion taught the profile: version %d", got.Version)
		}
		fixed, err := s.CorrectJob(as(auth.RoleSubmitter, "team-a"), j.ID, jobs.CorrectInput{
			Fields: []jobs.FieldValue{{Path: "invoice.number", Value: json.RawMessage(`"R-2"`)}}})
		if err != nil {
			t.Fatal(err)
		}
		if fixed.ExtractedData.Invoice.Number != "R-2" {
			t.Fatalf("corrected number %q", fixed.ExtractedData.Invoice.Number)
		}
		got := lookup(t, s, "team-a", invoice.SupplierKeys{TaxID: "DE5"})
		if got.ID != p.ID || got.Version != 2 || got.LastJobID != j.ID || !slices.Equal(rulesOf(t, got).Decayed, []string{"invoice.number"}) {
			t.Fatalf("after the correction: %+v rules %s; want version 2 with invoice.number decayed", got, got.Rules)
		}
		if _, err := s.ApproveJob(as(auth.RoleSubmitter, "team-a"), j.ID, nil); err != nil {
			t.Fatal(err)
		}
		if got := lookup(t, s, "team-a", invoice.SupplierKeys{TaxID: "DE5"}); got.Version != 3 {
			t.Fatalf("after the approval: version %d, want 3", got.Version)
		}
	})
}
