package extract

import (
	"strings"

	"github.com/ocrinvoice/ocrinvoice/internal/invoice"
)

// missingAmounts is the finding for a document where no total (and no amount due) was
// read: it names every amount that is missing, so that a page without amounts, or one
// whose amounts could not be told apart, says so instead of passing silently.
func missingAmounts(am invoice.Amounts) invoice.ValidationError {
	missing := []string{"total"}
	if am.Subtotal == nil {
		missing = append(missing, "subtotal")
	}
	if am.Tax == nil {
		missing = append(missing, "tax")
	}
	msg := "no invoice total was found"
	if len(missing) == 3 {
		msg = "no amounts were found"
	}
	return invoice.ValidationError{Field: "invoice.amounts.total", Severity: invoice.SeverityWarning,
		Message: msg + "; missing: " + strings.Join(missing, ", ")}
}

// maxScanAmounts is how many unlabelled money amounts a document may print for the
// largest of them to be taken as its total. A till receipt prints a few dozen; a page of
// thousands of numbers without a total label (a statement, a data dump) has no total to
// guess, and the largest of them is noise.
const maxScanAmounts = 300
