// Package evaluate scores extraction against folders of documents with known true values
// (a truth.jsonl per folder), with the scoring rules of the development data: dates equal
// as YYYY-MM-DD, amounts within 0.01, currency and ISO codes equal, invoice number and tax
// id equal after removing spaces and case, names equal after case-folding, collapsing
// white space and dropping punctuation, addresses matched by the words of the truth's
// postcode and city, line items by their count and every true amount being predicted.
package evaluate

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"unicode"

	"github.com/ocrinvoice/ocrinvoice/internal/invoice"
)

// Fields are the scored fields, in report order.
var Fields = []string{
	"invoice.number", "invoice.date", "invoice.dueDate",
	"invoice.supplier.name", "invoice.supplier.address", "invoice.supplier.taxId",
	"invoice.customer.name", "invoice.customer.address",
	"invoice.amounts.subtotal", "invoice.amounts.tax", "invoice.amounts.total", "invoice.amounts.currency",
	"lineItems",
}

// WiderFields are scored where a source provides their truth (see the dev data's
// README: amountDue = duePayable, purchaseOrder = orderReference, customer.taxId =
// customer.vatId or taxId, documentType from the e-invoice type code). They are reported
// after Fields and counted in MeanAll, not in Mean, so that Mean stays comparable.
var WiderFields = []string{
	"invoice.customer.taxId", "invoice.amountDue", "invoice.purchaseOrder", "invoice.documentType",
}

// MinTruths is how many truths a field needs to count in the folder's mean.
const MinTruths = 5

// Record is one line of truth.jsonl.
type Record struct {
	File      string          `json:"file"`
	Invoice   json.RawMessage `json:"invoice"`
	LineItems []TruthItem     `json:"lineItems"`
	Meta      map[string]any  `json:"meta"`

	inv truthInvoice
}

// TruthItem is a true line item; only Amount is scored.
type TruthItem struct {
	Description string   `json:"description"`
	Amount      *float64 `json:"amount"`
}

type truthInvoice struct {
	Number   *string `json:"number"`
	Date     *string `json:"date"`
	DueDate  *string `json:"dueDate"`
	Supplier struct {
		Name    *string         `json:"name"`
		Address json.RawMessage `json:"address"`
		TaxID   *string         `json:"taxId"`
	} `json:"supplier"`
	Customer struct {
		Name    *string         `json:"name"`
		Address json.RawMessage `json:"address"`
		TaxID   *string         `json:"taxId"`
		VatID   *string         `json:"vatId"`
	} `json:"customer"`
	Amounts struct {
		Subtotal   *float64 `json:"subtotal"`
		Tax        *float64 `json:"tax"`
		Total      *float64 `json:"total"`
		Currency   *string  `json:"currency"`
		DuePayable *float64 `json:"duePayable"`
	} `json:"amounts"`
	OrderReference *string `json:"orderReference"`
}

// typeCodeDocs maps UNTDID 1001 document type codes of e-invoices to document types.
var typeCodeDocs = map[string]string{
	"380": invoice.DocInvoice, "389": invoice.DocInvoice, "384": invoice.DocInvoice, "386": invoice.DocInvoice,
	"575": invoice.DocInvoice, "751": invoice.DocInvoice, "326": invoice.DocInvoice,
	"381": invoice.DocCreditNote, "261": invoice.DocCreditNote, "396": invoice.DocCreditNote,
	"383": invoice.DocDebitNote, "325": invoice.DocProforma,
}

// Excluded reports whether the record must be left out of scores
// (meta.visualMatch == false: the page shows something other than the truth).
func (r Record) Excluded() bool {
	v, ok := r.Meta["visualMatch"].(bool)
	return ok && !v
}

// LoadTruth reads dir/truth.jsonl.
func LoadTruth(dir string) ([]Record, error) {
	f, err := os.Open(filepath.Join(dir, "truth.jsonl"))
	if err != nil {
		return nil, fmt.Errorf("open truth: %w", err)
	}
	defer f.Close()
	var out []Record
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		var r Record
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			return nil, fmt.Errorf("parse %s line %d: %w", f.Name(), n, err)
		}
		if len(r.Invoice) > 0 {
			if err := json.Unmarshal(r.Invoice, &r.inv); err != nil {
				return nil, fmt.Errorf("parse %s line %d invoice: %w", f.Name(), n, err)
			}
		}
		out = append(out, r)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", f.Name(), err)
	}
	return out, nil
}

// Outcome is the score of one field of one document.
type Outcome struct {
	Field     string `json:"field"`
	Correct   bool   `json:"correct"`
	Truth     string `json:"truth"`
	Predicted string `json:"predicted"`
}

