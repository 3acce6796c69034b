package validate

import (
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ocrinvoice/ocrinvoice/internal/invoice"
)

// enGood is an invoice that keeps every rule EN16931 checks.
func enGood() invoice.ExtractedData {
	d := invoice.ExtractedData{}
	inv := &d.Invoice
	inv.Number = "R-1"
	inv.Date = "2024-01-10"
	inv.DocumentType = invoice.DocInvoice
	inv.Supplier = invoice.Supplier{Name: "Lieferant GmbH", Address: "Lieferantenstraße 20, 80333 München", Country: "DE"}
	inv.Customer = invoice.Customer{Name: "Client SA", Address: "1 rue de la Paix, 75002 Paris", Country: "FR"}
	inv.Amounts = invoice.Amounts{Subtotal: f(300), Tax: f(33), Total: f(333), Currency: "EUR"}
	inv.AmountDue = f(333)
	inv.TaxBreakdown = []invoice.TaxRate{
		{Rate: f(19), Base: f(100), Amount: f(19), Category: "S"},
		{Rate: f(7), Base: f(200), Amount: f(14), Category: "S"},
	}
	d.LineItems = []invoice.LineItem{
		{Description: "Beratung", Quantity: f(1), UnitPrice: f(100), Amount: f(100), TaxRate: f(19), UnitCode: "HUR"},
		{Description: "Bücher", Quantity: f(2), UnitPrice: f(100), Amount: f(200), TaxRate: f(7), UnitCode: "C62"},
	}
	return d
}

// setRow0 makes the first breakdown row (base 100) category cat at rate with amount,
// and the totals agree with it.
func setRow0(d *invoice.ExtractedData, cat string, rate, amount float64, reason string) {
	d.Invoice.TaxBreakdown[0] = invoice.TaxRate{Rate: f(rate), Base: f(100), Amount: f(amount), Category: cat, ExemptionReason: reason}
	d.LineItems[0].TaxRate = f(rate)
	setTax(d, amount+14)
}

// setTax sets the VAT total and the totals that follow from it.
func setTax(d *invoice.ExtractedData, tax float64) {
	d.Invoice.Amounts.Tax = f(tax)
	d.Invoice.Amounts.Total = f(300 + tax)
	d.Invoice.AmountDue = f(300 + tax)
}

// findings returns "RULE@field" for each finding, sorted.
func findings(errs []invoice.ValidationError) []string {
	var out []string
	for _, e := range errs {
		out = append(out, e.Rule+"@"+e.Field)
	}
	slices.Sort(out)
	return out
}

// en16931Case is a case of TestEN16931: an edit of enGood and the findings it causes.
type en16931Case struct {
	name   string
	strict bool
	edit   func(d *invoice.ExtractedData)
	want   []string // "RULE@field", any order; none for a passing case
}

