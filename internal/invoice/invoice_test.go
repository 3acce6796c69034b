package invoice

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestInvoiceEmptyListsAreArrays: data stored before the wider field set (no
// taxBreakdown, no references) is written with [] for them, never null, like data
// written now.
func TestInvoiceEmptyListsAreArrays(t *testing.T) {
	var d ExtractedData
	if err := json.Unmarshal([]byte(`{"invoice":{"number":"R-1","amounts":{"total":10}},"lineItems":[]}`), &d); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"taxBreakdown":[]`, `"references":[]`, `"amountDue":null`, `"discount":null`, `"dueDays":null`, `"number":"R-1"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("%s lacks %s", b, want)
		}
	}
	// The contract's keys come first, in its order.
	if !strings.HasPrefix(string(b), `{"invoice":{"number":"R-1","date":"","dueDate":"","supplier":{"name":"","address":"","taxId":"",`) {
		t.Errorf("key order: %s", b)
	}
}
