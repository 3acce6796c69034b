package extract

import (
	"strings"
	"testing"
)

// receiptText is a synthetic till receipt: header, item lines, then the totals block.
func receiptText(items []string, totals ...string) string {
	lines := []string{
		"KEDAI BUKU CERIA SDN BHD",
		"(765432-K)",
		"NO. 8, JALAN MAWAR 3,",
		"43000 KAJANG",
		"GST ID NO: 000987654321",
		"TAX INVOICE",
		"DATE: 14/02/2018 10:21",
		"QTY ITEM                        AMOUNT",
	}
	lines = append(lines, items...)
	lines = append(lines, totals...)
	lines = append(lines, "THANK YOU PLEASE COME AGAIN")
	return strings.Join(lines, "\n")
}

var receiptItems = []string{
	"1 EXERCISE BOOK A4               3.50",
	"2 PENCIL 2B                      1.80",
	"1 ERASER                         0.90",
}

// TestReceiptTotalArithmetic checks that the receipt's own arithmetic chooses the total
// among the printed candidates, and that a total nothing confirms is reported.
func TestReceiptTotalArithmetic(t *testing.T) {
	cases := []struct {
		name    string
		text    string
		want    string
		flagged bool
		lowConf bool
	}{
		{
			name: "cash change on one line",
			// "CASH CHANGE" is the change, not a second cash payment: 20.00 - 13.80.
			text: receiptText(receiptItems,
				"SUBTOTAL                         6.20",
				"TOTAL (EXCL GST)                 5.85",
				"GST 6%                           0.35",
				"CASH                            20.00",
				"CASH CHANGE                     13.80"),
			want: "6.20",
		},
		{
			name: "total agrees with the item lines",
			// OCR misread the first total ("6.80"); the rounded total agrees with the items.
			text: receiptText(receiptItems,
				"TOTAL                            6.80",
				"TOTAL                            6.80",
				"ROUNDED TOTAL                    6.20"),
			want: "6.20",
		},
		{
			name: "cash minus change when no printed total reads",
			text: receiptText(receiptItems,
				"TOTAL INCL GST       RM_6,.Z0",
				"CASH                            10.00",
				"CHANGE                           3.80",
				"GST @6% INCLUDED IN TOTAL        0.35"),
			want: "6.20",
		},
		{
			name: "amounts glued to the currency",
			// "RM9.75" and "RMO.25" (a letter O for the zero) as till printers and OCR
			// print them.
			text: receiptText(receiptItems,
				"TOTAL SALES: RM9.75",
				"TENDERED: RM10.00",
				"CHANGE: RMO.25"),
			want: "9.75",
		},
		{
			name: "nothing agrees",
			text: receiptText(receiptItems,
				"TOTAL                            9.40"),
			want:    "9.40",
			flagged: true,
			lowConf: true,
		},
		{
			name: "one digit of the total misread",
			// The one item's 9.00 is printed; the total reads 9.60: one digit apart.
			text: receiptText([]string{"1 MODELLING CLAY 1PC             9.00"},
				"ROUNDED TOTAL (RM):              9.60"),
			want: "9.00",
		},
		{
			name: "a one-digit neighbour that is not printed is no proof",
			// The items sum to 6.20, printed nowhere: 6.80 stays, flagged.
			text: receiptText(receiptItems,
				"TOTAL                            6.80"),
			want:    "6.80",
			flagged: true,
			lowConf: true,
		},
		{
			name: "till labels misread in one letter",
			// "FOTAL" for TOTAL, "CASK" for CASH: 10.00 - 3.80 is printed as the total.
			text: receiptText(receiptItems,
				"TOTAL INCL. GST                  6.21",
				"FOTAL ROUNDED                    6.20",
				"CASK                            10.00",
				"CHANGE                           3.80"),
			want: "6.20",
		},
		{
			name: "the rounded total is what is paid",
			// Both totals beside total labels, the rounding between them; items sum to
			// 6.22 here, so the item arithmetic alone cannot choose.
			text: receiptText([]string{"1 EXERCISE BOOK A4               3.52", "2 PENCIL 2B                      1.80", "1 ERASER                         0.90"},
				"TOTAL (INCLUSIVE OF GST):        6.22",
				"ROUNDING ADJ:                   -0.02",
				"TOTAL:                           6.20",
				"CREDIT                           6.20"),
			want: "6.20",
		},
		{
			name: "cash without change is not its own proof",
			// The cash line alone must not confirm a misread cash amount.
			text: receiptText(receiptItems,
				"TOTAL                            6.20",
				"CASH                             6.26",
				"CHANGE                           0.00"),
			want: "6.20",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, err := Extract(FromText(c.text), Options{Receipt: true})
			if err != nil {
				t.Fatal(err)
			}
			if got := fieldValue(res.Data, "invoice.amounts.total"); got != c.want {
				t.Fatalf("total = %q, want %q", got, c.want)
			}
			flagged := false
			for _, e := range res.Validation.Errors {
				if e.Field == "invoice.amounts.total" && strings.Contains(e.Message, "agrees with neither") {
					flagged = true
				}
			}
			if flagged != c.flagged {
				t.Errorf("validation flags the total: %v, want %v (%v)", flagged, c.flagged, res.Validation.Errors)
			}
			conf := res.Confidence.Fields["invoice.amounts.total"]
			if c.lowConf && conf >= 0.5 || !c.lowConf && conf < 0.5 {
				t.Errorf("total confidence %.2f, want %s 0.5", conf, map[bool]string{true: "below", false: "at least"}[c.lowConf])
			}
		})
	}
}

