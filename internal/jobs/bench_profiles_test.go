package jobs_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/ocrinvoice/ocrinvoice/ent"
	"github.com/ocrinvoice/ocrinvoice/internal/database"
	"github.com/ocrinvoice/ocrinvoice/internal/database/databasetest"
	"github.com/ocrinvoice/ocrinvoice/internal/invoice"
	"github.com/ocrinvoice/ocrinvoice/internal/jobs"
)

// profilesPerOwner is how many supplier profiles the lookup benchmark gives the owner of
// the job, and as many again to other owners (with the same keys).
const profilesPerOwner = 10_000

// benchRules is a profile's rules of realistic size (about 2 KB of JSON).
var benchRules = func() json.RawMessage {
	fields := map[string]any{}
	for _, f := range []string{"invoice.number", "invoice.date", "invoice.dueDate", "invoice.amounts.total",
		"invoice.amounts.tax", "invoice.amounts.subtotal", "invoice.supplier.taxId", "invoice.payment.iban"} {
		fields[f] = map[string]any{"label": "Invoice No.", "page": 1, "box": []float64{0.61, 0.12, 0.82, 0.14},
			"direction": "right", "pattern": `[A-Z]{2}-\d{4,8}`, "confidence": 0.93, "hits": 12, "misses": 1}
	}
	b, _ := json.Marshal(map[string]any{"version": 1, "fields": fields})
	return b
}()

// seedProfiles gives each of owners profilesPerOwner profiles in bulk: supplier i has tax
// id DE%09d, IBAN, name "supplier i" and fingerprint i, the same for every owner.
func seedProfiles(b *testing.B, c *ent.Client, owners ...string) {
	b.Helper()
	ctx := context.Background()
	const batch = 500
	for _, owner := range owners {
		for from := 0; from < profilesPerOwner; from += batch {
			bulk := make([]*ent.SupplierProfileCreate, 0, batch)
			for i := from; i < from+batch; i++ {
				bulk = append(bulk, c.SupplierProfile.Create().SetCreatedBy(owner).
					SetTaxID(fmt.Sprintf("DE%09d", i)).SetIban(fmt.Sprintf("DE89%018d", i)).
					SetNameKey(fmt.Sprintf("supplier %d", i)).SetFingerprint(fmt.Sprintf("%016x", uint64(i)*0x9e3779b97f4a7c15)).
					SetDisplayName(fmt.Sprintf("Supplier %d GmbH", i)).SetRules(benchRules).SetVersion(3).SetJobsLearned(3))
			}
			if err := c.SupplierProfile.CreateBulk(bulk...).Exec(ctx); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkSupplierProfileLookup: Run.SupplierProfile among 10,000 profiles of the job's
// owner (and 10,000 of another owner with the same keys), by tax id, by IBAN, by name and
// a near fingerprint, and a miss (every key unknown: the longest path), against reading
// the job (GetJob), on SQLite and PostgreSQL. Target: a lookup adds at most 5 ms a job.
func BenchmarkSupplierProfileLookup(b *testing.B) {
	run := func(b *testing.B, c *ent.Client) {
		ctx := context.Background()
		s := jobs.NewService(c, nil, jobs.Options{Logger: quiet})
		if err := s.EnsureBuiltins(ctx); err != nil {
			b.Fatal(err)
		}
		seedProfiles(b, c, "team-a", "team-b")
		in := validInput("BENCH-1")
		in.CreatedBy = "team-a"
		j, err := s.CreateJob(ctx, in)
		if err != nil {
			b.Fatal(err)
		}
		// A stored layout of a typical size, which job reads leave out.
		if err := c.OcrInvoiceJob.UpdateOneID(j.ID).SetDocumentLayout(make([]byte, 64<<10)).Exec(ctx); err != nil {
			b.Fatal(err)
		}
		r, err := s.StartRun(ctx, j.ID, jobs.AnyRun, jobs.Worker{})
		if err != nil {
			b.Fatal(err)
		}
		i := 7_777
		fp := uint64(i) * 0x9e3779b97f4a7c15
		cases := []struct {
			name  string
			keys  invoice.SupplierKeys
			found bool
		}{
			{"taxId", invoice.SupplierKeys{TaxID: fmt.Sprintf("DE%09d", i)}, true},
			{"iban", invoice.SupplierKeys{TaxID: "FR1", IBAN: fmt.Sprintf("DE89%018d", i)}, false},
			{"ibanOnly", invoice.SupplierKeys{IBAN: fmt.Sprintf("DE89%018d", i)}, true},
			{"nameFingerprint", invoice.SupplierKeys{Name: fmt.Sprintf("supplier %d", i), Fingerprint: fmt.Sprintf("%016x", fp^0b101)}, true},
			{"miss", invoice.SupplierKeys{TaxID: "XX1", IBAN: "XX2", Name: "nobody", Fingerprint: "0000000000000001"}, false},
		}
		for _, tc := range cases {
			b.Run("lookup/"+tc.name, func(b *testing.B) {
				for b.Loop() {
					p, err := r.SupplierProfile(ctx, tc.keys)
					if err != nil || (p != nil) != tc.found || p != nil && p.CreatedBy != "team-a" {
						b.Fatalf("lookup %+v: %v, %v", tc.keys, p, err)
					}
				}
			})
		}
		b.Run("getJob", func(b *testing.B) {
			for b.Loop() {
				if _, err := s.GetJob(ctx, j.ID); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("sqlite", func(b *testing.B) {
		run(b, databasetest.OpenWith(b, "sqlite:"+filepath.Join(b.TempDir(), "profiles.db"), database.Options{}))
	})
	b.Run("postgres", func(b *testing.B) {
		if os.Getenv(databasetest.EnvPostgresURL) == "" {
			b.Skipf("%s is not set; skipping PostgreSQL", databasetest.EnvPostgresURL)
		}
		run(b, databasetest.OpenWith(b, databasetest.PostgresURL(b), database.Options{}))
	})
}
