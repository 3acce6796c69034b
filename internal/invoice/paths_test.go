package invoice

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func sample() ExtractedData {
	return ExtractedData{
		Invoice: Invoice{
			Number:   "RE-2024-17",
			Date:     "2024-03-01",
			Supplier: Supplier{Name: "Muster GmbH", TaxID: "DE123456789"},
			Amounts:  Amounts{Subtotal: Float(100), Tax: Float(19), Total: Float(119), Currency: "EUR"},
			TaxBreakdown: []TaxRate{
				{Rate: Float(19), Base: Float(100), Amount: Float(19), Category: "S"},
			},
		},
		LineItems: []LineItem{
			{Description: "Widget", Quantity: Float(2), UnitPrice: Float(50), Amount: Float(100)},
		},
	}
}

func TestFieldsListsEveryLeafInOrder(t *testing.T) {
	fs := Fields(sample())
	byPath := map[string]any{}
	var order []string
	for _, f := range fs {
		byPath[f.Path] = f.Value
		order = append(order, f.Path)
	}
	want := map[string]any{
		"invoice.number":                   "RE-2024-17",
		"invoice.amounts.total":            119.0,
		"invoice.amounts.discount":         nil,
		"invoice.supplier.address":         "",
		"invoice.taxBreakdown[0].rate":     19.0,
		"invoice.taxBreakdown[0].category": "S",
		"invoice.payment.dueDays":          nil,
		"lineItems[0].amount":              100.0,
		"lineItems[0].unitCode":            "",
		"invoice.servicePeriod.from":       "",
	}
	for p, v := range want {
		got, ok := byPath[p]
		if !ok {
			t.Errorf("Fields lacks %s", p)
			continue
		}
		if got != v {
			t.Errorf("%s = %#v, want %#v", p, got, v)
		}
	}
	if order[0] != "invoice.number" || order[len(order)-1] != "lineItems[0].unitCode" {
		t.Errorf("order: first %s, last %s", order[0], order[len(order)-1])
	}
	// Every leaf Fields names can be read back with Get.
	for _, f := range fs {
		v, err := Get(sample(), f.Path)
		if err != nil || v != f.Value {
			t.Errorf("Get(%s) = %v, %v; Fields says %v", f.Path, v, err, f.Value)
		}
	}
}

func TestSetChecksTypesAndNamesThePath(t *testing.T) {
	cases := []struct {
		path, value string
		wantErr     string // substring; "" means success
	}{
		{"invoice.amounts.total", `120.5`, ""},
		{"invoice.amounts.total", `null`, ""},
		{"invoice.amounts.total", `"120"`, "invoice.amounts.total: want a number"},
		{"invoice.number", `42`, "invoice.number: want a string"},
		{"invoice.date", `"01.03.2024"`, "invoice.date: want a date"},
		{"invoice.date", `"2024-02-30"`, "invoice.date: want a date"},
		{"invoice.date", `""`, ""},
		{"invoice.documentType", `"creditNote"`, ""},
		{"invoice.documentType", `"bill"`, "invoice.documentType: want one of"},
		{"invoice.amounts.currency", `"eur"`, "invoice.amounts.currency: want an ISO 4217"},
		{"invoice.supplier.nickname", `"x"`, "invoice.supplier.nickname: no such field"},
		{"invoice.total", `1`, "invoice.total: no such field"},
		{"lineItems[5].amount", `1`, "past the end"},
		{"lineItems[0].amount", `1e400`, "lineItems[0].amount: want a number"},
		{"lineItems[x].amount", `1`, "malformed index"},
		{"invoice.number[0]", `"a"`, "not a list"},
		{"invoice.payment.dueDays", `30`, ""},
		{"invoice.payment.dueDays", `2.5`, "want a whole number"},
		{"lineItems[1]", `{"description":"Freight","amount":5}`, ""},
		{"lineItems[1]", `{"descr":"Freight"}`, "lineItems[1].descr: no such field"},
		{"lineItems[0]", `null`, ""},
		{"invoice.supplier", `{"name":"Other AG","taxId":"DE999"}`, ""},
		{"invoice.taxBreakdown", `[{"rate":7,"base":10,"amount":0.7}]`, ""},
		{"invoice.taxBreakdown", `{"rate":7}`, "invoice.taxBreakdown: want a list"},
		{"", `1`, "empty path"},
		{"invoice.number", ``, "no value"},
	}
	for _, c := range cases {
		d := sample()
		err := Set(&d, c.path, json.RawMessage(c.value))
		if c.wantErr == "" {
			if err != nil {
				t.Errorf("Set(%s, %s) = %v", c.path, c.value, err)
			}
			continue
		}
		var pe *PathError
		if !errors.As(err, &pe) || !strings.Contains(err.Error(), c.wantErr) {
			t.Errorf("Set(%s, %s) = %v, want a PathError with %q", c.path, c.value, err, c.wantErr)
		}
		if !reflect.DeepEqual(d, sample()) && !strings.Contains(c.path, "[") {
			t.Errorf("Set(%s, %s) failed but changed the data", c.path, c.value)
		}
	}
}

