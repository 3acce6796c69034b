package templates

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ocrinvoice/ocrinvoice/internal/invoice"
)

func loadShape(t *testing.T, name string) *Template {
	t.Helper()
	tpl, err := LoadFile(filepath.Join("testdata", "shapes", name))
	if err != nil {
		t.Fatal(err)
	}
	return tpl
}

func readText(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "texts", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func f(v float64) *float64 { return &v }

func fieldString(v Value) string {
	switch {
	case v.Float != nil:
		return strconv.FormatFloat(*v.Float, 'f', -1, 64)
	case v.Date != "":
		return v.Date
	}
	return v.String
}

// TestApplyShapes applies each synthetic template to its synthetic invoice and checks every
// contract field, the extras and the line items.
func TestApplyShapes(t *testing.T) {
	tests := []struct {
		template, text string
		fields         map[string]string // contract path -> normalised value
		extra          map[string]string
		lines          []invoice.LineItem
		missing        []string
		sources        map[string]string // contract path -> Value.Source
	}{
		{
			template: "legacy.yml", text: "legacy.txt",
			fields: map[string]string{
				"invoice.number": "2024017", "invoice.date": "2024-03-05",
				"invoice.amounts.total": "1491.34", "invoice.amounts.subtotal": "1246.5",
				"invoice.amounts.tax": "244.84", "invoice.supplier.taxId": "DE123456789",
				"invoice.amounts.currency": "EUR", "invoice.supplier.name": "Acme Legacy GmbH",
			},
			extra:   map[string]string{"partner_website": "www.acme-legacy.example"},
			sources: map[string]string{"invoice.supplier.name": SourceIssuer, "invoice.number": SourceRegex, "invoice.supplier.taxId": SourceStatic, "invoice.amounts.tax": SourceRegex},
			lines: []invoice.LineItem{
				{Description: "Schrauben M4 verzinkt\nPackung zu 100 Stück\nLieferung ab Lager", Quantity: f(100), UnitPrice: f(1234.5)},
				{Description: "Muttern M4", Quantity: f(50), UnitPrice: f(12)},
			},
		},
		{
			template: "modern.yaml", text: "modern.txt",
			fields: map[string]string{
				"invoice.number": "MP-0042", "invoice.date": "2024-02-03", "invoice.dueDate": "2024-03-04",
				"invoice.amounts.total": "1536", "invoice.amounts.tax": "256",
				"invoice.supplier.name": "Modern Parser Ltd", "invoice.supplier.taxId": "GB999000111",
				"invoice.amounts.currency": "GBP",
			},
			extra: map[string]string{},
			lines: []invoice.LineItem{
				{Description: "Consulting hours", Quantity: f(10), Amount: f(1200)},
				{Description: "Travel", Quantity: f(1), Amount: f(80)},
			},
		},
		{
			template: "shop.json", text: "shop.txt",
			fields: map[string]string{
				"invoice.number": "88123", "invoice.date": "2023-01-07", "invoice.amounts.total": "1049.95",
				"invoice.supplier.taxId": "NL123456789B01", "invoice.customer.name": "Jan de Vries",
				"invoice.supplier.address": "Utrecht", "invoice.amounts.currency": "EUR",
				"invoice.supplier.name": "JSON Shop BV",
			},
			extra:   map[string]string{"partner_city": "Utrecht", "customer_since": "2019-02-03", "points": "1204"},
			sources: map[string]string{"invoice.customer.name": SourceTable, "invoice.supplier.address": SourceTable, "invoice.amounts.currency": SourceStatic},
		},
	}
	for _, tc := range tests {
		t.Run(tc.template, func(t *testing.T) {
			tpl := loadShape(t, tc.template)
			text := readText(t, tc.text)
			if ok, err := tpl.Matches(text); err != nil || !ok {
				t.Fatalf("template does not match its text: %v %v", ok, err)
			}
			res, err := tpl.Apply(text)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for k, v := range res.Fields {
				got[k] = fieldString(v)
			}
			if !reflect.DeepEqual(got, tc.fields) {
				t.Errorf("fields\n got %v\nwant %v\nwarnings %v", got, tc.fields, res.Warnings)
			}
			if !reflect.DeepEqual(res.Extra, tc.extra) {
				t.Errorf("extra = %v, want %v", res.Extra, tc.extra)
			}
			if !equalLines(res.LineItems, tc.lines) {
				t.Errorf("line items\n got %s\nwant %s", dumpLines(res.LineItems), dumpLines(tc.lines))
			}
			if !reflect.DeepEqual(res.Missing, tc.missing) {
				t.Errorf("missing = %v, want %v", res.Missing, tc.missing)
			}
			for p, src := range tc.sources {
				if got := res.Fields[p].Source; got != src {
					t.Errorf("%s: source %q, want %q", p, got, src)
				}
			}
		})
	}
}

func equalLines(a, b []invoice.LineItem) bool {
	if len(a) != len(b) {
		return false
	}
	eq := func(x, y *float64) bool {
		return (x == nil) == (y == nil) && (x == nil || math.Abs(*x-*y) < 1e-9)
	}
	for i := range a {
		if a[i].Description != b[i].Description || !eq(a[i].Quantity, b[i].Quantity) ||
			!eq(a[i].UnitPrice, b[i].UnitPrice) || !eq(a[i].Amount, b[i].Amount) {
			return false
		}
	}
	return true
}

func dumpLines(ls []invoice.LineItem) string {
	var parts []string
	p := func(v *float64) string {
		if v == nil {
			return "nil"
		}
		return strconv.FormatFloat(*v, 'f', -1, 64)
	}
	for _, l := range ls {
		parts = append(parts, "{"+l.Description+" q="+p(l.Quantity)+" u="+p(l.UnitPrice)+" a="+p(l.Amount)+"}")
	}
	return strings.Join(parts, " ")
}

func TestSelect(t *testing.T) {
	mk := func(name string, prio int, kw, excl []string) *Template {
		tpl, err := FromSpec(name, invoice.TemplateSpec{Keywords: kw, ExcludeKeywords: excl, Priority: prio,
			Fields: map[string]invoice.FieldRule{"invoice_number": {Regex: []string{`No (\d+)`}}}})
		if err != nil {
			t.Fatal(err)
		}
		return tpl
	}
	generic := mk("generic", 0, []string{"Acme"}, nil)
	special := mk("special", 6, []string{"Acme", `Branch\s+\d+`}, nil)
	noCredit := mk("no-credit", 9, []string{"Acme"}, []string{"(?i)credit note"})
	low := mk("low", 1, []string{"Acme"}, nil)
	ws := func() *Template {
		tpl, _ := FromSpec("ws", invoice.TemplateSpec{Keywords: []string{"WSRetail"}, Options: invoice.TemplateOptions{RemoveWhitespace: true},
			Fields: map[string]invoice.FieldRule{"a": {Regex: []string{`x`}}}})
		return tpl
	}()
	all := []*Template{low, generic, special, noCredit, ws}
	tests := []struct {
		text, want string
	}{
		{"Acme invoice", "no-credit"},
		{"Acme CREDIT NOTE", "generic"},
		{"Acme Branch 12 Credit Note", "special"},
		{"Other company", ""},
		{"acme lower case", ""},
		{"Sold by WS Retail Services", "ws"}, // keywords are matched after the template's options
	}
	for _, tc := range tests {
		t.Run(tc.text, func(t *testing.T) {
			got := Select(all, tc.text)
			name := ""
			if got != nil {
				name = got.Name
			}
			if name != tc.want {
				t.Errorf("Select(%q) = %q, want %q", tc.text, name, tc.want)
			}
		})
	}
	if Select(nil, "Acme") != nil {
		t.Error("Select of no templates is not nil")
	}
}

// TestApplyRules covers field rules one at a time on small texts.
func TestApplyRules(t *testing.T) {
	type rules map[string]invoice.FieldRule
	tests := []struct {
		name    string
		fields  rules
		lines   *invoice.LinesRule
		opts    invoice.TemplateOptions
		text    string
		want    map[string]string // contract path or extra name -> value
		lineN   int
		missing []string
	}{
		{
			name:   "group sum first last min max join",
			fields: rules{"amount_tax": {Regex: []string{`Tax (\S+)`}, Type: "float", Group: "sum"}, "amount": {Regex: []string{`Tot (\S+)`}, Type: "float", Group: "last"}, "amount_untaxed": {Regex: []string{`Tot (\S+)`}, Type: "float", Group: "first"}, "low": {Regex: []string{`Tot (\S+)`}, Type: "float", Group: "min"}, "high": {Regex: []string{`Tot (\S+)`}, Type: "float", Group: "max"}, "notes": {Regex: []string{`Note: (\w+)`}, Group: "join"}},
			text:   "Tax 1.10 Tax 2.20 Tax 0.00 Tot 5.00 Tot 9.50 Tot 3.25 Note: a Note: b",
			want:   map[string]string{"invoice.amounts.tax": "3.3", "invoice.amounts.total": "3.25", "invoice.amounts.subtotal": "5", "low": "3.25", "high": "9.5", "notes": "a b"},
		},
		{
			name:   "dates group min and max",
			fields: rules{"date": {Regex: []string{`\s(\d\d/\d\d/\d{4})`}, Type: "date", Group: "min"}, "date_due": {Regex: []string{`\s(\d\d/\d\d/\d{4})`}, Type: "date", Group: "max"}},
			opts:   invoice.TemplateOptions{Languages: []string{"en"}},
			text:   "Dates: 03/20/2023 04/04/2023 01/02/2024",
			want:   map[string]string{"invoice.date": "2023-03-20", "invoice.dueDate": "2024-01-02"},
		},
		{
			name:   "no group keeps distinct values in order, first is used",
			fields: rules{"invoice_number": {Regex: []string{`No (\d+)`, `Nr (\d+)`}}},
			text:   "No 7 Nr 8 No 7",
			want:   map[string]string{"invoice.number": "7"},
		},
		{
			name:   "static and contract paths as names",
			fields: rules{"invoice.customer.name": {Parser: "static", Value: "Buyer AG"}, "partner_name": {Parser: "static", Value: "Seller"}},
			text:   "anything",
			want:   map[string]string{"invoice.customer.name": "Buyer AG", "invoice.supplier.name": "Seller"},
		},
		{
			name:   "untyped amount is still normalised with the decimal separator",
			fields: rules{"total_due": {Regex: []string{`x`}}, "invoice.amounts.total": {Regex: []string{`Summe ([\d.,]+)`}}},
			opts:   invoice.TemplateOptions{DecimalSeparator: ","},
			text:   "Summe 2.500,10 x",
			want:   map[string]string{"invoice.amounts.total": "2500.1", "total_due": "x"},
		},
		{
			name:   "remove_whitespace lowercase replace remove_accents",
			fields: rules{"invoice_number": {Regex: []string{`facturen°:(\w+)`}}, "amount": {Regex: []string{`total:(\d+\.\d\d)`}, Type: "float"}},
			opts:   invoice.TemplateOptions{RemoveWhitespace: true, Lowercase: true, Replace: [][2]string{{`°`, `n°`}, {`(\d+),(\d\d)`, `\1.\2`}}},
			text:   "FACTURE ° : AB12\nTOTAL : 12,50",
			want:   map[string]string{"invoice.number": "ab12", "invoice.amounts.total": "12.5"},
		},
		{
			name:   "remove_accents",
			fields: rules{"invoice_number": {Regex: []string{`Numero de facture (\w+)`}}},
			opts:   invoice.TemplateOptions{RemoveAccents: true},
			text:   "Numéro de facture F9",
			want:   map[string]string{"invoice.number": "F9"},
		},
		{
			name:    "required fields missing",
			fields:  rules{"invoice_number": {Regex: []string{`No (\d+)`}}, "static_vat": {Parser: "static", Value: "X"}},
			opts:    invoice.TemplateOptions{RequiredFields: []string{"invoice_number", "static_vat", "amount"}},
			text:    "nothing here",
			want:    map[string]string{"invoice.supplier.taxId": "X"},
			missing: []string{"invoice_number", "amount"},
		},
		{
			name:    "default required fields",
			fields:  rules{"invoice_number": {Regex: []string{`No (\d+)`}}},
			text:    "No 5",
			want:    map[string]string{"invoice.number": "5"},
			missing: []string{"date", "amount"},
		},
		{
			name: "lines with first_line, line, last_line and skip_line",
			lines: &invoice.LinesRule{
				Start: `^Items`, End: `(?m)^End`,
				FirstLine: `^\* (?P<name>.+?)\s+(?P<qty>\d+)$`,
				Line:      `^\s+(?P<name>\S.*)$`,
				LastLine:  `^\s+= (?P<price_subtotal>\d+\.\d\d)$`,
				SkipLine:  []string{`^\s+#`},
				Types:     map[string]string{"qty": "int", "price_subtotal": "float"},
			},
			text:  "Items\n* Apple 2\n  red\n  # internal note\n  = 3.00\n  stray line ignored\n* Pear 1\n  = 1.50\nEnd\n",
			lineN: 2,
			want:  map[string]string{"lines": "Apple\nred|3|2|Pear|1.5|1"}, // per row: name, price_subtotal, qty
		},
		{
			name: "a required lines field is found when it has rows",
			fields: rules{"line_items": {Parser: "lines", Lines: &invoice.LinesRule{
				Start: `Items`, End: `Total`, Line: `(?P<name>[A-Z]\w+) (?P<price_subtotal>\d+\.\d\d)`,
			}}, "other_items": {Parser: "lines", Lines: &invoice.LinesRule{Start: `Nope`, End: `Total`, Line: `(?P<name>.+)`}}},
			opts:    invoice.TemplateOptions{RequiredFields: []string{"line_items", "other_items"}},
			text:    "Items\nBolt 1.00\nTotal\n",
			lineN:   1,
			want:    map[string]string{"lines": "Bolt|1.00"},
			missing: []string{"other_items"},
		},
		{
			name: "lines over several blocks and rules",
			lines: &invoice.LinesRule{Rules: []invoice.LinesRule{
				{Start: `Page items`, End: `Carried`, Line: `(?P<name>[A-Z]\w+)\s+(?P<price_unit>\d+,\d\d)`},
				{Start: `Fees`, End: `Total`, Line: `Fee (?P<name>\w+)\s+(?P<price_unit>\d+,\d\d)`},
			}, Types: map[string]string{"price_unit": "float"}},
			opts:  invoice.TemplateOptions{DecimalSeparator: ","},
			text:  "Page items\nBolt 1,00\nCarried\nPage items\nNut 2,00\nCarried\nFees\nFee Post 3,50\nTotal\n",
			lineN: 3,
			want:  map[string]string{"lines": "Bolt|1|Nut|2|Post|3.5"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			spec := invoice.TemplateSpec{Keywords: []string{"."}, Fields: map[string]invoice.FieldRule{}, Lines: tc.lines, Options: tc.opts}
			for k, v := range tc.fields {
				spec.Fields[k] = v
			}
			tpl, err := FromSpec(tc.name, spec, WithClock(func() time.Time { return fixedNow }))
			if err != nil {
				t.Fatal(err)
			}
			res, err := tpl.Apply(tc.text)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for k, v := range res.Fields {
				if k != "invoice.amounts.currency" && v.Source != SourceIssuer {
					got[k] = fieldString(v)
				}
			}
			for k, v := range res.Extra {
				got[k] = v
			}
			if len(res.Lines) > 0 {
				var parts []string
				for _, row := range res.Lines {
					keys := make([]string, 0, len(row))
					for k := range row {
						keys = append(keys, k)
					}
					sort.Strings(keys)
					for _, k := range keys {
						parts = append(parts, row[k])
					}
				}
				got["lines"] = strings.Join(parts, "|")
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %q\nwant %q\nwarnings %v", got, tc.want, res.Warnings)
			}
			if len(res.LineItems) != tc.lineN {
				t.Errorf("%d line items, want %d", len(res.LineItems), tc.lineN)
			}
			if tc.missing != nil && len(res.Missing)+len(tc.missing) > 0 && !reflect.DeepEqual(res.Missing, tc.missing) {
				t.Errorf("missing = %v, want %v", res.Missing, tc.missing)
			}
		})
	}
}

func TestCurrency(t *testing.T) {
	tests := []struct {
		name   string
		opt    string
		fields map[string]invoice.FieldRule
		want   string
	}{
		{"option wins", "chf", map[string]invoice.FieldRule{"currency": {Parser: "static", Value: "USD"}}, "CHF"},
		{"field when no option", "", map[string]invoice.FieldRule{"currency": {Parser: "static", Value: "usd"}}, "USD"},
		{"symbol field", "", map[string]invoice.FieldRule{"currency_symbol": {Parser: "static", Value: "£"}}, "GBP"},
		{"none stated: left out, not invoice2data's EUR", "", nil, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tpl, err := FromSpec("c", invoice.TemplateSpec{Keywords: []string{"x"}, Fields: tc.fields, Options: invoice.TemplateOptions{Currency: tc.opt}})
			if err != nil {
				t.Fatal(err)
			}
			res, err := tpl.Apply("x")
			if err != nil {
				t.Fatal(err)
			}
			if got := res.Fields["invoice.amounts.currency"].String; got != tc.want {
				t.Errorf("currency %q, want %q", got, tc.want)
			}
		})
	}
}

// TestConcurrentUse applies one template from several goroutines (run with -race): a
// Template is shared by the worker's concurrent jobs.
func TestConcurrentUse(t *testing.T) {
	tpl := loadShape(t, "legacy.yml")
	text := readText(t, "legacy.txt")
	want, err := tpl.Apply(text)
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan string, 8)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 20 {
				got, err := tpl.Apply(text)
				if err != nil || !reflect.DeepEqual(got.Fields, want.Fields) || Select([]*Template{tpl}, text) != tpl {
					errs <- fmt.Sprintf("concurrent Apply differs: %v", err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}
