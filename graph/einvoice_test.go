package graph_test

import (
	"context"
	"strings"
	"testing"

	"github.com/ocrinvoice/ocrinvoice/ent"
	"github.com/ocrinvoice/ocrinvoice/graph"
	"github.com/ocrinvoice/ocrinvoice/internal/database/databasetest"
	"github.com/ocrinvoice/ocrinvoice/internal/invoice"
)

const einvoiceQuery = `query($id: ID!, $s: EInvoiceSyntax!) { ocrInvoiceJob(id: $id) { jobNumber einvoice(syntax: $s) } }`

// TestJobEInvoiceField: a completed job's einvoice field is its data as EN 16931 XML in
// the syntax asked for (CII by default); a job not completed, or whose data lacks what
// EN 16931 requires, gives null and a FAILED_PRECONDITION error naming the terms.
func TestJobEInvoiceField(t *testing.T) {
	databasetest.Each(t, func(t *testing.T, c *ent.Client) {
		e := newEnv(t, c, nil, graph.Config{})
		j := e.createJob("GQL-EXPORT", nil)
		vars := map[string]any{"id": j.ID, "s": "UBL"}
		r := e.fails(einvoiceQuery, vars, "FAILED_PRECONDITION")
		if !strings.Contains(r.Errors[0].Message, "completed") {
			t.Errorf("not completed: %q", r.Errors[0].Message)
		}

		f := invoice.Float
		data := &invoice.ExtractedData{
			Invoice: invoice.Invoice{
				Number: "G-1", Date: "2024-03-15", DueDate: "2024-04-14",
				Supplier:     invoice.Supplier{Name: "ACME GmbH", Address: "Hauptstrasse 1, 10115 Berlin", Country: "DE", TaxID: "DE136695976"},
				Customer:     invoice.Customer{Name: "Globex", Address: "Market Street 5, 80331 Munich"},
				Amounts:      invoice.Amounts{Subtotal: f(100), Tax: f(19), Total: f(119), Currency: "EUR"},
				AmountDue:    f(119),
				TaxBreakdown: []invoice.TaxRate{{Rate: f(19), Base: f(100), Amount: f(19), Category: "S"}},
			},
			LineItems: []invoice.LineItem{{Description: "Widget", Quantity: f(1), UnitPrice: f(100), Amount: f(100), TaxRate: f(19)}},
		}
		if err := c.OcrInvoiceJob.UpdateOneID(j.ID).SetStatus("completed").SetExtractedData(data).Exec(context.Background()); err != nil {
			t.Fatal(err)
		}
		// The buyer has no country: BT-55 is named.
		r = e.fails(einvoiceQuery, vars, "FAILED_PRECONDITION")
		if !strings.Contains(r.Errors[0].Message, "BT-55") {
			t.Errorf("missing buyer country: %q", r.Errors[0].Message)
		}
		data.Invoice.Customer.Country = "DE"
		if err := c.OcrInvoiceJob.UpdateOneID(j.ID).SetExtractedData(data).Exec(context.Background()); err != nil {
			t.Fatal(err)
		}
		for s, root := range map[string]string{"UBL": "<Invoice xmlns=", "CII": "<rsm:CrossIndustryInvoice"} {
			var out struct {
				OcrInvoiceJob struct{ Einvoice *string }
			}
			e.ok(einvoiceQuery, map[string]any{"id": j.ID, "s": s}, &out)
			if x := out.OcrInvoiceJob.Einvoice; x == nil || !strings.Contains(*x, root) || !strings.Contains(*x, "G-1") {
				t.Errorf("%s: einvoice %v", s, x)
			}
		}
		var def struct {
			OcrInvoiceJob struct{ Einvoice *string }
		}
		e.ok(`query($id: ID!) { ocrInvoiceJob(id: $id) { einvoice } }`, map[string]any{"id": j.ID}, &def)
		if x := def.OcrInvoiceJob.Einvoice; x == nil || !strings.Contains(*x, "CrossIndustryInvoice") {
			t.Errorf("default syntax: %v", x)
		}
	})
}