// Score compares a prediction with the record's truth, field by field, over the fields
// the truth has.
func Score(r Record, p invoice.ExtractedData) []Outcome {
	var out []Outcome
	t := r.inv
	str := func(field string, truth *string, pred string, eq func(a, b string) bool) {
		if truth == nil || *truth == "" {
			return
		}
		out = append(out, Outcome{Field: field, Correct: eq(*truth, pred), Truth: *truth, Predicted: pred})
	}
	num := func(field string, truth *float64, pred *float64) {
		if truth == nil {
			return
		}
		ok := pred != nil && math.Abs(*truth-*pred) <= 0.0100001
		ps := ""
		if pred != nil {
			ps = fmt.Sprintf("%.2f", *pred)
		}
		out = append(out, Outcome{Field: field, Correct: ok, Truth: fmt.Sprintf("%.2f", *truth), Predicted: ps})
	}
	addr := func(field string, truth json.RawMessage, pred string) {
		words, label := addressWords(truth)
		if len(words) == 0 {
			return
		}
		have := map[string]bool{}
		for _, w := range tokens(pred) {
			have[w] = true
		}
		ok := true
		for _, w := range words {
			if !have[w] {
				ok = false
			}
		}
		out = append(out, Outcome{Field: field, Correct: ok, Truth: label, Predicted: pred})
	}
	str("invoice.number", t.Number, p.Invoice.Number, eqID)
	str("invoice.date", t.Date, p.Invoice.Date, func(a, b string) bool { return a == b })
	str("invoice.dueDate", t.DueDate, p.Invoice.DueDate, func(a, b string) bool { return a == b })
	str("invoice.supplier.name", t.Supplier.Name, p.Invoice.Supplier.Name, eqName)
	addr("invoice.supplier.address", t.Supplier.Address, p.Invoice.Supplier.Address)
	str("invoice.supplier.taxId", t.Supplier.TaxID, p.Invoice.Supplier.TaxID, eqID)
	str("invoice.customer.name", t.Customer.Name, p.Invoice.Customer.Name, eqName)
	addr("invoice.customer.address", t.Customer.Address, p.Invoice.Customer.Address)
	num("invoice.amounts.subtotal", t.Amounts.Subtotal, p.Invoice.Amounts.Subtotal)
	num("invoice.amounts.tax", t.Amounts.Tax, p.Invoice.Amounts.Tax)
	num("invoice.amounts.total", t.Amounts.Total, p.Invoice.Amounts.Total)
	str("invoice.amounts.currency", t.Amounts.Currency, p.Invoice.Amounts.Currency, func(a, b string) bool { return strings.EqualFold(a, b) })
	custID := t.Customer.VatID
	if custID == nil {
		custID = t.Customer.TaxID
	}
	str("invoice.customer.taxId", custID, p.Invoice.Customer.TaxID, eqID)
	num("invoice.amountDue", t.Amounts.DuePayable, p.Invoice.AmountDue)
	str("invoice.purchaseOrder", t.OrderReference, p.Invoice.PurchaseOrder, eqID)
	if code, ok := r.Meta["typeCode"].(string); ok && typeCodeDocs[code] != "" {
		want := typeCodeDocs[code]
		str("invoice.documentType", &want, p.Invoice.DocumentType, func(a, b string) bool { return a == b })
	}
	if len(r.LineItems) > 0 {
		ok := len(p.LineItems) == len(r.LineItems)
		for _, ti := range r.LineItems {
			if ti.Amount == nil {
				continue
			}
			found := false
			for _, pi := range p.LineItems {
				if pi.Amount != nil && math.Abs(*pi.Amount-*ti.Amount) <= 0.0100001 {
					found = true
				}
			}
			if !found {
				ok = false
			}
		}
		out = append(out, Outcome{Field: "lineItems", Correct: ok, Truth: fmt.Sprintf("%d items", len(r.LineItems)), Predicted: fmt.Sprintf("%d items", len(p.LineItems))})
	}
	return out
}

func eqID(a, b string) bool {
	norm := func(s string) string {
		return strings.ToLower(strings.Join(strings.Fields(s), ""))
	}
	return norm(a) == norm(b)
}

// NormName case-folds, drops punctuation and collapses white space.
func NormName(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
		case unicode.IsSpace(r):
			b.WriteRune(' ')
		}
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

func eqName(a, b string) bool { return NormName(a) == NormName(b) }

// tokens splits an address into words: punctuation separates words ("Tampoi,81200").
func tokens(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
}

var rePostcodeWord = regexp.MustCompile(`^\d{4,6}$`)