// en16931Cases has a passing and a failing case for every rule.
func en16931Cases() []en16931Case {
	return []en16931Case{
		{name: "consistent invoice, strict", strict: true, edit: func(*invoice.ExtractedData) {}},
		{name: "consistent invoice, from a page", edit: func(*invoice.ExtractedData) {}},

		// Mandatory terms.
		{name: "BR-02 no number", strict: true, edit: func(d *invoice.ExtractedData) { d.Invoice.Number = " " }, want: []string{"BR-02@invoice.number"}},
		{name: "BR-03 no date", strict: true, edit: func(d *invoice.ExtractedData) { d.Invoice.Date = "" }, want: []string{"BR-03@invoice.date"}},
		{name: "BR-04 no type, strict", strict: true, edit: func(d *invoice.ExtractedData) { d.Invoice.DocumentType = "" }, want: []string{"BR-04@invoice.documentType"}},
		{name: "BR-04 no type, from a page", edit: func(d *invoice.ExtractedData) { d.Invoice.DocumentType = "" }},
		{name: "BR-05 no currency", strict: true, edit: func(d *invoice.ExtractedData) { d.Invoice.Amounts.Currency = "" }, want: []string{"BR-05@invoice.amounts.currency"}},
		{name: "BR-06 no seller name", strict: true, edit: func(d *invoice.ExtractedData) { d.Invoice.Supplier.Name = "" }, want: []string{"BR-06@invoice.supplier.name"}},
		{name: "BR-07 no buyer name", strict: true, edit: func(d *invoice.ExtractedData) { d.Invoice.Customer.Name = "" }, want: []string{"BR-07@invoice.customer.name"}},
		{name: "BR-08 no seller address", strict: true, edit: func(d *invoice.ExtractedData) {
			d.Invoice.Supplier.Address, d.Invoice.Supplier.Country = "", ""
		}, want: []string{"BR-08@invoice.supplier.address"}},
		{name: "BR-08 seller address of a country only", strict: true, edit: func(d *invoice.ExtractedData) { d.Invoice.Supplier.Address = "" }},
		{name: "BR-09 no seller country", strict: true, edit: func(d *invoice.ExtractedData) { d.Invoice.Supplier.Country = "" }, want: []string{"BR-09@invoice.supplier.country"}},
		{name: "BR-10 no buyer address", strict: true, edit: func(d *invoice.ExtractedData) {
			d.Invoice.Customer.Address, d.Invoice.Customer.Country = "", ""
		}, want: []string{"BR-10@invoice.customer.address"}},
		{name: "BR-10 buyer address of a country only", strict: true, edit: func(d *invoice.ExtractedData) { d.Invoice.Customer.Address = "" }},
		{name: "BR-11 no buyer country", strict: true, edit: func(d *invoice.ExtractedData) { d.Invoice.Customer.Country = "" }, want: []string{"BR-11@invoice.customer.country"}},
		{name: "BR-12 a line without net amount", strict: true, edit: func(d *invoice.ExtractedData) { d.LineItems[1].Amount = nil }, want: []string{"BR-12@lineItems"}},
		{name: "BR-13 no total without VAT", strict: true, edit: func(d *invoice.ExtractedData) { d.Invoice.Amounts.Subtotal = nil }, want: []string{"BR-13@invoice.amounts.subtotal"}},
		{name: "BR-14 no total with VAT", strict: true, edit: func(d *invoice.ExtractedData) { d.Invoice.Amounts.Total = nil }, want: []string{"BR-14@invoice.amounts.total"}},
		{name: "BR-15 no amount due", strict: true, edit: func(d *invoice.ExtractedData) { d.Invoice.AmountDue = nil }, want: []string{"BR-15@invoice.amountDue"}},
		{name: "BR-16 no lines", strict: true, edit: func(d *invoice.ExtractedData) { d.LineItems = nil }, want: []string{"BR-16@lineItems"}},

		// Arithmetic.
		{name: "BR-CO-13 lines off the total without VAT", strict: true, edit: func(d *invoice.ExtractedData) { d.LineItems[0].Amount = f(90) }, want: []string{"BR-CO-13@invoice.amounts.subtotal"}},
		{name: "BR-CO-13 within a cent", strict: true, edit: func(d *invoice.ExtractedData) { d.LineItems[0].Amount = f(100.01) }},
		{name: "BR-CO-13 allowances and charges explain the difference", strict: true, edit: func(d *invoice.ExtractedData) {
			d.LineItems[0].Amount = f(110)
			d.Invoice.Allowances = []invoice.Allowance{{Amount: f(15), Reason: "Discount"}, {Charge: true, Amount: f(5), Reason: "Freight"}}
		}},
		{name: "BR-CO-13 an allowance off the total without VAT", strict: true, edit: func(d *invoice.ExtractedData) {
			d.Invoice.Allowances = []invoice.Allowance{{Amount: f(10), Reason: "Discount"}}
		}, want: []string{"BR-CO-13@invoice.amounts.subtotal"}},
		{name: "BR-CO-13 a charge off the total without VAT", strict: true, edit: func(d *invoice.ExtractedData) {
			d.Invoice.Allowances = []invoice.Allowance{{Charge: true, Amount: f(10), Reason: "Freight"}}
		}, want: []string{"BR-CO-13@invoice.amounts.subtotal"}},
		{name: "BR-CO-13 an allowance of unknown amount", strict: true, edit: func(d *invoice.ExtractedData) {
			d.Invoice.Allowances = []invoice.Allowance{{Reason: "Discount"}}
		}},
		{name: "BR-CO-14 VAT total off the breakdown", strict: true, edit: func(d *invoice.ExtractedData) { setTax(d, 34) }, want: []string{"BR-CO-14@invoice.amounts.tax"}},
		{name: "BR-CO-14 breakdown amount unknown", strict: true, edit: func(d *invoice.ExtractedData) {
			d.Invoice.TaxBreakdown[1].Amount = nil
			setTax(d, 34)
		}, want: []string{"BR-46@invoice.taxBreakdown[1].amount"}},
		{name: "BR-CO-15 total off", strict: true, edit: func(d *invoice.ExtractedData) {
			d.Invoice.Amounts.Total = f(334)
			d.Invoice.AmountDue = f(334)
		}, want: []string{"BR-CO-15@invoice.amounts.total"}},
		{name: "BR-CO-15 no VAT total, strict", strict: true, edit: func(d *invoice.ExtractedData) { d.Invoice.Amounts.Tax = nil }, want: []string{"BR-CO-15@invoice.amounts.total"}},
		{name: "BR-CO-15 no VAT total, from a page", edit: func(d *invoice.ExtractedData) { d.Invoice.Amounts.Tax = nil }},
		{name: "BR-CO-16 amount due ignores the paid amount", strict: true, edit: func(d *invoice.ExtractedData) { d.Invoice.Amounts.Discount = f(33) }, want: []string{"BR-CO-16@invoice.amountDue"}},
		{name: "BR-CO-16 amount due less the paid amount", strict: true, edit: func(d *invoice.ExtractedData) {
			d.Invoice.Amounts.Discount = f(33)
			d.Invoice.AmountDue = f(300)
		}},
		{name: "BR-CO-17 and BR-S-09 breakdown amount off", strict: true, edit: func(d *invoice.ExtractedData) { setRow0(d, "S", 19, 20, "") },
			want: []string{"BR-CO-17@invoice.taxBreakdown[0].amount", "BR-S-09@invoice.taxBreakdown[0].amount"}},
		{name: "BR-CO-17 a cent and a half off", strict: true, edit: func(d *invoice.ExtractedData) { setRow0(d, "S", 19, 19.015, "") },
			want: []string{"BR-CO-17@invoice.taxBreakdown[0].amount", "BR-S-09@invoice.taxBreakdown[0].amount"}},
		{name: "BR-CO-17 within a cent", strict: true, edit: func(d *invoice.ExtractedData) { setRow0(d, "S", 19, 19.01, "") }},
		{name: "BR-CO-15 a cent and a half off", strict: true, edit: func(d *invoice.ExtractedData) {
			d.Invoice.Amounts.Total = f(333.015)
			d.Invoice.AmountDue = f(333.015)
		}, want: []string{"BR-CO-15@invoice.amounts.total"}},
		{name: "BR-CO-15 credit note with negative amounts", strict: true, edit: func(d *invoice.ExtractedData) {
			d.Invoice.DocumentType = invoice.DocCreditNote
			for i := range d.LineItems {
				*d.LineItems[i].Amount = -*d.LineItems[i].Amount
			}
			for i := range d.Invoice.TaxBreakdown {
				*d.Invoice.TaxBreakdown[i].Base = -*d.Invoice.TaxBreakdown[i].Base
				*d.Invoice.TaxBreakdown[i].Amount = -*d.Invoice.TaxBreakdown[i].Amount
			}
			d.Invoice.Amounts.Subtotal, d.Invoice.Amounts.Tax, d.Invoice.Amounts.Total = f(-300), f(-33), f(-333)
			d.Invoice.AmountDue = f(-333)
		}},
		{name: "BR-CO-17 rounded to two decimals", strict: true, edit: func(d *invoice.ExtractedData) {
			d.Invoice.TaxBreakdown[0].Base = f(10.05) // 10.05 x 19% = 1.9095
			d.Invoice.TaxBreakdown[0].Amount = f(1.91)
			d.Invoice.Amounts.Subtotal = f(210.05)
			d.LineItems[0].Amount = f(10.05)
			d.Invoice.Amounts.Tax = f(15.91)
			d.Invoice.Amounts.Total = f(225.96)
			d.Invoice.AmountDue = f(225.96)
		}},
		{name: "BR-CO-17 not subject to VAT has no VAT", strict: true, edit: func(d *invoice.ExtractedData) {
			setRow0(d, "O", 0, 0, "Nicht steuerbar")
			d.Invoice.TaxBreakdown[0].Rate = nil
			d.LineItems[0].TaxRate = nil
		}},
		{name: "BR-CO-17 not subject to VAT with VAT", strict: true, edit: func(d *invoice.ExtractedData) {
			setRow0(d, "O", 0, 5, "Nicht steuerbar")
			d.Invoice.TaxBreakdown[0].Rate = nil
			d.LineItems[0].TaxRate = nil
		}, want: []string{"BR-CO-17@invoice.taxBreakdown[0].amount"}},

		// The breakdown's rows.
		{name: "BR-45 no base", strict: true, edit: func(d *invoice.ExtractedData) { d.Invoice.TaxBreakdown[0].Base = nil }, want: []string{"BR-45@invoice.taxBreakdown[0].base"}},
		{name: "BR-46 no amount", strict: true, edit: func(d *invoice.ExtractedData) { d.Invoice.TaxBreakdown[0].Amount = nil }, want: []string{"BR-46@invoice.taxBreakdown[0].amount"}},
		{name: "BR-47 no category, strict", strict: true, edit: func(d *invoice.ExtractedData) { d.Invoice.TaxBreakdown[0].Category = "" }, want: []string{"BR-47@invoice.taxBreakdown[0].category"}},
		{name: "BR-47 no category, from a page", edit: func(d *invoice.ExtractedData) { d.Invoice.TaxBreakdown[0].Category = "" }},
		{name: "BR-48 no rate", strict: true, edit: func(d *invoice.ExtractedData) {
			d.Invoice.TaxBreakdown[0].Rate = nil
			d.Invoice.TaxBreakdown[0].Amount = f(0)
			setTax(d, 14)
		}, want: []string{"BR-48@invoice.taxBreakdown[0].rate"}},

		// VAT categories.
		{name: "BR-S-05 standard rated line at 0%", strict: true, edit: func(d *invoice.ExtractedData) { setRow0(d, "S", 0, 0, "") },
			want: []string{"BR-S-05@lineItems[0].taxRate"}},
		{name: "BR-Z-05 zero rated line at 19%", strict: true, edit: func(d *invoice.ExtractedData) { setRow0(d, "Z", 19, 0, "") },
			want: []string{"BR-CO-17@invoice.taxBreakdown[0].amount", "BR-Z-05@lineItems[0].taxRate"}},
		{name: "BR-Z zero rated line at 0%", strict: true, edit: func(d *invoice.ExtractedData) { setRow0(d, "Z", 0, 0, "") }},
		{name: "BR-E-05 exempt line at 19%", strict: true, edit: func(d *invoice.ExtractedData) { setRow0(d, "E", 19, 0, "§ 4 Nr. 14 UStG") },
			want: []string{"BR-CO-17@invoice.taxBreakdown[0].amount", "BR-E-05@lineItems[0].taxRate"}},
		{name: "BR-E exempt line at 0% with a reason", strict: true, edit: func(d *invoice.ExtractedData) { setRow0(d, "E", 0, 0, "§ 4 Nr. 14 UStG") }},
		{name: "BR-AE-05 reverse charge line at 19%", strict: true, edit: func(d *invoice.ExtractedData) { setRow0(d, "AE", 19, 0, "Reverse charge") },
			want: []string{"BR-AE-05@lineItems[0].taxRate", "BR-CO-17@invoice.taxBreakdown[0].amount"}},
		{name: "BR-AE reverse charge line at 0% with a reason", strict: true, edit: func(d *invoice.ExtractedData) { setRow0(d, "AE", 0, 0, "Reverse charge") }},
		{name: "BR-Z-09 zero rated with VAT", strict: true, edit: func(d *invoice.ExtractedData) { setRow0(d, "Z", 0, 5, "") },
			want: []string{"BR-CO-17@invoice.taxBreakdown[0].amount", "BR-Z-09@invoice.taxBreakdown[0].amount"}},
		{name: "BR-E-09 exempt with VAT", strict: true, edit: func(d *invoice.ExtractedData) { setRow0(d, "E", 0, 5, "§ 4 Nr. 14 UStG") },
			want: []string{"BR-CO-17@invoice.taxBreakdown[0].amount", "BR-E-09@invoice.taxBreakdown[0].amount"}},
		{name: "BR-AE-09 reverse charge with VAT", strict: true, edit: func(d *invoice.ExtractedData) { setRow0(d, "AE", 0, 5, "Reverse charge") },
			want: []string{"BR-AE-09@invoice.taxBreakdown[0].amount", "BR-CO-17@invoice.taxBreakdown[0].amount"}},
		{name: "BR-S-10 standard rated with a reason", strict: true, edit: func(d *invoice.ExtractedData) { d.Invoice.TaxBreakdown[0].ExemptionReason = "exempt" },
			want: []string{"BR-S-10@invoice.taxBreakdown[0].exemptionReason"}},
		{name: "BR-Z-10 zero rated with a reason", strict: true, edit: func(d *invoice.ExtractedData) { setRow0(d, "Z", 0, 0, "exempt") },
			want: []string{"BR-Z-10@invoice.taxBreakdown[0].exemptionReason"}},
		{name: "BR-E-10 exempt without a reason", strict: true, edit: func(d *invoice.ExtractedData) { setRow0(d, "E", 0, 0, "") },
			want: []string{"BR-E-10@invoice.taxBreakdown[0].exemptionReason"}},
		{name: "BR-AE-10 reverse charge without a reason", strict: true, edit: func(d *invoice.ExtractedData) { setRow0(d, "AE", 0, 0, " ") },
			want: []string{"BR-AE-10@invoice.taxBreakdown[0].exemptionReason"}},
		{name: "line rate without a breakdown row", strict: true, edit: func(d *invoice.ExtractedData) { d.LineItems[0].TaxRate = f(16) },
			want: []string{RuleLineRateNotInBreakdown + "@lineItems[0].taxRate"}},
		{name: "line rate of rows that disagree on the category", strict: true, edit: func(d *invoice.ExtractedData) {
			d.Invoice.TaxBreakdown = append(d.Invoice.TaxBreakdown, invoice.TaxRate{Rate: f(0), Base: f(0), Amount: f(0), Category: "Z"},
				invoice.TaxRate{Rate: f(0), Base: f(0), Amount: f(0), Category: "E", ExemptionReason: "exempt"})
			d.LineItems = append(d.LineItems, invoice.LineItem{Amount: f(0), TaxRate: f(0)})
		}},

		// Code lists.
		{name: "BR-CL-04 currency", strict: true, edit: func(d *invoice.ExtractedData) { d.Invoice.Amounts.Currency = "EURO" }, want: []string{"BR-CL-04@invoice.amounts.currency"}},
		{name: "BR-CL-14 seller country", strict: true, edit: func(d *invoice.ExtractedData) { d.Invoice.Supplier.Country = "DEU" }, want: []string{"BR-CL-14@invoice.supplier.country"}},
		{name: "BR-CL-14 buyer country", strict: true, edit: func(d *invoice.ExtractedData) { d.Invoice.Customer.Country = "UK" }, want: []string{"BR-CL-14@invoice.customer.country"}},
		{name: "BR-CL-14 Northern Ireland and Kosovo", strict: true, edit: func(d *invoice.ExtractedData) {
			d.Invoice.Supplier.Country, d.Invoice.Customer.Country = "XI", "1A"
		}},
		{name: "BR-CL-17 category", strict: true, edit: func(d *invoice.ExtractedData) { d.Invoice.TaxBreakdown[1].Category = "X" }, want: []string{"BR-CL-17@invoice.taxBreakdown[1].category"}},
		{name: "BR-CL-17 lower case", strict: true, edit: func(d *invoice.ExtractedData) { d.Invoice.TaxBreakdown[1].Category = "s" }, want: []string{"BR-CL-17@invoice.taxBreakdown[1].category"}},
		{name: "BR-CL-17 every category", strict: true, edit: func(d *invoice.ExtractedData) {
			for _, c := range []string{"K", "G", "L", "M"} {
				d.Invoice.TaxBreakdown = append(d.Invoice.TaxBreakdown, invoice.TaxRate{Rate: f(0), Base: f(0), Amount: f(0), Category: c})
			}
		}},
		{name: "BR-CL-23 unit code", strict: true, edit: func(d *invoice.ExtractedData) { d.LineItems[1].UnitCode = "pcs" }, want: []string{"BR-CL-23@lineItems[1].unitCode"}},
		{name: "BR-CL-23 unit code too long", strict: true, edit: func(d *invoice.ExtractedData) { d.LineItems[1].UnitCode = "C622" }, want: []string{"BR-CL-23@lineItems[1].unitCode"}},

		// Bad input: numbers that are none take part in no sum, and nothing panics.
		{name: "NaN and infinite amounts", strict: true, edit: func(d *invoice.ExtractedData) {
			d.Invoice.Amounts.Total = f(math.NaN())
			d.Invoice.Amounts.Tax = f(math.Inf(1))
			d.Invoice.TaxBreakdown[0].Amount = f(math.NaN())
			d.Invoice.TaxBreakdown[1].Rate = f(math.Inf(-1))
			d.LineItems[0].Amount = f(math.NaN())
			d.LineItems[1].TaxRate = f(math.NaN())
		}},
		{name: "empty data, from a page", edit: func(d *invoice.ExtractedData) { *d = invoice.ExtractedData{} }, want: []string{
			"BR-02@invoice.number", "BR-03@invoice.date", "BR-05@invoice.amounts.currency", "BR-06@invoice.supplier.name",
			"BR-07@invoice.customer.name", "BR-08@invoice.supplier.address", "BR-10@invoice.customer.address",
			"BR-13@invoice.amounts.subtotal", "BR-14@invoice.amounts.total", "BR-15@invoice.amountDue", "BR-16@lineItems",
		}},
	}
}

