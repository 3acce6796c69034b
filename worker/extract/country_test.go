package extract

import "testing"

// TestPartyCountry: a country named in the address, a postcode with its country's
// prefix, or a tax id whose check holds give the party's country; a US state and ZIP
// code, a bare postcode, a currency or a failing tax id give none.
func TestPartyCountry(t *testing.T) {
	for _, tc := range []struct {
		address, taxID, want string
	}{
		{"Hauptstrasse 1, 10115 Berlin, Germany", "", "DE"},
		{"Lieferantenstraße 20, DE 80333 München", "DE123456789", "DE"}, // the id's check fails; the prefix holds
		{"Rue de Rivoli 5, F-75001 Paris", "", "FR"},
		{"Bahnhofstrasse 3, CH-8001 Zürich", "", "CH"},
		{"12 rue des Lilas, 75011 Paris, France", "", "FR"},
		{"Keizersgracht 1, 1015 CJ Amsterdam, Nederland", "", "NL"},
		{"Market Street 5, 80331 Munich", "DE136695976", "DE"}, // no country written; the VAT id's check holds
		{"400 Madison Avenue, New York, NY 10017, USA", "", "US"},
		{"1 Main Street, Dover, DE 19901", "", "US"},           // Delaware, not Germany
		{"1 Market Street, San Francisco, CA 94105", "", "US"}, // California, not Canada
		{"1200 Harbor View Drive, Tampa, FL 33602-1234", "", "US"},
		{"100 King Street West, Toronto, ON M5X 1A9", "", "CA"},
		{"10 Downing Street, London SW1A 2AA", "", "GB"},
		{"Bahnhofstrasse 3, 8001 Zürich", "", ""},            // a bare postcode names no country
		{"Market Street 5, 80331 Munich", "DE123456780", ""}, // a failing check digit
		{"Unit 4, Parklands, Dublin 2", "IE6388047V", "IE"},
		{"42 rue du stade, 97400 Saint Denis, Ile de la Réunion", "FR90343434346", "RE"}, // the address before the id
		{"", "", ""},
	} {
		if got, _ := partyCountry(tc.address, tc.taxID); got != tc.want {
			t.Errorf("partyCountry(%q, %q) = %q, want %q", tc.address, tc.taxID, got, tc.want)
		}
	}
}
