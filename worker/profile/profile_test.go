package profile_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ocrinvoice/ocrinvoice/internal/invoice"
	"github.com/ocrinvoice/ocrinvoice/worker/extract"
	"github.com/ocrinvoice/ocrinvoice/worker/layout"
	"github.com/ocrinvoice/ocrinvoice/worker/profile"
)

// supplierDoc is one invoice of a supplier whose invoice number stands at a label the
// generic rules do not know (label), next to a customer number they take instead.
type supplierDoc struct {
	label, number, date, net, tax, total string
	customer                             string // the customer number
	noNumber                             bool   // the number's line is left out
}

func (s supplierDoc) text() string {
	numLine := fmt.Sprintf("%-18s %-22s Datum: %s", s.label, s.number, s.date)
	if s.noNumber {
		numLine = fmt.Sprintf("%-41s Datum: %s", "", s.date)
	}
	return fmt.Sprintf(`ACME Werkzeuge GmbH
Hauptstrasse 5, 10115 Berlin
USt-IdNr. DE811907980

Beispiel AG
Gartenweg 3
80331 Muenchen

Kunden-Nr.: %s
%s

Pos  Beschreibung                  Betrag
1    Schrauben                     %s

Netto                              %s
MwSt 19%%                            %s
Endbetrag EUR                      %s
`, s.customer, numLine, s.net, s.net, s.tax, s.total)
}

func (s supplierDoc) doc() *layout.Document { return extract.FromText(s.text()) }

func amount(t testing.TB, s string) *float64 {
	t.Helper()
	f, ok := extract.ParseAmount(s, ',')
	if !ok {
		t.Fatalf("amount %q", s)
	}
	return &f
}

// truth is what a person correcting the document would enter.
func (s supplierDoc) truth(t testing.TB) invoice.ExtractedData {
	d, ok := extract.ParseDate(s.date, extract.DMY)
	if !ok {
		t.Fatalf("date %q", s.date)
	}
	return invoice.ExtractedData{Invoice: invoice.Invoice{
		Number: s.number, Date: d,
		Supplier: invoice.Supplier{Name: "ACME Werkzeuge GmbH", Address: "Hauptstrasse 5, 10115 Berlin", TaxID: "DE811907980"},
		Customer: invoice.Customer{Name: "Beispiel AG", Address: "Gartenweg 3, 80331 Muenchen"},
		Amounts:  invoice.Amounts{Subtotal: amount(t, s.net), Tax: amount(t, s.tax), Total: amount(t, s.total), Currency: "EUR"},
	}}
}