func TestEN16931(t *testing.T) {
	for _, c := range en16931Cases() {
		t.Run(c.name, func(t *testing.T) {
			d := enGood()
			c.edit(&d)
			got := EN16931(d, c.strict)
			want := slices.Clone(c.want)
			slices.Sort(want)
			if g := findings(got); !slices.Equal(g, want) {
				t.Errorf("findings %v, want %v", g, want)
				for _, e := range got {
					t.Logf("  %+v", e)
				}
			}
			for _, e := range got {
				wantSev := invoice.SeverityWarning
				if c.strict && e.Rule != RuleLineRateNotInBreakdown {
					wantSev = invoice.SeverityError
				}
				if e.Severity != wantSev {
					t.Errorf("%s: severity %s, want %s", e.Rule, e.Severity, wantSev)
				}
				if e.Message == "" || e.Field == "" {
					t.Errorf("%s: finding without message or field: %+v", e.Rule, e)
				}
			}
		})
	}
}

// TestEN16931Lenient checks that every rule that fires on strict data fires as a warning
// on data read from a page (BR-04 and BR-47 excepted: they do not fire at all).
func TestEN16931Lenient(t *testing.T) {
	d := enGood()
	d.Invoice.Number = ""
	d.Invoice.Amounts.Total = f(400)
	d.Invoice.TaxBreakdown[0].Category = "S "
	got := EN16931(d, false)
	if g := findings(got); !slices.Equal(g, []string{"BR-02@invoice.number", "BR-CL-17@invoice.taxBreakdown[0].category", "BR-CO-15@invoice.amounts.total", "BR-CO-16@invoice.amountDue"}) {
		t.Errorf("findings %v", g)
	}
	for _, e := range got {
		if e.Severity != invoice.SeverityWarning {
			t.Errorf("%s: severity %s, want warning", e.Rule, e.Severity)
		}
	}
}

