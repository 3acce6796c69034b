package profile_test

import (
	"maps"
	"testing"

	"github.com/ocrinvoice/ocrinvoice/internal/invoice"
	"github.com/ocrinvoice/ocrinvoice/worker/profile"
)

// FuzzRules: any bytes given as rules are either used or refused with an error by
// Apply and Learn, never a panic, and Learn's output is rules Apply accepts.
func FuzzRules(f *testing.F) {
	first := supplierDoc{label: "Beleg", number: "BX-20417", date: "03.02.2024", net: "100,00", tax: "19,00", total: "119,00", customer: "K-4711"}
	d := first.doc()
	truth := first.truth(f)
	_, good, err := profile.Learn(d, truth, invoice.ExtractedData{}, nil, nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add([]byte(`{"format":1,"fields":{},"layouts":[{"fingerprint":"0123456789abcdef","fields":{"invoice.number":{"kind":"code","label":["beleg"],"shape":"(?i)^a*$","skip":3,"page":9,"confidence":1}}}]}`))
	f.Add([]byte(`{"format":1,"fields":{"invoice.supplier.name":{"kind":"text","value":"","confidence":0}}}`))
	f.Add([]byte(`null`))
	base := extractDoc(f, d)
	f.Fuzz(func(t *testing.T, b []byte) {
		res := base
		res.Confidence.Fields = maps.Clone(base.Confidence.Fields)
		res.Evidence = maps.Clone(base.Evidence)
		if _, err := profile.Apply(d, b, &res); err != nil {
			return
		}
		_, out, err := profile.Learn(d, truth, res.Data, b, &invoice.ProfileUse{Fields: []string{"invoice.number", "invoice.amounts.total", "lineItems"}})
		if err != nil {
			t.Fatalf("Learn refused rules Apply took: %v", err)
		}
		if _, err := profile.Apply(d, out, &res); err != nil {
			t.Fatalf("Apply refused what Learn wrote: %v", err)
		}
	})
}
