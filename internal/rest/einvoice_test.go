package rest

import (
	"context"
	"mime"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/ocrinvoice/ocrinvoice/ent"
	"github.com/ocrinvoice/ocrinvoice/internal/database/databasetest"
	"github.com/ocrinvoice/ocrinvoice/internal/invoice"
	"github.com/ocrinvoice/ocrinvoice/worker/einvoice"
)

// TestJobEInvoice: a completed job is exported as CII (the default) or UBL, as an
// attachment with a file name, and reads back to its data; a job whose data lacks what
// EN 16931 requires is a 422 naming each business term and field; a bad syntax or an
// unknown parameter is a 400.
func TestJobEInvoice(t *testing.T) {
	databasetest.Each(t, func(t *testing.T, c *ent.Client) {
		e := newEnv(t, c, nil)
		id := e.do("POST", "/api/v1/ocr-invoice-jobs", e.jobBodyFor("EXPORT-1", nil)).must(t, http.StatusCreated).data()["_id"].(string)
		path := "/api/v1/ocr-invoice-jobs/" + id + "/einvoice"

		// completeJob's data has no buyer country and no seller VAT id with a prefix.
		completeJob(t, c, id)
		r := e.do("GET", path, nil).must(t, http.StatusUnprocessableEntity)
		if r.errCode() != "FAILED_PRECONDITION" || !strings.Contains(r.errMessage(), "BT-55") ||
			!slices.Contains(r.errFields(), "invoice.customer.country") {
			t.Errorf("incomplete data: code %s message %q fields %v, want BT-55 and invoice.customer.country", r.errCode(), r.errMessage(), r.errFields())
		}

		f := invoice.Float
		full := &invoice.ExtractedData{
			Invoice: invoice.Invoice{
				Number: "INV 2024/7", Date: "2024-03-15", DueDate: "2024-04-14", DocumentType: invoice.DocInvoice,
				Supplier:     invoice.Supplier{Name: "ACME Office Supplies GmbH", Address: "Hauptstrasse 1, 10115 Berlin", Country: "DE", TaxID: "DE136695976"},
				Customer:     invoice.Customer{Name: "Globex Corporation", Address: "Market Street 5, 80331 Munich", Country: "DE"},
				Amounts:      invoice.Amounts{Subtotal: f(200), Tax: f(38), Total: f(238), Currency: "EUR"},
				AmountDue:    f(238),
				TaxBreakdown: []invoice.TaxRate{{Rate: f(19), Base: f(200), Amount: f(38), Category: "S"}},
			},
			LineItems: []invoice.LineItem{{Description: "Paper", Quantity: f(4), UnitPrice: f(50), Amount: f(200), TaxRate: f(19)}},
		}
		if err := c.OcrInvoiceJob.UpdateOneID(id).SetExtractedData(full).Exec(context.Background()); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct{ query, syntax, root string }{
			{"", "cii", "CrossIndustryInvoice"},
			{"?syntax=cii", "cii", "CrossIndustryInvoice"},
			{"?syntax=UBL", "ubl", "<Invoice"},
		} {
			r := e.do("GET", path+tc.query, nil).must(t, http.StatusOK)
			if ct := r.header.Get("Content-Type"); ct != "application/xml; charset=utf-8" {
				t.Errorf("%s: Content-Type %q", tc.query, ct)
			}
			_, params, err := mime.ParseMediaType(r.header.Get("Content-Disposition"))
			if err != nil || !strings.HasSuffix(params["filename"], "."+tc.syntax+".xml") || strings.ContainsAny(params["filename"], "/ ") {
				t.Errorf("%s: Content-Disposition %q (%v)", tc.query, r.header.Get("Content-Disposition"), err)
			}
			if !strings.Contains(string(r.raw), tc.root) {
				t.Errorf("%s: no %s root in %.200s", tc.query, tc.root, r.raw)
			}
			doc, err := einvoice.Parse(r.raw, einvoice.Limits{})
			if err != nil {
				t.Fatalf("%s: the export does not read back: %v", tc.query, err)
			}
			if doc.Info.Syntax != tc.syntax || doc.Data.Invoice.Number != "INV 2024/7" || *doc.Data.Invoice.Amounts.Total != 238 {
				t.Errorf("%s: read back %+v %+v", tc.query, doc.Info, doc.Data.Invoice)
			}
		}
		for _, q := range []string{"?syntax=pdf", "?syntax=cii&syntax=ubl", "?format=ubl"} {
			if r := e.do("GET", path+q, nil).must(t, http.StatusBadRequest); r.errCode() != "INVALID" {
				t.Errorf("%s: code %s", q, r.errCode())
			}
		}
		e.do("GET", "/api/v1/ocr-invoice-jobs/aaaaaaaaaaaaaaaaaaaaaaaa/einvoice", nil).must(t, http.StatusNotFound)
	})
}