// TestEN16931Messages checks that messages name the business term.
func TestEN16931Messages(t *testing.T) {
	d := enGood()
	d.Invoice.Supplier.Name = ""
	got := EN16931(d, true)
	if len(got) != 1 || got[0].Message != "BT-27 Seller name is missing" {
		t.Errorf("findings %+v, want one saying %q", got, "BT-27 Seller name is missing")
	}
	if got := EN16931(enGood(), true); got == nil {
		t.Error("EN16931 returned nil, want an empty list")
	}
}

// TestEN16931RuleIDs checks that every rule id the cases produce is an assertion id of the
// EN 16931 Schematron (but the code list rules, which the Factur-X Schematron checks under
// its own ids, and the project's own rule), so that findings compare with it.
func TestEN16931RuleIDs(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(sharedData(t), "einvoices", "schemas", "schematron", "FACTUR-X_EN16931.sch"))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, c := range en16931Cases() {
		for _, w := range c.want {
			seen[w[:strings.IndexByte(w, '@')]] = true
		}
	}
	if len(seen) < 40 {
		t.Fatalf("the cases produce only %d rule ids", len(seen))
	}
	for id := range seen {
		if strings.HasPrefix(id, "BR-CL-") || id == RuleLineRateNotInBreakdown {
			continue
		}
		if !strings.Contains(string(b), `id="`+id+`"`) {
			t.Errorf("rule %s is not in the Schematron", id)
		}
	}
}