// addressWords returns the words of the truth's postcode and city. A structured truth
// gives them directly; a free-text truth is read as "..., POSTCODE CITY, ...": the
// postcode token and the words after it in the same comma-separated part (or the last
// part when there is no postcode).
func addressWords(raw json.RawMessage) ([]string, string) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, ""
	}
	var obj struct {
		Postcode string `json:"postcode"`
		City     string `json:"city"`
	}
	if raw[0] == '{' {
		if err := json.Unmarshal(raw, &obj); err != nil {
			return nil, ""
		}
		s := strings.TrimSpace(obj.Postcode + " " + obj.City)
		return tokens(s), s
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil || strings.TrimSpace(s) == "" {
		return nil, ""
	}
	parts := strings.Split(s, ",")
	for i := len(parts) - 1; i >= 0; i-- {
		ws := strings.Fields(parts[i])
		for j, w := range ws {
			if rePostcodeWord.MatchString(strings.Trim(w, ".")) {
				label := strings.Join(ws[j:], " ")
				return tokens(label), label
			}
		}
	}
	last := strings.TrimSpace(parts[len(parts)-1])
	if last == "" && len(parts) > 1 {
		last = strings.TrimSpace(parts[len(parts)-2])
	}
	return tokens(last), last
}

// FieldStat is the accuracy of one field over a folder.
type FieldStat struct {
	Field    string  `json:"field"`
	Truths   int     `json:"truths"`
	Correct  int     `json:"correct"`
	Accuracy float64 `json:"accuracy"`
}

// Table is the score of one folder.
type Table struct {
	Folder    string      `json:"folder"`
	Read      string      `json:"read"`
	Documents int         `json:"documents"`
	Skipped   int         `json:"skipped"`
	Excluded  int         `json:"excluded"`
	Failed    int         `json:"failed"`
	Fields    []FieldStat `json:"fields"`
	// Mean is the mean accuracy over the Fields with at least MinTruths truths.
	Mean float64 `json:"mean"`
	// MeanAll is the same over Fields and WiderFields.
	MeanAll float64 `json:"meanAll"`
	Note    string  `json:"note,omitempty"`
	Wrong   []Miss  `json:"wrong,omitempty"`
}

// Miss is a wrong field of one document (for looking at errors).
type Miss struct {
	File string `json:"file"`
	Outcome
}

// Tally adds outcomes to per-field counts and computes the table's fields and mean.
func (t *Table) Tally(all map[string][2]int) {
	t.Fields = t.Fields[:0]
	sum, n, sumAll, nAll := 0.0, 0, 0.0, 0
	for i, f := range append(append([]string{}, Fields...), WiderFields...) {
		c := all[f]
		if c[0] == 0 {
			continue
		}
		fs := FieldStat{Field: f, Truths: c[0], Correct: c[1], Accuracy: float64(c[1]) / float64(c[0])}
		t.Fields = append(t.Fields, fs)
		if c[0] >= MinTruths {
			if i < len(Fields) {
				sum += fs.Accuracy
				n++
			}
			sumAll += fs.Accuracy
			nAll++
		}
	}
	if n > 0 {
		t.Mean = sum / float64(n)
	}
	if nAll > 0 {
		t.MeanAll = sumAll / float64(nAll)
	}
}

// Print writes the table for a person.
func (t *Table) Print(w io.Writer) {
	fmt.Fprintf(w, "%s (read %s): %d documents scored, %d skipped, %d excluded, %d failed\n", t.Folder, t.Read, t.Documents, t.Skipped, t.Excluded, t.Failed)
	if t.Note != "" {
		fmt.Fprintf(w, "  note: %s\n", t.Note)
	}
	fmt.Fprintf(w, "  %-26s %6s %7s %8s\n", "field", "truths", "correct", "accuracy")
	for _, f := range t.Fields {
		mark := ""
		if f.Truths < MinTruths {
			mark = "  (not in mean)"
		}
		fmt.Fprintf(w, "  %-26s %6d %7d %8.3f%s\n", f.Field, f.Truths, f.Correct, f.Accuracy, mark)
	}
	fmt.Fprintf(w, "  %-26s %23.3f\n", "mean (fields >= 5 truths)", t.Mean)
	if t.MeanAll != t.Mean {
		fmt.Fprintf(w, "  %-26s %23.3f\n", "mean incl. wider fields", t.MeanAll)
	}
}

// SortMisses orders misses by field then file.
func SortMisses(ms []Miss) {
	sort.SliceStable(ms, func(i, j int) bool {
		if ms[i].Field != ms[j].Field {
			return ms[i].Field < ms[j].Field
		}
		return ms[i].File < ms[j].File
	})
}
