package extract

import "regexp"

// Patterns used inside functions, compiled once.
var (
	reCashLine           = regexp.MustCompile(`(?im)^\W*cash\b.*\d`)
	reChangeLine         = regexp.MustCompile(`(?im)^\W*change\b.*\d`)
	reWeakNumberFollower = regexp.MustCompile(`(?i)^\s*(?:date|datum|total|summe|period|address|adresse|to\b|from\b|for\b|summary|amount|à|au|de\b)`)
	reCustomerNotSection = regexp.MustCompile(`(?i)^\s*(?:no\.?|nr\.?|number|nummer|id|#|n°|ref|code|vat|tax|tva|btw|ust|care|service|account|since)`)
	reSupplierNotSection = regexp.MustCompile(`(?i)^\s*(?:no\.?|nr\.?|nummer|number|id|#|ref|code)`)
	reBankBefore         = regexp.MustCompile(`(?i)(iban|konto|account|compte)\s*:?\s*$`)
	reSubtotalNegative   = regexp.MustCompile(`(?i)^\s*(?:\(|%|due\b|payable\b)`)
	reTaxNegativeBefore  = regexp.MustCompile(`(?i)(?:incl\.?|inkl\.?|including|inclusive|zzgl\.?|plus|exkl\.?|excl\.?|ohne|sans|hors|exclusief)\s*$`)
)