// sharedData returns the shared data folder, or skips the test when it is absent.
func sharedData(t *testing.T) string {
	t.Helper()
	root := os.Getenv("OCRINVOICE_SHARED_DATA")
	if root == "" {
		root = filepath.Join("..", "..", "..", "shared", "data")
	}
	if _, err := os.Stat(filepath.Join(root, "einvoices")); err != nil {
		t.Skipf("shared data %s not available (set OCRINVOICE_SHARED_DATA): %v", root, err)
	}
	return root
}

// TestCountryList compares the country codes with the EN 16931 Schematron's code list
// (the shared data's FACTUR-X_EN16931_codedb.xml, list 7).
func TestCountryList(t *testing.T) {
	p := filepath.Join(sharedData(t), "einvoices", "schemas", "schematron", "FACTUR-X_EN16931_codedb.xml")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	start := strings.Index(s, `<cl id="7">`)
	end := strings.Index(s[start+1:], "</cl>")
	if start < 0 || end < 0 {
		t.Fatalf("%s has no code list 7", p)
	}
	var want []string
	for _, part := range strings.Split(s[start:start+1+end], `value="`)[1:] {
		code := part[:strings.IndexByte(part, '"')]
		if !slices.Contains(want, code) {
			want = append(want, code)
		}
	}
	got := strings.Fields(iso3166)
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("country codes differ from the code list:\n got %v\nwant %v", got, want)
	}
	if IsCountry("de") || IsCountry("") || !IsCountry("DE") {
		t.Error("IsCountry takes upper-case codes only")
	}
}
