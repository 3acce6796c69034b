package einvoice

import (
	"bytes"
	"errors"
	"io"
	"os"
	"strings"
	"testing"
	"time"
)

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// replaceOnce replaces old in the document, failing when it is not there.
func replaceOnce(t *testing.T, data []byte, old, new string) []byte {
	t.Helper()
	if !bytes.Contains(data, []byte(old)) {
		t.Fatalf("%q not in the document", old)
	}
	return bytes.Replace(data, []byte(old), []byte(new), 1)
}

// TestBadInput checks that each kind of bad input gives its error, with a message, and
// no document.
func TestBadInput(t *testing.T) {
	cii := readTestdata(t, "full.cii.xml")
	ubl := readTestdata(t, "full.ubl.xml")
	nested := []byte(`<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2">` +
		strings.Repeat("<a>", 100) + strings.Repeat("</a>", 100) + `</Invoice>`)
	many := []byte(`<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2">` +
		strings.Repeat("<a/>", 200) + `</Invoice>`)
	for _, tc := range []struct {
		name    string
		data    []byte
		lim     Limits
		want    error
		message string // a part of the error message
	}{
		{"billion laughs", readTestdata(t, "billion-laughs.xml"), Limits{}, ErrDTD, "DOCTYPE lolz"},
		{"external entity", readTestdata(t, "xxe.xml"), Limits{}, ErrDTD, "DOCTYPE Invoice"},
		{"DTD before garbage", []byte(`<!DOCTYPE x><<<not xml`), Limits{}, ErrDTD, "DOCTYPE x"},
		{"declaration inside the root", replaceOnce(t, ubl, "<cbc:ID>", `<!ENTITY x "y"><cbc:ID>`), Limits{}, ErrDTD, "ENTITY"},
		{"undeclared entity", replaceOnce(t, ubl, "INV-2024-0042", "&x;"), Limits{}, ErrMalformed, "entity"},
		{"XHTML page", readTestdata(t, "page.xhtml"), Limits{}, ErrNotEInvoice, "html in http://www.w3.org/1999/xhtml"},
		{"XHTML page with DOCTYPE", readTestdata(t, "page-doctype.xhtml"), Limits{}, ErrDTD, "DOCTYPE html"},
		{"CII root in another namespace", replaceOnce(t, cii, "CrossIndustryInvoice:100\"", "CrossIndustryInvoice:99\""), Limits{}, ErrNotEInvoice, "CrossIndustryInvoice in urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:99"},
		{"UBL root without namespace", replaceOnce(t, ubl, `xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"`, ""), Limits{}, ErrNotEInvoice, "no namespace"},
		{"UBL Invoice in the CreditNote namespace", replaceOnce(t, ubl, "xsd:Invoice-2", "xsd:CreditNote-2"), Limits{}, ErrNotEInvoice, "Invoice in"},
		{"truncated", cii[:len(cii)/2], Limits{}, ErrMalformed, "unexpected EOF"},
		{"cut after the root start tag", cii[:bytes.Index(cii, []byte("<rsm:ExchangedDocumentContext"))], Limits{}, ErrMalformed, ""},
		{"empty", nil, Limits{}, ErrMalformed, "no root element"},
		{"plain text", []byte("Invoice 471102 total 529.87"), Limits{}, ErrMalformed, "text"},
		{"PDF", []byte("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"), Limits{}, ErrMalformed, ""},
		{"JSON", []byte(`{"invoice": {"number": "1"}}`), Limits{}, ErrMalformed, ""},
		{"binary", []byte{0x00, 0x01, 0xff, 0xfe, '<', 0x00}, Limits{}, ErrMalformed, ""},
		{"mismatched end tag", replaceOnce(t, ubl, "</cbc:ID>", "</cbc:Name>"), Limits{}, ErrMalformed, ""},
		{"second root", append(append([]byte{}, ubl...), "<Invoice/>"...), Limits{}, ErrMalformed, "second root"},
		{"text after the root", append(append([]byte{}, ubl...), "trailing"...), Limits{}, ErrMalformed, "after the root"},
		{"UTF-16 declaration", replaceOnce(t, ubl, `encoding="UTF-8"`, `encoding="UTF-16"`), Limits{}, ErrMalformed, "UTF-16"},
		{"amount is not a number", replaceOnce(t, cii, "<ram:GrandTotalAmount>1140.00", "<ram:GrandTotalAmount>1.140,00"), Limits{}, ErrMalformed, `GrandTotalAmount is "1.140,00"`},
		{"UBL amount is not a number", replaceOnce(t, ubl, ">1140.00<", ">EUR 1140<"), Limits{}, ErrMalformed, "TaxInclusiveAmount"},
		{"line amount is not a number", replaceOnce(t, ubl, `unitCode="HUR">8<`, `unitCode="HUR">eight<`), Limits{}, ErrMalformed, "InvoicedQuantity"},
		{"date is not a date", replaceOnce(t, cii, ">20240131<", ">2024-13-31<"), Limits{}, ErrMalformed, "IssueDateTime"},
		{"UBL date is not a date", replaceOnce(t, ubl, "<cbc:IssueDate>2024-01-31", "<cbc:IssueDate>31.01.2024"), Limits{}, ErrMalformed, "IssueDate"},
		{"charge indicator is not a boolean", replaceOnce(t, cii, "<udt:Indicator>true<", "<udt:Indicator>yes<"), Limits{}, ErrMalformed, `Indicator is "yes"`},
		{"UBL charge indicator is not a boolean", replaceOnce(t, ubl, "<cbc:ChargeIndicator>false<", "<cbc:ChargeIndicator>no<"), Limits{}, ErrMalformed, `ChargeIndicator is "no"`},
		{"allowance amount is not a number", replaceOnce(t, ubl, `<cbc:Amount currencyID="EUR">15.00<`, `<cbc:Amount currencyID="EUR">15 EUR<`), Limits{}, ErrMalformed, "Amount is"},
		{"over MaxBytes", cii, Limits{MaxBytes: 1024}, ErrTooLarge, "limit is 1024"},
		{"nested too deep", nested, Limits{}, ErrTooLarge, "deeper than 64"},
		{"too many elements", many, Limits{MaxElements: 100}, ErrTooLarge, "more than 100 elements"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc, err := Parse(tc.data, tc.lim)
			if !errors.Is(err, tc.want) {
				t.Fatalf("error %v, want %v", err, tc.want)
			}
			if doc != nil {
				t.Errorf("a document with the error: %+v", doc)
			}
			t.Log(err)
			if !strings.Contains(err.Error(), tc.message) {
				t.Errorf("error %q does not say %q", err, tc.message)
			}
		})
	}
}

