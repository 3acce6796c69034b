package einvoice

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestFormatParseAddress(t *testing.T) {
	for _, tc := range []struct {
		name string
		a    Address
		s    string
	}{
		{"street and city", Address{Lines: []string{"Lieferantenstraße 20"}, Postcode: "80333", City: "München"}, "Lieferantenstraße 20, 80333 München"},
		{"three lines and subdivision", Address{Lines: []string{"Hinterhaus", "Chausseestraße 12", "3. OG"}, Postcode: "10115", City: "Berlin", Subdivision: "Berlin-Mitte"}, "Hinterhaus, Chausseestraße 12, 3. OG, 10115 Berlin, Berlin-Mitte"},
		{"no postcode", Address{Lines: []string{"Main Street 1"}, City: "Dublin"}, "Main Street 1, Dublin"},
		{"postcode only", Address{Postcode: "1000"}, "1000"},
		{"city only", Address{City: "Paris"}, "Paris"},
		{"British postcode", Address{Lines: []string{"1 Parliament Street"}, Postcode: "SW1A 1AA", City: "London"}, "1 Parliament Street, SW1A 1AA London"},
		{"letters in postcode", Address{Lines: []string{"Rue 1"}, Postcode: "L-1234", City: "Luxembourg"}, "Rue 1, L-1234 Luxembourg"},
		{"city of two words", Address{Lines: []string{"Via Roma 1"}, Postcode: "00100", City: "Roma Capitale", Subdivision: "RM"}, "Via Roma 1, 00100 Roma Capitale, RM"},
		{"empty", Address{}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := FormatAddress(tc.a); got != tc.s {
				t.Errorf("FormatAddress = %q, want %q", got, tc.s)
			}
			if got := ParseAddress(tc.s); !reflect.DeepEqual(got, tc.a) {
				t.Errorf("ParseAddress(%q) = %+v, want %+v", tc.s, got, tc.a)
			}
		})
	}
}

func TestFormatAddressTrims(t *testing.T) {
	a := Address{Lines: []string{"  Hauptstr. 1 ", "", "  "}, Postcode: " 12345", City: "Köln  "}
	if got, want := FormatAddress(a), "Hauptstr. 1, 12345 Köln"; got != want {
		t.Errorf("FormatAddress = %q, want %q", got, want)
	}
}

// TestAddressRoundTripSamples checks ParseAddress(FormatAddress(a)) == a for the seller
// and buyer address of every sample and of the hand-made full invoice.
func TestAddressRoundTripSamples(t *testing.T) {
	files := []string{"testdata/full.cii.xml", "testdata/full.ubl.xml"}
	files = append(files, sampleFiles(t, "cii")...)
	files = append(files, sampleFiles(t, "ubl")...)
	n := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		root, syn, err := decode(data, Limits{}.withDefaults())
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		var addrs []Address
		if syn == SyntaxCII {
			agr := root.child(ciiTransaction, ciiAgreement)
			addrs = append(addrs, ciiAddress(agr.child("SellerTradeParty", "PostalTradeAddress")), ciiAddress(agr.child("BuyerTradeParty", "PostalTradeAddress")))
		} else {
			addrs = append(addrs, ublAddress(root.child("AccountingSupplierParty", "Party", "PostalAddress")), ublAddress(root.child("AccountingCustomerParty", "Party", "PostalAddress")))
		}
		for _, a := range addrs {
			n++
			if got := ParseAddress(FormatAddress(a)); !reflect.DeepEqual(got, a) {
				t.Errorf("%s: %+v formats as %q and reads back as %+v", filepath.Base(f), a, FormatAddress(a), got)
			}
		}
	}
	t.Logf("%d addresses round-tripped", n)
}
