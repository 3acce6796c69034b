package extract

import "testing"

// TestNameLines states how single lines of a party block are classified and joined.
func TestNameLines(t *testing.T) {
	for _, c := range []struct {
		first, next string
		joins       bool
	}{
		{"MVM Musterhafter", "Versicherungsverein Musterstadt a.G.", true},
		{"Müller &", "Schmidt Elektro", true},
		{"Stadtwerke Musterstadt", "GmbH & Co. KG", true},
		{"Papierflieger-Vertriebs-GmbH", "Helga Musterfrau", false},
		{"Ma jolie boutique", "Alexandre Payet", false},
		{"Theodor Est", "Bahnstr. 42", false},
		{"Verein für Sport", "und Kultur e.V.", true},
		{"Gemeinnützige Wohnungsbau-", "genossenschaft Nord eG", true},
		{"ACME Corp", "Attn: Jane Doe", false},
		{"Northwind", "GLN 4012345000009", false},
		{"Northwind", "Kundennr. 12345", false},
	} {
		if got := continuesName([]string{c.first}, c.next); got != c.joins {
			t.Errorf("continuesName(%q, %q) = %v, want %v", c.first, c.next, got, c.joins)
		}
	}
	for _, c := range []struct{ in, want string }{
		{"Au bon moulin SARL 1242 chemin de l'olive", "Au bon moulin SARL"},
		{"e-Luscious Nederland B.V. iov Saeco.com", "e-Luscious Nederland B.V."},
		{"Kunden AG Mitte", "Kunden AG Mitte"},
		{"ABC Co., Ltd.", "ABC Co., Ltd."},
		{"Müller GmbH & Co. KG", "Müller GmbH & Co. KG"},
		{"Müller Handel GLN 4012345000009", "Müller Handel"},
		{"Acme GmbH, Kd-Nr. 12345", "Acme GmbH"},
	} {
		if got := partyName(c.in); got != c.want {
			t.Errorf("partyName(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	for _, s := range []string{"RELAIS TOTAL OULMES", "Hôtel Saint Denis"} {
		if isIDLine(s) || isAddressLine(s) {
			t.Errorf("%q taken for an id or address line", s)
		}
	}
}