func TestSetAppendsRemovesAndClears(t *testing.T) {
	d := sample()
	if err := Set(&d, "lineItems[1]", json.RawMessage(`{"description":"Freight","amount":5}`)); err != nil {
		t.Fatal(err)
	}
	if len(d.LineItems) != 2 || d.LineItems[1].Description != "Freight" || *d.LineItems[1].Amount != 5 || d.LineItems[1].Quantity != nil {
		t.Fatalf("append: %+v", d.LineItems)
	}
	if err := Set(&d, "lineItems[0]", json.RawMessage(`null`)); err != nil {
		t.Fatal(err)
	}
	if len(d.LineItems) != 1 || d.LineItems[0].Description != "Freight" {
		t.Fatalf("remove: %+v", d.LineItems)
	}
	if err := Set(&d, "invoice.amounts.tax", json.RawMessage(`null`)); err != nil || d.Invoice.Amounts.Tax != nil {
		t.Fatalf("clear: %v %v", err, d.Invoice.Amounts.Tax)
	}
	if err := Set(&d, "invoice.supplier.name", json.RawMessage(`null`)); err != nil || d.Invoice.Supplier.Name != "" {
		t.Fatalf("clear text: %v %q", err, d.Invoice.Supplier.Name)
	}
}

func TestMergePatch(t *testing.T) {
	d := sample()
	out, err := MergePatch(d, []byte(`{"invoice":{"number":"RE-2024-18","amounts":{"total":120,"tax":null},"supplier":{"name":"Muster AG"}},"lineItems":[{"description":"A","amount":60},{"description":"B","amount":60}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if out.Invoice.Number != "RE-2024-18" || *out.Invoice.Amounts.Total != 120 || out.Invoice.Amounts.Tax != nil ||
		*out.Invoice.Amounts.Subtotal != 100 || out.Invoice.Supplier.Name != "Muster AG" || out.Invoice.Supplier.TaxID != "DE123456789" ||
		len(out.LineItems) != 2 || out.LineItems[1].Description != "B" {
		t.Fatalf("merged: %+v", out)
	}
	if d.Invoice.Number != "RE-2024-17" || *d.Invoice.Amounts.Total != 119 || len(d.LineItems) != 1 {
		t.Fatalf("MergePatch changed its input: %+v", d)
	}

	changes := Diff(d, out)
	got := map[string]Change{}
	for _, c := range changes {
		got[c.Path] = c
	}
	for _, p := range []string{"invoice.number", "invoice.amounts.total", "invoice.amounts.tax", "invoice.supplier.name", "lineItems[0].description", "lineItems[1].amount"} {
		if _, ok := got[p]; !ok {
			t.Errorf("Diff lacks %s: %+v", p, changes)
		}
	}
	if c := got["invoice.amounts.tax"]; c.Old != 19.0 || c.New != nil {
		t.Errorf("tax change = %+v", c)
	}
	if c := got["lineItems[1].amount"]; c.Old != nil || c.New != 60.0 {
		t.Errorf("added line change = %+v", c)
	}
	if _, ok := got["invoice.supplier.taxId"]; ok {
		t.Errorf("Diff reports an unchanged leaf")
	}
	if len(Diff(d, d)) != 0 {
		t.Errorf("Diff of equal data: %+v", Diff(d, d))
	}

	for patch, want := range map[string]string{
		`[1,2]`:                                   "must be a JSON object",
		`{"invoice":`:                             "malformed JSON",
		`{"invoice":{"amounts":{"total":"x"}}}`:   "invoice.amounts.total: want a number",
		`{"invoice":{"vendor":"x"}}`:              "invoice.vendor: no such field",
		`{"lineItems":[{"amount":1,"colour":2}]}`: "lineItems[0].colour: no such field",
		`{"invoice":{"dueDate":"tomorrow"}}`:      "invoice.dueDate: want a date",
	} {
		out, err := MergePatch(d, []byte(patch))
		var pe *PathError
		if !errors.As(err, &pe) || !strings.Contains(err.Error(), want) {
			t.Errorf("MergePatch(%s) = %v, want %q", patch, err, want)
		}
		if !reflect.DeepEqual(out, d) {
			t.Errorf("MergePatch(%s) failed but returned changed data", patch)
		}
	}
}

func TestFieldKind(t *testing.T) {
	for p, want := range map[string]Kind{
		"invoice.amounts.total":        KindAmount,
		"lineItems[2].amount":          KindAmount,
		"lineItems[2].quantity":        KindNumber,
		"invoice.taxBreakdown[0].rate": KindNumber,
		"invoice.dueDate":              KindDate,
		"invoice.servicePeriod.to":     KindDate,
		"invoice.supplier.taxId":       KindCode,
		"invoice.supplier.name":        KindText,
		"invoice.allowances[0].charge": KindBool,
		"nonsense[":                    KindText,
	} {
		if got := FieldKind(p); got != want {
			t.Errorf("FieldKind(%s) = %d, want %d", p, got, want)
		}
	}
}
