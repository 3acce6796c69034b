package extract

import "testing"

// TestChargeOutline: without an item table, the services of a charge outline are the
// items when they add up to the printed total; the summary block (one service equal to
// the total) and an outline that adds up to nothing printed give none.
func TestChargeOutline(t *testing.T) {
	head := `Nimbus Cloud Services Ltd.
Invoice Number: 77120458
Invoice Date: 2024-09-02

Summary
   Cloud Service Charges                                      $12.40
      Charges                                                 $12.40
      Credits                                                  $0.00
      Tax *                                                    $0.00

Total for this invoice                                        $12.40

Detail
`
	detail := `   Object Storage                                              $3.10
      Charges                                                  $3.10
      VAT **                                                   $0.00

   Virtual Machines                                            $8.05
      Charges                                                  $8.05
      VAT **                                                   $0.00

   Data Transfer                                               $1.25
      Charges                                                  $1.25
      VAT **                                                   $0.00
`
	res := extractText(t, head+detail)
	items := res.Data.LineItems
	if len(items) != 3 || items[0].Description != "Object Storage" || items[1].Amount == nil || *items[1].Amount != 8.05 {
		t.Fatalf("items %+v, want the three services", items)
	}
	if res.Confidence.Fields["lineItems"] <= 0 {
		t.Errorf("no confidence for the items")
	}
	// The detail adds up to 13.40: nothing printed says so.
	off := extractText(t, head+detail[:len(detail)-len("   Data Transfer                                               $1.25\n      Charges                                                  $1.25\n      VAT **                                                   $0.00\n")]+
		"   Data Transfer                                               $2.25\n      Charges                                                  $2.25\n      VAT **                                                   $0.00\n")
	if n := len(off.Data.LineItems); n != 0 {
		t.Errorf("%d items from an outline that adds up to no printed amount", n)
	}
	if n := len(extractText(t, head).Data.LineItems); n != 0 {
		t.Errorf("%d items from the summary block alone", n)
	}
}