// TestReceiptNameOCR checks the repairs of names as OCR misreads them on receipts.
func TestReceiptNameOCR(t *testing.T) {
	cases := []struct{ in, want string }{
		{"MR. D.1.¥. (M) SDN BHD", "MR. D.I.Y. (M) SDN BHD"},
		{"GARDENIA BAKERIES (KL) SDN BELD", "GARDENIA BAKERIES (KL) SDN BHD"},
		{"BEMED (SP) SDH. BH.", "BEMED (SP) SDN. BHD."},
		{"SUBANG HEALTHCARE SDN BHI", "SUBANG HEALTHCARE SDN BHD"},
		{"AEON CO. {M) BHD", "AEON CO. (M) BHD"},
		{"UNIHAKKA INTERNATI0NAL SDN BED", "UNIHAKKA INTERNATIONAL SDN BHD"},
		// Digits of a number, or of a word with one letter, stay digits.
		{"99 SPEED MART S/B", "99 SPEED MART S/B"},
		{"7-ELEVEN MALAYSIA SDN BHD", "7-ELEVEN MALAYSIA SDN BHD"},
		{"KEDAI A1 JAYA ENTERPRISE", "KEDAI A1 JAYA ENTERPRISE"},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			text := receiptText(receiptItems, "TOTAL                            6.20")
			text = strings.Replace(text, "KEDAI BUKU CERIA SDN BHD", c.in, 1)
			res, err := Extract(FromText(text), Options{Receipt: true})
			if err != nil {
				t.Fatal(err)
			}
			if got := res.Data.Invoice.Supplier.Name; got != c.want {
				t.Errorf("supplier name = %q, want %q", got, c.want)
			}
		})
	}
}

// TestFixReceiptLabel: one letter misread in a till label word is repaired; words that
// are labels already, differ in two letters, or are not upper case stay.
func TestFixReceiptLabel(t *testing.T) {
	cases := map[string]string{"FOTAL": "TOTAL", "CASK:": "CASH:", "CHANQE": "CHANGE", "TOTAL": "", "CARD": "", "Total": "", "FOTAI": "", "TAX": ""}
	for in, want := range cases {
		got, ok := fixReceiptLabel(in)
		if ok != (want != "") || got != want {
			t.Errorf("fixReceiptLabel(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
}

// TestReceiptAddressLines: the shop's address runs to the line of its postcode and
// place, past a lot number of five digits, and specks OCR reads at the ends of lines
// are not part of it.
func TestReceiptAddressLines(t *testing.T) {
	text := receiptText(receiptItems, "TOTAL                            6.20")
	text = strings.Replace(text, "NO. 8, JALAN MAWAR 3,\n43000 KAJANG", "| LOT PT 1138, PT 33122, |\n. BANDAR MAHKOTA CHERAS\n43200 CHERAS, SELANGOR ~", 1)
	res, err := Extract(FromText(text), Options{Receipt: true})
	if err != nil {
		t.Fatal(err)
	}
	want := "LOT PT 1138, PT 33122,, BANDAR MAHKOTA CHERAS, 43200 CHERAS, SELANGOR"
	if got := res.Data.Invoice.Supplier.Address; got != want {
		t.Errorf("address = %q, want %q", got, want)
	}
}

func TestTrimSpecks(t *testing.T) {
	for in, want := range map[string]string{
		". BHPetrol Subang Airport": "BHPetrol Subang Airport",
		"| LOT 5, JALAN 2 |":        "LOT 5, JALAN 2",
		"HOME MASTER HARDWARE &":    "HOME MASTER HARDWARE &",
		"' ~ .":                     "",
		"A. B":                      "A. B",
	} {
		if got := trimSpecks(in); got != want {
			t.Errorf("trimSpecks(%q) = %q, want %q", in, got, want)
		}
	}
}