// TestSniff checks the syntax detection on the roots alone.
func TestSniff(t *testing.T) {
	for _, tc := range []struct {
		name string
		data string
		want Syntax
		err  error
	}{
		{"CII", `<?xml version="1.0"?><rsm:CrossIndustryInvoice xmlns:rsm="urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100">`, SyntaxCII, nil},
		{"ZUGFeRD 1.0", `<rsm:CrossIndustryDocument xmlns:rsm="urn:ferd:CrossIndustryDocument:invoice:1p0"/>`, SyntaxCII, nil},
		{"UBL Invoice", "\xef\xbb\xbf<!-- c --><Invoice xmlns=\"urn:oasis:names:specification:ubl:schema:xsd:Invoice-2\">", SyntaxUBL, nil},
		{"UBL CreditNote", `<x:CreditNote xmlns:x="urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2">`, SyntaxUBL, nil},
		{"CII root in the UBL namespace", `<CrossIndustryInvoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2">`, "", ErrNotEInvoice},
		{"other XML", `<svg xmlns="http://www.w3.org/2000/svg"/>`, "", ErrNotEInvoice},
		{"DTD", `<!DOCTYPE Invoice><Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2">`, "", ErrDTD},
		{"not XML", `hello`, "", ErrMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Sniff([]byte(tc.data))
			if got != tc.want || !errors.Is(err, tc.err) {
				t.Errorf("Sniff = %q, %v; want %q, %v", got, err, tc.want, tc.err)
			}
		})
	}
}

// hugeInvoice streams a well-formed UBL invoice root of size bytes without holding it in
// memory: the start tag, spaces, the end tag.
type hugeInvoice struct {
	size, read int64
}

func (h *hugeInvoice) Read(p []byte) (int, error) {
	const head = `<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2">`
	const tail = `</Invoice>`
	if h.read >= h.size {
		return 0, io.EOF
	}
	n := 0
	for n < len(p) && h.read < h.size {
		var c byte
		switch pos := h.read; {
		case pos < int64(len(head)):
			c = head[pos]
		case pos >= h.size-int64(len(tail)):
			c = tail[pos-(h.size-int64(len(tail)))]
		default:
			c = ' '

		}
		p[n] = c
		n++
		h.read++
	}
	return n, nil
}

// TestHugeInput streams a 100 MB invoice: the default limit refuses it after reading
// 20 MiB and one byte, quickly.
func TestHugeInput(t *testing.T) {
	const size = 100 << 20
	src := &hugeInvoice{size: size}
	start := time.Now()
	doc, err := ParseReader(src, Limits{})
	elapsed := time.Since(start)
	if !errors.Is(err, ErrTooLarge) || doc != nil {
		t.Fatalf("ParseReader: %v, %v; want ErrTooLarge", doc, err)
	}
	if src.read > DefaultMaxBytes+1 {
		t.Errorf("read %d bytes, want at most %d", src.read, DefaultMaxBytes+1)
	}
	if elapsed > 5*time.Second {
		t.Errorf("took %v to refuse", elapsed)
	}
	t.Logf("refused after reading %d of %d bytes in %v", src.read, size, elapsed)

	// The same stream under the limit parses: the refusal is about the size.
	small := &hugeInvoice{size: 1 << 20}
	if _, err := ParseReader(small, Limits{}); err != nil {
		t.Errorf("1 MiB stream: %v", err)
	}
	// Parse refuses a slice over the limit before looking at it.
	if _, err := Parse(make([]byte, DefaultMaxBytes+1), Limits{}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("Parse of %d bytes: %v, want ErrTooLarge", DefaultMaxBytes+1, err)
	}
}

// TestParseReader checks that ParseReader reads the same as Parse.
func TestParseReader(t *testing.T) {
	data := readTestdata(t, "full.cii.xml")
	doc, err := ParseReader(bytes.NewReader(data), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if doc.Data.Invoice.Number != "INV-2024-0042" {
		t.Errorf("number %q", doc.Data.Invoice.Number)
	}
}

// TestLatin1 reads a document declared ISO-8859-1, as some older ZUGFeRD files are.
func TestLatin1(t *testing.T) {
	data := readTestdata(t, "full.ubl.xml")
	data = replaceOnce(t, data, `encoding="UTF-8"`, `encoding="ISO-8859-1"`)
	data = replaceOnce(t, data, "Chausseestraße", "Chausseestra\xdfe")
	doc, err := Parse(data, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if got := doc.Data.Invoice.Supplier.Address; !strings.Contains(got, "Chausseestraße 12") {
		t.Errorf("address %q, want the ß read from Latin-1", got)
	}
}
