package main

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// agencyInvoice is a station's invoice to an advertising agency: gross, agency
// commission and net due, a flight period, a contract, and bank details.
var agencyInvoice = []pdfText{
	{50, 50, "KXYZ Radio 101.5"}, {50, 64, "88 Tower Road"}, {50, 78, "Denver, CO 80202"},
	{50, 92, "Phone: (303) 555-0199"},
	{350, 50, "Invoice No:"}, {440, 50, "KX-2024-311"},
	{350, 64, "Invoice Date:"}, {440, 64, "03/31/2024"},
	{350, 78, "Contract #:"}, {440, 78, "K-5521"},
	{350, 92, "Flight Dates:"}, {440, 92, "03/04/2024 - 03/31/2024"},
	{50, 120, "Bill To:"}, {50, 134, "Summit Media Buying"}, {50, 148, "5 Larimer Street"}, {50, 162, "Denver, CO 80205"},
	{50, 220, "Description"}, {300, 220, "Spots"}, {360, 220, "Rate"}, {480, 220, "Amount"},
	{50, 236, "Morning Drive :60"}, {300, 236, "40"}, {360, 236, "$125.00"}, {480, 236, "$5,000.00"},
	{50, 250, "Afternoon Drive :60"}, {300, 250, "25"}, {360, 250, "$100.00"}, {480, 250, "$2,500.00"},
	{330, 290, "Gross Amount"}, {480, 290, "$7,500.00"},
	{330, 304, "Less Agency Commission 15%"}, {480, 304, "($1,125.00)"},
	{330, 318, "Net Amount Due"}, {480, 318, "$6,375.00"},
	{50, 360, "Payment Terms: Net 30"},
	{50, 374, "IBAN: GB82 WEST 1234 5698 7654 32   BIC: WESTGB2L"},
}

// TestExtractJSONWiderFields: `extract --json` on a text-layer PDF writes the wider
// invoice fields: the gross total, the commission as discount, the amount due, the
// flight period, the contract and the payment details.
func TestExtractJSONWiderFields(t *testing.T) {
	path := filepath.Join(t.TempDir(), "agency.pdf")
	writeTextPDF(t, path, agencyInvoice)
	var out, errOut bytes.Buffer
	if err := run(context.Background(), append([]string{"extract"}, []string{"--json", "--read", "text", path}...), func(string) string { return "" }, &out, &errOut); err != nil {
		t.Fatalf("extract: %v; %s", err, errOut.String())
	}
	var line struct {
		ExtractedData struct {
			Invoice struct {
				Amounts struct {
					Total    *float64 `json:"total"`
					Discount *float64 `json:"discount"`
				} `json:"amounts"`
				AmountDue     *float64                       `json:"amountDue"`
				DocumentType  string                         `json:"documentType"`
				ServicePeriod struct{ From, To string }      `json:"servicePeriod"`
				References    []struct{ Kind, Value string } `json:"references"`
				Payment       struct {
					IBAN    string `json:"iban"`
					BIC     string `json:"bic"`
					DueDays *int   `json:"dueDays"`
				} `json:"payment"`
				Supplier struct {
					Phone string `json:"phone"`
				} `json:"supplier"`
			} `json:"invoice"`
		} `json:"extractedData"`
	}
	if err := json.Unmarshal(out.Bytes(), &line); err != nil {
		t.Fatalf("%v: %s", err, out.String())
	}
	inv := line.ExtractedData.Invoice
	f := func(p *float64) float64 {
		if p == nil {
			return -1
		}
		return *p
	}
	if f(inv.Amounts.Total) != 7500 || f(inv.Amounts.Discount) != 1125 || f(inv.AmountDue) != 6375 {
		t.Errorf("total %v, discount %v, amount due %v; want 7500, 1125, 6375", f(inv.Amounts.Total), f(inv.Amounts.Discount), f(inv.AmountDue))
	}
	if inv.DocumentType != "invoice" || inv.ServicePeriod.From != "2024-03-04" || inv.ServicePeriod.To != "2024-03-31" {
		t.Errorf("documentType %q, servicePeriod %+v", inv.DocumentType, inv.ServicePeriod)
	}
	if len(inv.References) != 1 || inv.References[0].Kind != "contract" || inv.References[0].Value != "K-5521" {
		t.Errorf("references %+v", inv.References)
	}
	if inv.Payment.IBAN != "GB82WEST12345698765432" || inv.Payment.BIC != "WESTGB2L" || inv.Payment.DueDays == nil || *inv.Payment.DueDays != 30 {
		t.Errorf("payment %+v", inv.Payment)
	}
	if !strings.Contains(inv.Supplier.Phone, "555-0199") {
		t.Errorf("phone %q", inv.Supplier.Phone)
	}
}
