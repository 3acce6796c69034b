package evaluate

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/ocrinvoice/ocrinvoice/internal/invoice"
)

// truthFile is the shape of a truth.jsonl record's invoice (see the dev data's README).
type truthFile struct {
	Number   string `json:"number"`
	Date     string `json:"date"`
	DueDate  string `json:"dueDate"`
	Supplier struct {
		Name    string          `json:"name"`
		Address json.RawMessage `json:"address"`
		TaxID   string          `json:"taxId"`
		VatID   string          `json:"vatId"`
	} `json:"supplier"`
	Customer struct {
		Name    string          `json:"name"`
		Address json.RawMessage `json:"address"`
		TaxID   string          `json:"taxId"`
		VatID   string          `json:"vatId"`
	} `json:"customer"`
	Amounts struct {
		Subtotal   *float64 `json:"subtotal"`
		Tax        *float64 `json:"tax"`
		Total      *float64 `json:"total"`
		Currency   string   `json:"currency"`
		DuePayable *float64 `json:"duePayable"`
	} `json:"amounts"`
	OrderReference string `json:"orderReference"`
}

// address turns a truth's address (a string, or {line1, postcode, city, country})
// into the one-string form of invoice data.
func address(raw json.RawMessage) string {
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var o struct{ Line1, Line2, Postcode, City, Country string }
	if json.Unmarshal(raw, &o) != nil {
		return ""
	}
	var parts []string
	for _, p := range []string{o.Line1, o.Line2, strings.TrimSpace(o.Postcode + " " + o.City)} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	return strings.Join(parts, ", ")
}

// Data is the record's truth as invoice data: what a person correcting the job would
// enter (the fields the truth has; line items with their descriptions and amounts).
func (r Record) Data() (invoice.ExtractedData, error) {
	var tf truthFile
	if len(r.Invoice) > 0 {
		if err := json.Unmarshal(r.Invoice, &tf); err != nil {
			return invoice.ExtractedData{}, fmt.Errorf("truth of %s: %w", r.File, err)
		}
	}
	d := invoice.ExtractedData{Invoice: invoice.Invoice{
		Number: tf.Number, Date: tf.Date, DueDate: tf.DueDate,
		Supplier: invoice.Supplier{Name: tf.Supplier.Name, Address: address(tf.Supplier.Address), TaxID: tf.Supplier.TaxID},
		Customer: invoice.Customer{Name: tf.Customer.Name, Address: address(tf.Customer.Address), TaxID: tf.Customer.VatID},
		Amounts: invoice.Amounts{Subtotal: tf.Amounts.Subtotal, Tax: tf.Amounts.Tax, Total: tf.Amounts.Total,
			Currency: tf.Amounts.Currency},
		AmountDue:     tf.Amounts.DuePayable,
		PurchaseOrder: tf.OrderReference,
	}}
	if d.Invoice.Customer.TaxID == "" {
		d.Invoice.Customer.TaxID = tf.Customer.TaxID
	}
	if d.Invoice.Supplier.TaxID == "" {
		d.Invoice.Supplier.TaxID = tf.Supplier.VatID
	}
	for _, it := range r.LineItems {
		d.LineItems = append(d.LineItems, invoice.LineItem{Description: it.Description, Amount: it.Amount})
	}
	return d, nil
}
