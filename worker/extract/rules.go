package extract

import (
	"fmt"
	"sort"
	"strings"
)

// Rule names one of the generic rules that can be switched off (Options.Without). The
// switch exists so that evaluation can measure what each rule is worth on each folder of
// documents (`ocrinvoice eval --cross`): a rule that only one kind of document needs is
// suspect of being fitted to that kind, and its worth on unseen documents is doubtful.
// Production extraction never switches rules off.
type Rule string

// The switchable rules. Each is one decision that the extraction could do without, at a
// price the cross evaluation measures.
const (
	// RuleReceiptDetect treats a narrow page with till words as a receipt (shop name
	// at the top as supplier, no invoice number, the receipt total).
	RuleReceiptDetect Rule = "receipt-detect"
	// RuleDerivedTax reads the tax as total minus subtotal when that difference is printed.
	RuleDerivedTax Rule = "derived-tax"
	// RuleBreakdownSums makes subtotal and tax the sums over a tax breakdown of several
	// rates when those add up to the total.
	RuleBreakdownSums Rule = "breakdown-sums"
	// RuleDeductions separates deductions (commission, prepayments, discounts) from the
	// gross total and reads what is left as the amount due.
	RuleDeductions Rule = "deductions"
	// RuleItemSum uses the sum of the line amounts as evidence for the subtotal, and as
	// the subtotal when none is labelled but the sum is printed.
	RuleItemSum Rule = "item-sum"
	// RuleCurrencyContext infers the currency from the tax id's country or the language
	// when no currency is printed.
	RuleCurrencyContext Rule = "currency-context"
	// RuleDateOrder decides day-month or month-day order from the document (US dollars,
	// English, impossible days) instead of assuming day first.
	RuleDateOrder Rule = "date-order"
	// RuleValueRight reads a label's value in the segments to its right on the same row.
	RuleValueRight Rule = "value-right"
	// RuleValueBelow reads a label's value in the rows below it.
	RuleValueBelow Rule = "value-below"
	// RuleNumberFallback reads the invoice number under policy, contract, account or
	// reference labels when no invoice-number label gives one.
	RuleNumberFallback Rule = "number-fallback"
	// RuleSenderLine takes the supplier from the small sender line above a letter's
	// address window, and the customer from the window below it.
	RuleSenderLine Rule = "sender-line"
	// RuleDateContext weighs invoice-date candidates by their context (dates of other
	// invoices, periods, versions, dates after the due date).
	RuleDateContext Rule = "date-context"
	// RuleTableOverPages continues an item table over page breaks and carry-over lines.
	RuleTableOverPages Rule = "table-over-pages"
	// RuleReceiptSums accepts a receipt total that the item lines, subtotal plus tax or a
	// rounding adjustment confirm over a better-voted one nothing confirms.
	RuleReceiptSums Rule = "receipt-sums"
	// RuleReceiptNames repairs OCR misreadings of legal forms and letters in receipt
	// shop names ("SDN BED" -> "SDN BHD").
	RuleReceiptNames Rule = "receipt-names"
	// RuleChargeOutline reads line items from a charge outline (services, each followed
	// by indented Charges/Credits/Tax rows) when no item table is found.
	RuleChargeOutline Rule = "charge-outline"
)

var ruleDocs = map[Rule]string{
	RuleReceiptDetect:   "a narrow page with till words is read as a receipt",
	RuleDerivedTax:      "tax = total - subtotal when that difference is printed",
	RuleBreakdownSums:   "subtotal and tax are the sums over a tax breakdown of several rates",
	RuleDeductions:      "deductions are separated from the gross total; what is left is the amount due",
	RuleItemSum:         "the sum of the line amounts is evidence for the subtotal",
	RuleCurrencyContext: "the currency is inferred from the tax id's country or the language",
	RuleDateOrder:       "day-month or month-day order is decided from the document",
	RuleValueRight:      "a label's value is read in the segments to its right",
	RuleValueBelow:      "a label's value is read in the rows below it",
	RuleNumberFallback:  "the invoice number is read under policy, contract or reference labels when no invoice-number label gives one",
	RuleSenderLine:      "the sender line above the address window names the supplier; the window below it, the customer",
	RuleDateContext:     "invoice-date candidates are weighed by their context (other invoices, periods, versions, after the due date)",
	RuleTableOverPages:  "an item table continues over page breaks and carry-over lines",
	RuleReceiptSums:     "a receipt total is confirmed by its item lines, subtotal plus tax or rounding",
	RuleReceiptNames:    "OCR misreadings in receipt shop names are repaired",
	RuleChargeOutline:   "without an item table, the services of a charge outline (each with indented charge, credit and tax rows) are the items",
}

// Rules lists every switchable rule, sorted by name.
func Rules() []Rule {
	out := make([]Rule, 0, len(ruleDocs))
	for r := range ruleDocs {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// Doc says in one line what the rule does ("" for an unknown rule).
func (r Rule) Doc() string { return ruleDocs[r] }

// ParseRules turns a comma-separated list of rule names into rules; an unknown name is
// an error that lists the known ones.
func ParseRules(s string) ([]Rule, error) {
	var out []Rule
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		r := Rule(f)
		if _, ok := ruleDocs[r]; !ok {
			names := make([]string, 0, len(ruleDocs))
			for _, k := range Rules() {
				names = append(names, string(k))
			}
			return nil, fmt.Errorf("unknown rule %q (known: %s)", f, strings.Join(names, ", "))
		}
		out = append(out, r)
	}
	return out, nil
}

// ruleSet is the set of rules switched off for one extraction.
type ruleSet map[Rule]bool

func newRuleSet(off []Rule) ruleSet {
	if len(off) == 0 {
		return nil
	}
	s := make(ruleSet, len(off))
	for _, r := range off {
		s[r] = true
	}
	return s
}

// on reports whether rule r applies (it is not switched off).
func (s ruleSet) on(r Rule) bool { return !s[r] }