func extractDoc(t testing.TB, d *layout.Document) extract.Result {
	t.Helper()
	res, err := extract.Extract(d, extract.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func learn(t *testing.T, s supplierDoc, truth invoice.ExtractedData, prev []byte, used *invoice.ProfileUse) []byte {
	t.Helper()
	d := s.doc()
	machine := extractDoc(t, d)
	_, rules, err := profile.Learn(d, truth, machine.Data, prev, used)
	if err != nil {
		t.Fatalf("learn: %v", err)
	}
	return rules
}

func rulesOf(t *testing.T, b []byte) profile.Rules {
	t.Helper()
	var r profile.Rules
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

// numberRule is the rule for invoice.number of the profile's only layout.
func numberRule(t *testing.T, b []byte) *profile.Rule {
	t.Helper()
	r := rulesOf(t, b)
	if len(r.Layouts) != 1 {
		t.Fatalf("%d layouts, want 1: %s", len(r.Layouts), b)
	}
	return r.Layouts[0].Fields["invoice.number"]
}

// TestLearnUnusualLabel: two invoices of one supplier with the number at a label the
// generic rules do not know; learning from the first finds it on the second.
func TestLearnUnusualLabel(t *testing.T) {
	for _, label := range []string{"Beleg", "Policy", "Vorgang"} {
		t.Run(label, func(t *testing.T) {
			first := supplierDoc{label: label, number: "BX-20417", date: "03.02.2024", net: "100,00", tax: "19,00", total: "119,00", customer: "K-4711"}
			second := supplierDoc{label: label, number: "BX-20533", date: "17.03.2024", net: "250,00", tax: "47,50", total: "297,50", customer: "K-4711"}
			rules := learn(t, first, first.truth(t), nil, nil)

			d := second.doc()
			res := extractDoc(t, d)
			if res.Data.Invoice.Number == second.number {
				t.Fatalf("the generic rules already read the number; the case proves nothing")
			}
			set, err := profile.Apply(d, rules, &res)
			if err != nil {
				t.Fatal(err)
			}
			if got := res.Data.Invoice.Number; got != second.number {
				t.Fatalf("number %q, want %q (set %v)", got, second.number, set)
			}
			if !slices.Contains(set, "invoice.number") {
				t.Errorf("set %v lacks invoice.number", set)
			}
			if c := res.Confidence.Fields["invoice.number"]; c < profile.LearnedConfidence || c > profile.MaxConfidence {
				t.Errorf("number confidence %v, want at least the rule's %v", c, profile.LearnedConfidence)
			}
			if ev := res.Evidence["invoice.number"]; ev.Source != invoice.SourceLearned || ev.Page != 1 || ev.Box == nil || ev.Text != second.number || ev.Confidence != res.Confidence.Fields["invoice.number"] {
				t.Errorf("number evidence %+v", ev)
			}
			if ev := res.Evidence["invoice.supplier.name"]; ev.Source != invoice.SourceLearned || ev.Page != 1 || ev.Box == nil || ev.Box.Y0 > 0.1 {
				t.Errorf("supplier name evidence %+v, want the learned source and the first line's box", ev)
			}
			if got := res.Data.Invoice.Date; got != "2024-03-17" {
				t.Errorf("date %q", got)
			}
			if got := res.Data.Invoice.Amounts.Total; got == nil || *got != 297.5 {
				t.Errorf("total %v", got)
			}
		})
	}
}

// TestLearnOCRNoiseOnLabel: the label is read with OCR noise on the later document.
func TestLearnOCRNoiseOnLabel(t *testing.T) {
	first := supplierDoc{label: "Vorgangskennung:", number: "VG-20417", date: "03.02.2024", net: "100,00", tax: "19,00", total: "119,00", customer: "K-4711"}
	rules := learn(t, first, first.truth(t), nil, nil)
	for _, noisy := range []string{"Vorgangskenmung:", "V0rgangskennung:", "VORGANGSKENNUNG", "Vorgangs kennung:"} {
		t.Run(noisy, func(t *testing.T) {
			second := supplierDoc{label: noisy, number: "VG-20533", date: "17.03.2024", net: "250,00", tax: "47,50", total: "297,50", customer: "K-4711"}
			d := second.doc()
			res := extractDoc(t, d)
			if _, err := profile.Apply(d, rules, &res); err != nil {
				t.Fatal(err)
			}
			if got := res.Data.Invoice.Number; got != second.number {
				t.Fatalf("number %q, want %q", got, second.number)
			}
		})
	}
	// A number of another shape at the label is not taken.
	other := supplierDoc{label: "Vorgangskennung:", number: "2024/77/A", date: "17.03.2024", net: "250,00", tax: "47,50", total: "297,50", customer: "K-4711"}
	d := other.doc()
	res := extractDoc(t, d)
	generic := res.Data.Invoice.Number
	set, err := profile.Apply(d, rules, &res)
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(set, "invoice.number") || res.Data.Invoice.Number != generic {
		t.Errorf("a number of another shape was taken: %q (set %v)", res.Data.Invoice.Number, set)
	}
}

// TestLearnMissingFieldKeepsGeneric: a field the later document does not show keeps
// the generic value and is not reported as set.
func TestLearnMissingFieldKeepsGeneric(t *testing.T) {
	first := supplierDoc{label: "Beleg", number: "BX-20417", date: "03.02.2024", net: "100,00", tax: "19,00", total: "119,00", customer: "K-4711"}
	rules := learn(t, first, first.truth(t), nil, nil)
	second := supplierDoc{label: "Beleg", noNumber: true, date: "17.03.2024", net: "250,00", tax: "47,50", total: "297,50", customer: "K-4711"}
	d := second.doc()
	res := extractDoc(t, d)
	generic := res.Data.Invoice.Number
	set, err := profile.Apply(d, rules, &res)
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(set, "invoice.number") {
		t.Errorf("set %v has invoice.number, which the document does not show", set)
	}
	if res.Data.Invoice.Number != generic {
		t.Errorf("number %q, want the generic %q", res.Data.Invoice.Number, generic)
	}
	if !slices.Contains(set, "invoice.amounts.total") {
		t.Errorf("set %v lacks the total, which the document shows", set)
	}
}

// TestPoisonedProfileIsFixed: a profile learned from a wrong truth (the customer number
// taken for the invoice number) supplies a wrong number; the next correction decays
// that rule and relearns the field, and the profile is right from then on.
func TestPoisonedProfileIsFixed(t *testing.T) {
	first := supplierDoc{label: "Beleg", number: "BX-20417", date: "03.02.2024", net: "100,00", tax: "19,00", total: "119,00", customer: "K-4711"}
	wrong := first.truth(t)
	wrong.Invoice.Number = "K-4711"
	rules := learn(t, first, wrong, nil, nil)
	if r := numberRule(t, rules); r == nil || !slices.Equal(r.Label, []string{"kundennr"}) {
		t.Fatalf("poisoned rule %+v, want one at the customer number's label", r)
	}

	second := supplierDoc{label: "Beleg", number: "BX-20533", date: "17.03.2024", net: "250,00", tax: "47,50", total: "297,50", customer: "K-4712"}
	d := second.doc()
	res := extractDoc(t, d)
	set, err := profile.Apply(d, rules, &res)
	if err != nil {
		t.Fatal(err)
	}
	if res.Data.Invoice.Number != "K-4712" {
		t.Fatalf("the poisoned profile gave %q, want the customer number K-4712", res.Data.Invoice.Number)
	}
	// The person corrects the number; the job used the profile for the fields in set.
	fixed, err := func() ([]byte, error) {
		_, b, err := profile.Learn(d, second.truth(t), res.Data, rules, &invoice.ProfileUse{ID: "p1", Version: 1, Fields: set})
		return b, err
	}()
	if err != nil {
		t.Fatal(err)
	}
	r := numberRule(t, fixed)
	if r == nil || !slices.Equal(r.Label, []string{"beleg"}) || r.Confidence != profile.LearnedConfidence {
		t.Fatalf("relearned rule %+v, want one at Beleg with a fresh confidence", r)
	}
	// Fields the correction confirmed gain confidence.
	if tr := rulesOf(t, fixed).Layouts[0].Fields["invoice.amounts.total"]; tr == nil || tr.Confidence <= profile.LearnedConfidence || tr.Seen != 2 {
		t.Errorf("confirmed total rule %+v, want more confidence and seen twice", tr)
	}

	third := supplierDoc{label: "Beleg", number: "BX-20611", date: "02.04.2024", net: "80,00", tax: "15,20", total: "95,20", customer: "K-4713"}
	d3 := third.doc()
	res3 := extractDoc(t, d3)
	if _, err := profile.Apply(d3, fixed, &res3); err != nil {
		t.Fatal(err)
	}
	if res3.Data.Invoice.Number != third.number {
		t.Errorf("after the fix the number is %q, want %q", res3.Data.Invoice.Number, third.number)
	}
}

// TestDecay: a rule a truth contradicts, where the truth's value cannot be relearned
// (it is not printed), loses confidence, and is dropped below the floor.
func TestDecay(t *testing.T) {
	first := supplierDoc{label: "Beleg", number: "BX-20417", date: "03.02.2024", net: "100,00", tax: "19,00", total: "119,00", customer: "K-4711"}
	rules := learn(t, first, first.truth(t), nil, nil)
	used := &invoice.ProfileUse{ID: "p1", Version: 1, Fields: []string{"invoice.number"}}
	// The job read BX-20417 by the profile; the truth says a number printed nowhere.
	truth := first.truth(t)
	truth.Invoice.Number = "ZZ-1"
	machine := first.truth(t)
	want := profile.LearnedConfidence
	for i := 0; ; i++ {
		var err error
		_, rules, err = profile.Learn(first.doc(), truth, machine, rules, used)
		if err != nil {
			t.Fatal(err)
		}
		want *= profile.Decay
		r := numberRule(t, rules)
		if want < profile.Floor {
			if r != nil {
				t.Fatalf("rule kept at confidence %v below the floor", r.Confidence)
			}
			if i == 0 {
				t.Fatal("dropped at the first contradiction")
			}
			break
		}
		if r == nil || r.Confidence != want || r.Contradicted != i+1 {
			t.Fatalf("after %d contradictions: %+v, want confidence %v", i+1, r, want)
		}
	}
	// A later truth relearns the field.
	rules = learn(t, first, first.truth(t), rules, nil)
	if r := numberRule(t, rules); r == nil || r.Confidence != profile.LearnedConfidence {
		t.Fatalf("not relearned: %+v", r)
	}
}

// TestPartyValues: the supplier's values are used on a later document that shows them,
// and not on one of another supplier's or one that does not show them.
func TestPartyValues(t *testing.T) {
	first := supplierDoc{label: "Beleg", number: "BX-20417", date: "03.02.2024", net: "100,00", tax: "19,00", total: "119,00", customer: "K-4711"}
	rules := learn(t, first, first.truth(t), nil, nil)
	second := supplierDoc{label: "Beleg", number: "BX-20533", date: "17.03.2024", net: "250,00", tax: "47,50", total: "297,50", customer: "K-4711"}
	d := second.doc()
	res := extractDoc(t, d)
	res.Data.Invoice.Supplier.TaxID = ""
	res.Data.Invoice.Customer.TaxID = "DE811907980" // the generic rules took the supplier's id for the customer's
	if _, err := profile.Apply(d, rules, &res); err != nil {
		t.Fatal(err)
	}
	if got := res.Data.Invoice.Supplier.TaxID; got != "DE811907980" {
		t.Errorf("supplier tax id %q", got)
	}
	if got := res.Data.Invoice.Supplier.Name; got != "ACME Werkzeuge GmbH" {
		t.Errorf("supplier name %q", got)
	}

	// Another customer: the learned customer is not printed, the generic one stays.
	other := strings.Replace(second.text(), "Beispiel AG", "Muster KG", 1)
	od := extract.FromText(other)
	ores := extractDoc(t, od)
	generic := ores.Data.Invoice.Customer.Name
	set, err := profile.Apply(od, rules, &ores)
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(set, "invoice.customer.name") || ores.Data.Invoice.Customer.Name != generic {
		t.Errorf("customer %q (set %v), want the generic %q", ores.Data.Invoice.Customer.Name, set, generic)
	}
}

// TestOtherLayoutOnlyPartyFields: a document of the same supplier in another layout
// gets the party values but none of the places learned on the first layout.
func TestOtherLayoutOnlyPartyFields(t *testing.T) {
	first := supplierDoc{label: "Beleg", number: "BX-20417", date: "03.02.2024", net: "100,00", tax: "19,00", total: "119,00", customer: "K-4711"}
	rules := learn(t, first, first.truth(t), nil, nil)
	d := extract.FromText(`                                   ACME Werkzeuge GmbH
                                   Hauptstrasse 5, 10115 Berlin
Gutschrift
Beleg BX-30001
Vom 05.05.2024
Summe netto 10,00   Steuer 1,90   Summe 11,90
Zahlungsziel sofort ohne Abzug
Bankverbindung Sparkasse Berlin
`)
	res := extractDoc(t, d)
	set, err := profile.Apply(d, rules, &res)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range set {
		if !strings.HasPrefix(p, "invoice.supplier.") && p != "invoice.amounts.currency" {
			t.Errorf("set %s on a document of another layout", p)
		}
	}
	if !slices.Contains(set, "invoice.supplier.name") {
		t.Errorf("set %v lacks the supplier's name", set)
	}
}

// TestBadRules: rules that cannot be read are an error that names the problem, and
// leave the result alone; Learn refuses to build on them.
func TestBadRules(t *testing.T) {
	first := supplierDoc{label: "Beleg", number: "BX-20417", date: "03.02.2024", net: "100,00", tax: "19,00", total: "119,00", customer: "K-4711"}
	good := learn(t, first, first.truth(t), nil, nil)
	cases := map[string][]byte{
		"not json":        []byte("\x1f\x8b garbage"),
		"other format":    []byte(`{"format":99,"fields":{}}`),
		"unknown field":   []byte(`{"format":1,"fields":{"invoice.colour":{"kind":"text","value":"red","confidence":0.8}}}`),
		"wrong kind":      []byte(`{"format":1,"fields":{"invoice.supplier.name":{"kind":"amount","confidence":0.8}}}`),
		"bad confidence":  []byte(`{"format":1,"fields":{"invoice.supplier.name":{"kind":"text","value":"x","confidence":7}}}`),
		"bad shape":       []byte(`{"format":1,"fields":{},"layouts":[{"fingerprint":"0123456789abcdef","fields":{"invoice.number":{"kind":"code","shape":"(","confidence":0.8}}}]}`),
		"bad fingerprint": []byte(`{"format":1,"fields":{},"layouts":[{"fingerprint":"xyz","fields":{}}]}`),
		"bad date form":   []byte(`{"format":1,"fields":{},"layouts":[{"fingerprint":"0123456789abcdef","fields":{"invoice.date":{"kind":"date","form":"(.*)","confidence":0.8}}}]}`),
		"party in layout": []byte(`{"format":1,"fields":{},"layouts":[{"fingerprint":"0123456789abcdef","fields":{"invoice.supplier.name":{"kind":"text","value":"x","confidence":0.8}}}]}`),
		"too large":       append([]byte(`{"format":1,"fields":{},"x":"`), append([]byte(strings.Repeat("a", profile.MaxRules)), '"', '}')...),
	}
	for name, b := range cases {
		t.Run(name, func(t *testing.T) {
			d := first.doc()
			res := extractDoc(t, d)
			before, _ := json.Marshal(res)
			if _, err := profile.Apply(d, b, &res); !errors.Is(err, profile.ErrRules) {
				t.Errorf("Apply: %v, want ErrRules", err)
			}
			after, _ := json.Marshal(res)
			if string(before) != string(after) {
				t.Errorf("Apply changed the result on an error")
			}
			if _, out, err := profile.Learn(d, first.truth(t), res.Data, b, nil); !errors.Is(err, profile.ErrRules) || out != nil {
				t.Errorf("Learn: %v, want ErrRules and no rules", err)
			}
		})
	}
	if _, err := profile.Apply(nil, good, &extract.Result{}); err == nil {
		t.Error("Apply on no document: no error")
	}
	if _, err := profile.Apply(first.doc(), good, nil); err == nil {
		t.Error("Apply to no result: no error")
	}
	// Nothing learned yet is no rules, not an error.
	res := extractDoc(t, first.doc())
	if set, err := profile.Apply(first.doc(), nil, &res); err != nil || len(set) != 0 {
		t.Errorf("Apply with no rules: %v %v", set, err)
	}
}

// TestKeys: the lookup keys are normalised, and documents of one layout have close
// fingerprints while another layout's is far.
func TestKeys(t *testing.T) {
	d := invoice.ExtractedData{Invoice: invoice.Invoice{
		Supplier: invoice.Supplier{Name: "MR. D.I.Y. (M) SDN. BHD.", TaxID: "de 811-907.980"},
		Payment:  invoice.Payment{IBAN: "DE89 3704 0044 0532 0130 00"},
	}}
	k := profile.Keys(nil, d)
	if k.TaxID != "DE811907980" || k.IBAN != "DE89370400440532013000" || k.Name != "mr diy m" || k.Fingerprint != "" {
		t.Errorf("keys %+v", k)
	}
	for in, want := range map[string]string{"Coolblue B.V.": "coolblue", "Lieferant GmbH & Co. KG": "lieferant", "Amazon Web Services, Inc.": "amazon web services", "GmbH": "gmbh"} {
		if got := profile.NormName(in); got != want {
			t.Errorf("NormName(%q) = %q, want %q", in, got, want)
		}
	}
	a := supplierDoc{label: "Beleg", number: "BX-20417", date: "03.02.2024", net: "100,00", tax: "19,00", total: "119,00", customer: "K-4711"}
	b := supplierDoc{label: "Beleg", number: "BX-20533", date: "17.03.2024", net: "250,00", tax: "47,50", total: "297,50", customer: "K-4799"}
	other := extract.FromText("Rechnung\nSehr geehrte Damen und Herren,\nwir berechnen Ihnen folgende Leistungen\nBeratung Stunden Satz\nGesamtbetrag\nMit freundlichen Gruessen\n")
	fa, fb, fo := profile.Fingerprint(a.doc()), profile.Fingerprint(b.doc()), profile.Fingerprint(other)
	if len(fa) != 16 {
		t.Fatalf("fingerprint %q", fa)
	}
	if d := hamming(t, fa, fb); d > profile.SameLayout {
		t.Errorf("one layout: %d bits apart", d)
	}
	if d := hamming(t, fa, fo); d <= profile.SameLayout {
		t.Errorf("two layouts: only %d bits apart", d)
	}
}

func hamming(t *testing.T, a, b string) int {
	t.Helper()
	var x, y uint64
	if _, err := fmt.Sscanf(a+" "+b, "%x %x", &x, &y); err != nil {
		t.Fatal(err)
	}
	n := 0
	for v := x ^ y; v != 0; v &= v - 1 {
		n++
	}
	return n
}

// TestLearnWithoutLayout: a job without a stored layout teaches the party values only.
func TestLearnWithoutLayout(t *testing.T) {
	first := supplierDoc{label: "Beleg", number: "BX-20417", date: "03.02.2024", net: "100,00", tax: "19,00", total: "119,00", customer: "K-4711"}
	keys, b, err := profile.Learn(nil, first.truth(t), invoice.ExtractedData{}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	r := rulesOf(t, b)
	if len(r.Layouts) != 0 || r.Fields["invoice.supplier.name"] == nil || r.Fields["invoice.supplier.name"].Value != "ACME Werkzeuge GmbH" {
		t.Fatalf("rules %s", b)
	}
	if keys.TaxID != "DE811907980" || keys.Name != "acme werkzeuge" || keys.Fingerprint != "" {
		t.Errorf("keys %+v", keys)
	}
	// Its rules apply to a document of the supplier.
	d := first.doc()
	res := extractDoc(t, d)
	set, err := profile.Apply(d, b, &res)
	if err != nil || !slices.Contains(set, "invoice.supplier.name") || slices.Contains(set, "invoice.number") {
		t.Errorf("set %v, %v", set, err)
	}
}

// TestLongDocument: learning and applying on a document of hundreds of pages reads its
// first and last pages only and stays fast; the totals on its last page are found.
func TestLongDocument(t *testing.T) {
	one := supplierDoc{label: "Beleg", number: "BX-20417", date: "03.02.2024", net: "100,00", tax: "19,00", total: "119,00", customer: "K-4711"}
	parts := strings.SplitN(one.text(), "Pos  Beschreibung", 2)
	var b strings.Builder
	b.WriteString(parts[0])
	for i := 0; i < 300; i++ {
		b.WriteString("\f")
		for j := 0; j < 40; j++ {
			fmt.Fprintf(&b, "%d    Schrauben %d.%d          Lieferung %02d.01.2024          1,00\n", j+1, i, j, j%28+1)
		}
	}
	b.WriteString("\fPos  Beschreibung" + parts[1])
	long := extract.FromText(b.String())
	if len(long.Pages) != 302 {
		t.Fatalf("%d pages", len(long.Pages))
	}
	// The short document's extraction stands for the long one's (extracting 300 pages
	// takes long): Apply overrides what it finds.
	machine := extractDoc(t, one.doc())
	start := time.Now()
	_, rules, err := profile.Learn(long, one.truth(t), machine.Data, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	res := machine
	res.Data.Invoice.Amounts.Total = nil
	set, err := profile.Apply(long, rules, &res)
	if err != nil {
		t.Fatal(err)
	}
	// Learning and applying are bounded by the pages they read (ten of the 302). They take
	// about two seconds here; the bound is loose so that a loaded CI machine under -race
	// does not fail it (timing figures are for BenchmarkApply).
	if el := time.Since(start); el > 30*time.Second {
		t.Errorf("learning and applying took %v", el)
	}
	if got := res.Data.Invoice.Amounts.Total; got == nil || *got != 119 || !slices.Contains(set, "invoice.amounts.total") {
		t.Errorf("total %v (set %v)", got, set)
	}
	if ev := res.Evidence["invoice.amounts.total"]; ev.Page != 302 {
		t.Errorf("total evidence %+v, want the last page", ev)
	}
}

// TestDateRepair: a date read with OCR noise at its learned label is repaired to the
// learned printed form; one too garbled is not taken.
func TestDateRepair(t *testing.T) {
	first := supplierDoc{label: "Beleg", number: "BX-20417", date: "03.02.2024", net: "100,00", tax: "19,00", total: "119,00", customer: "K-4711"}
	rules := learn(t, first, first.truth(t), nil, nil)
	for noisy, want := range map[string]string{"17.O3.2024": "2024-03-17", "17,03.2O24": "2024-03-17", "l7.03-2024": "2024-03-17", "1?.O3.2OZ4": ""} {
		t.Run(noisy, func(t *testing.T) {
			second := supplierDoc{label: "Beleg", number: "BX-20533", date: noisy, net: "250,00", tax: "47,50", total: "297,50", customer: "K-4711"}
			d := second.doc()
			res := extractDoc(t, d)
			if res.Data.Invoice.Date == "2024-03-17" {
				t.Fatal("the generic rules read the noisy date; the case proves nothing")
			}
			generic := res.Data.Invoice.Date
			set, err := profile.Apply(d, rules, &res)
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case want == "" && (res.Data.Invoice.Date != generic || slices.Contains(set, "invoice.date")):
				t.Errorf("a garbled date was taken: %q", res.Data.Invoice.Date)
			case want != "" && res.Data.Invoice.Date != want:
				t.Errorf("date %q, want %q", res.Data.Invoice.Date, want)
			}
		})
	}
}

// The name key of a learned profile is what the generic rules read, when they read a
// name: they read the same on the supplier's next document, where the lookup compares
// it, even when the truth names the supplier otherwise.
func TestLearnNameKeyIsWhatTheMachineReads(t *testing.T) {
	s := supplierDoc{label: "Beleg", number: "BX-20417", date: "03.02.2024", net: "100,00", tax: "19,00", total: "119,00", customer: "K-4711"}
	truth := s.truth(t)
	truth.Invoice.Supplier.TaxID = ""
	truth.Invoice.Supplier.Name = "ACME Werkzeugvertrieb Berlin GmbH"
	machine := truth
	machine.Invoice.Supplier.Name = "ACME Werkzeuge GmbH"
	keys, _, err := profile.Learn(s.doc(), truth, machine, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if keys.Name != profile.NormName("ACME Werkzeuge GmbH") {
		t.Errorf("name key %q, want the machine's %q", keys.Name, profile.NormName("ACME Werkzeuge GmbH"))
	}
	machine.Invoice.Supplier.Name = ""
	if keys, _, _ = profile.Learn(s.doc(), truth, machine, nil, nil); keys.Name != profile.NormName(truth.Invoice.Supplier.Name) {
		t.Errorf("without a machine name: name key %q, want the truth's", keys.Name)
	}
}

// TestLearnedSupplierName: the name a correction gives the supplier ("ACME Tools", where
// the page prints its legal name) comes back on the next invoice found by the page's
// own tax id or name; a profile found by its layout alone leaves the printed name.
func TestLearnedSupplierName(t *testing.T) {
	first := supplierDoc{label: "Beleg", number: "BX-20417", date: "03.02.2024", net: "100,00", tax: "19,00", total: "119,00", customer: "K-4711"}
	truth := first.truth(t)
	truth.Invoice.Supplier.Name = "ACME Tools"
	d0 := first.doc()
	keys, rules, err := profile.Learn(d0, truth, extractDoc(t, d0).Data, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	second := supplierDoc{label: "Beleg", number: "BX-20533", date: "17.03.2024", net: "250,00", tax: "47,50", total: "297,50", customer: "K-4711"}
	d := second.doc()
	res := extractDoc(t, d)
	printed := res.Data.Invoice.Supplier.Name
	if printed != "ACME Werkzeuge GmbH" {
		t.Fatalf("generic supplier name %q", printed)
	}
	if !profile.SameSupplier(keys, profile.Keys(d, res.Data)) {
		t.Fatalf("keys %+v do not name the supplier of %+v", keys, profile.Keys(d, res.Data))
	}
	byLayout := res
	if _, err := profile.Apply(d, rules, &byLayout); err != nil {
		t.Fatal(err)
	}
	if got := byLayout.Data.Invoice.Supplier.Name; got != printed {
		t.Errorf("found by layout alone: name %q, want the printed %q", got, printed)
	}
	set, err := profile.ApplyWith(d, rules, &res, profile.ApplyOptions{Identified: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Data.Invoice.Supplier.Name; got != "ACME Tools" || !slices.Contains(set, "invoice.supplier.name") {
		t.Errorf("identified: name %q (set %v), want the taught ACME Tools", got, set)
	}
}

func TestSameSupplier(t *testing.T) {
	p := invoice.SupplierKeys{TaxID: "DE811907980", Name: "acme werkzeuge", Fingerprint: "ab12"}
	for _, tt := range []struct {
		doc  invoice.SupplierKeys
		want bool
	}{
		{invoice.SupplierKeys{TaxID: "DE811907980"}, true},
		{invoice.SupplierKeys{Name: "acme werkzeuge", Fingerprint: "ffff"}, true},
		// The same tax id beside another printed name: the page's name stands.
		{invoice.SupplierKeys{TaxID: "DE811907980", Name: "verkehrsbetriebe"}, false},
		{invoice.SupplierKeys{Fingerprint: "ab12"}, false},
		{invoice.SupplierKeys{}, false},
		{invoice.SupplierKeys{IBAN: "DE02120300000000202051"}, false},
	} {
		if got := profile.SameSupplier(p, tt.doc); got != tt.want {
			t.Errorf("SameSupplier(%+v) = %v, want %v", tt.doc, got, tt.want)
		}
	}
}
