package invoice

// SupplierKeys recognise a supplier: its VAT/tax id and IBAN normalised (upper case, no spaces or
// punctuation), its name normalised (lower case, legal-form words and punctuation dropped, spaces collapsed)
// and a fingerprint of the first page's layout (16 hex digits: a 64-bit SimHash over the page's label words
// and their coarse positions). Empty strings are unknown.
type SupplierKeys struct {
	TaxID       string `json:"taxId"`
	IBAN        string `json:"iban"`
	Name        string `json:"name"`
	Fingerprint string `json:"fingerprint"`
}

// ProfileUse records which supplier profile (id and version) a job's extraction used, and which field paths
// the profile supplied.
type ProfileUse struct {
	ID      string   `json:"id"`
	Version int      `json:"version"`
	Fields  []string `json:"fields"`
}
