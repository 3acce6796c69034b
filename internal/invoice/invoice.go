// Package invoice holds the pure data types of an OCR invoice job that are shared by
// the ent JSON fields, the GraphQL schema, the REST adapters and the worker.
//
// The JSON names are those of the REST contract (spec/ocr-invoice-jobs-api.txt) and are
// binding: do not rename them. Values that are unknown are JSON null (amounts, quantities)
// or the empty string (text and dates), never a made-up zero.
package invoice

import (
	"encoding/json"
	"time"
)

// Progress is how far a job has come. Percentage is 0..100.
type Progress struct {
	Percentage  int    `json:"percentage"`
	CurrentStep string `json:"currentStep"`
	TotalSteps  int    `json:"totalSteps"`
}

// DocumentInfo describes the document that was read.
type DocumentInfo struct {
	Pages      int    `json:"pages"`
	Size       int64  `json:"size"`
	Format     string `json:"format"`
	Resolution string `json:"resolution"`
	Language   string `json:"language"`
	// Source says what the data was read from: SourceEInvoice, SourceText, SourceOCR
	// or SourceMixed (some pages by each visual reader). Empty in data stored before it.
	Source string `json:"source,omitempty"`
	// EInvoice describes the structured invoice the data was read from (SourceEInvoice).
	EInvoice *EInvoiceInfo `json:"einvoice,omitempty"`
}

// Sources of DocumentInfo.Source.
const (
	SourceEInvoice = "einvoice" // the EN 16931 XML (standalone, or embedded in the PDF)
	SourceText     = "text"     // the PDF's text layer
	SourceOCR      = "ocr"      // OCR of the page images
	SourceMixed    = "mixed"    // some pages from the text layer, others by OCR
)

// Sources of Evidence.Source besides those of DocumentInfo.Source.
const (
	SourceTemplate   = "template"   // a template's regular expression
	SourceLearned    = "learned"    // a supplier profile learned from earlier corrections
	SourceCorrection = "correction" // a person's correction
)

// Evidence tells where one field's value came from, so that a person can check it at a
// glance: the page and the box on it (page-relative 0..1 coordinates, origin top-left),
// the text the value was read from, the source (SourceEInvoice, SourceText, SourceOCR,
// SourceTemplate, SourceLearned, SourceCorrection) and its confidence in 0..1.
type Evidence struct {
	// Page is 1-based; 0 when the value has no place on a page (an e-invoice's XML value
	// not found on its pages, a correction).
	Page int `json:"page"`
	// Box is nil when Page is 0.
	Box        *Box    `json:"box,omitempty"`
	Text       string  `json:"text"`
	Source     string  `json:"source"`
	Confidence float64 `json:"confidence"`
}

// Box is a rectangle in page-relative coordinates: 0..1 of the page's width and height,
// X0,Y0 its top-left corner.
type Box struct {
	X0 float64 `json:"x0"`
	Y0 float64 `json:"y0"`
	X1 float64 `json:"x1"`
	Y1 float64 `json:"y1"`
}

// EInvoiceInfo describes a structured (EN 16931) invoice that was read.
type EInvoiceInfo struct {
	// Syntax is "cii" (UN/CEFACT Cross Industry Invoice, also ZUGFeRD 1.0's
	// CrossIndustryDocument) or "ubl" (OASIS UBL 2.1 Invoice or CreditNote).
	Syntax string `json:"syntax"`
	// Profile is the specification identifier (BT-24), e.g. "urn:cen.eu:en16931:2017".
	Profile string `json:"profile"`
	// Attachment is the file name of the XML inside the PDF; empty for a standalone XML.
	Attachment string `json:"attachment,omitempty"`
}

// ExtractedData is the structured content of one invoice.
type ExtractedData struct {
	Invoice   Invoice    `json:"invoice"`
	LineItems []LineItem `json:"lineItems"`
}

// Invoice is the header of an invoice. Dates are YYYY-MM-DD or empty when unknown.
//
// The first six fields are those of the REST contract; the others extend it with the
// field set of commercial invoice readers. Amounts follow the document's own sign
// convention: a credit note printed with positive amounts keeps them positive and says
// what it is in DocumentType.
type Invoice struct {
	Number   string   `json:"number"`
	Date     string   `json:"date"`
	DueDate  string   `json:"dueDate"`
	Supplier Supplier `json:"supplier"`
	Customer Customer `json:"customer"`
	Amounts  Amounts  `json:"amounts"`
	// DocumentType is one of the DocumentType constants, or empty when unknown.
	DocumentType string `json:"documentType"`
	// AmountDue is what is left to pay: Amounts.Total less Amounts.Discount (deductions
	// such as agency commission, prepayments and previous balances). Nil when unknown.
	AmountDue *float64 `json:"amountDue"`
	// TaxBreakdown has one entry per tax rate when the document shows a breakdown.
	TaxBreakdown  []TaxRate   `json:"taxBreakdown"`
	ServicePeriod Period      `json:"servicePeriod"`
	PurchaseOrder string      `json:"purchaseOrder"`
	References    []Reference `json:"references"`
	Payment       Payment     `json:"payment"`
	// Allowances are the document-level allowances (discounts) and charges (BG-20, BG-21)
	// between the sum of the lines and the net total; empty when the document shows none.
	Allowances []Allowance `json:"allowances"`
}

// Document types of Invoice.DocumentType.
const (
	DocInvoice    = "invoice"
	DocCreditNote = "creditNote"
	DocDebitNote  = "debitNote"
	DocProforma   = "proforma"
	DocReceipt    = "receipt"
)

// MarshalJSON writes empty lists as [] rather than null, also for data stored before
// the lists existed.
func (i Invoice) MarshalJSON() ([]byte, error) {
	type plain Invoice
	p := plain(i)
	if p.TaxBreakdown == nil {
		p.TaxBreakdown = []TaxRate{}
	}
	if p.References == nil {
		p.References = []Reference{}
	}
	if p.Allowances == nil {
		p.Allowances = []Allowance{}
	}
	return json.Marshal(p)
}

// Supplier is the party that issued the invoice.
type Supplier struct {
	Name    string `json:"name"`
	Address string `json:"address"`
	TaxID   string `json:"taxId"`
	Email   string `json:"email"`
	Phone   string `json:"phone"`
	Website string `json:"website"`
	// Country is the ISO 3166-1 alpha-2 code of the address's country, empty when unknown.
	Country string `json:"country"`
}

// Customer is the party the invoice is addressed to.
type Customer struct {
	Name    string `json:"name"`
	Address string `json:"address"`
	TaxID   string `json:"taxId"`
	// Country is the ISO 3166-1 alpha-2 code of the address's country, empty when unknown.
	Country string `json:"country"`
}

// Amounts are the invoice totals. A nil amount is unknown. Total is the invoice total
// including tax (gross); Discount is the sum of the deductions printed after it.
type Amounts struct {
	Subtotal *float64 `json:"subtotal"`
	Tax      *float64 `json:"tax"`
	Total    *float64 `json:"total"`
	Currency string   `json:"currency"`
	Discount *float64 `json:"discount"`
}

// TaxRate is one row of a tax breakdown: the rate in percent, the net amount taxed at
// it and the tax. A nil number is unknown. Category is the EN 16931 VAT category code
// (UNTDID 5305: S standard, Z zero rated, E exempt, AE reverse charge, K intra-EU, G
// export, O not subject, L/M Canary Islands/Ceuta and Melilla), empty when the document
// does not say.
type TaxRate struct {
	Rate     *float64 `json:"rate"`
	Base     *float64 `json:"base"`
	Amount   *float64 `json:"amount"`
	Category string   `json:"category,omitempty"`
	// ExemptionReason is the reason text of an exempt or reverse-charge category (BT-120).
	ExemptionReason string `json:"exemptionReason,omitempty"`
}

// Allowance is one document-level allowance or charge: Amount is positive; Charge tells
// a charge (added) from an allowance (deducted). Category and Rate are its VAT category and rate.
//
// In EN 16931 terms an allowance is BG-20 and a charge BG-21: Amount is BT-92 / BT-99,
// and the net total is the sum of the lines less the allowances plus the charges
// (BR-CO-13). A nil number is unknown.
type Allowance struct {
	Charge bool     `json:"charge"`
	Amount *float64 `json:"amount"`
	// Base is the amount the percentage applies to (BT-93 / BT-100).
	Base *float64 `json:"base,omitempty"`
	// Percent is the percentage of Base the amount is (BT-94 / BT-101).
	Percent *float64 `json:"percent,omitempty"`
	// Reason is the reason text (BT-97 / BT-104).
	Reason string `json:"reason,omitempty"`
	// ReasonCode is the reason code (BT-98 / BT-105): UNTDID 5189 for an allowance,
	// UNTDID 7161 for a charge.
	ReasonCode string `json:"reasonCode,omitempty"`
	// Category is the VAT category code (BT-95 / BT-102), as TaxRate.Category.
	Category string `json:"category,omitempty"`
	// Rate is the VAT rate in percent (BT-96 / BT-103).
	Rate *float64 `json:"rate,omitempty"`
}

// Period is a service, delivery or flight period; dates are YYYY-MM-DD or empty.
type Period struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// Reference kinds of Reference.Kind.
const (
	RefContract       = "contract"
	RefOrder          = "order"
	RefDeliveryNote   = "deliveryNote"
	RefCustomerNumber = "customerNumber"
	RefOther          = "other"
)

// Reference is a document or account the invoice refers to.
type Reference struct {
	Kind  string `json:"kind"`
	Value string `json:"value"`
}

// Payment is how the invoice is to be paid. DueDays is the payment term in days, nil
// when unknown.
type Payment struct {
	IBAN    string `json:"iban"`
	BIC     string `json:"bic"`
	Terms   string `json:"terms"`
	DueDays *int   `json:"dueDays"`
}

// LineItem is one row of the invoice's item table. A nil number is unknown.
type LineItem struct {
	Description string   `json:"description"`
	Quantity    *float64 `json:"quantity"`
	UnitPrice   *float64 `json:"unitPrice"`
	Amount      *float64 `json:"amount"`
	// TaxRate is the line's VAT rate in percent, nil when unknown.
	TaxRate *float64 `json:"taxRate"`
	// UnitCode is the quantity's unit (UN/ECE Recommendation 20, e.g. "C62" one, "HUR"
	// hour), empty when unknown.
	UnitCode string `json:"unitCode,omitempty"`
}

// Confidence holds the overall confidence and one value per field path
// (e.g. "invoice.amounts.total", "lineItems"), each in 0..1.
type Confidence struct {
	Overall float64            `json:"overall"`
	Fields  map[string]float64 `json:"fields"`
}

// Severity of a validation finding.
type Severity string

// Severities of validation findings. IsValid is false when any SeverityError exists.
const (
	SeverityError   Severity = "error"
	SeverityWarning Severity = "warning"
)

// ValidationResults is the outcome of the arithmetic and consistency checks.
type ValidationResults struct {
	IsValid bool              `json:"isValid"`
	Errors  []ValidationError `json:"errors"`
}

// ValidationError is one finding of validation.
type ValidationError struct {
	Field    string   `json:"field"`
	Message  string   `json:"message"`
	Severity Severity `json:"severity"`
	// Rule is the identifier of the standard's rule the finding reports (an EN 16931
	// business rule such as "BR-CO-15"), empty for the project's own checks.
	Rule string `json:"rule,omitempty"`
}

// Results is what the REST /results endpoint returns for a job.
type Results struct {
	ExtractedData     *ExtractedData     `json:"extractedData"`
	Confidence        *Confidence        `json:"confidence"`
	ValidationResults *ValidationResults `json:"validationResults"`
	ProcessingTime    *float64           `json:"processingTime"`
}

// Float returns a pointer to v, for building amounts.
func Float(v float64) *float64 { return &v }

// Outcomes of a JobAttempt.
const (
	AttemptRunning     = "running"     // the attempt is in flight
	AttemptCompleted   = "completed"   // it stored the job's results
	AttemptFailed      = "failed"      // it failed and the job failed for good
	AttemptRetry       = "retry"       // it failed and the job went back to the queue
	AttemptWorkerLost  = "worker_lost" // its worker stopped heart-beating; the job was queued again (or failed, retries exhausted)
	AttemptCancelled   = "cancelled"   // the job was cancelled while it ran
	AttemptInterrupted = "interrupted" // it ended without an outcome (shutdown, timeout, a death heartbeats did not catch) and the same task started again
)

// JobAttempt is one run of a job by a worker, as listed in the job's attempts (the
// server owns the list; GraphQL exposes it, the REST contract does not).
type JobAttempt struct {
	// Number counts the job's attempts from 1; it keeps growing across retries.
	Number int `json:"number"`
	// Worker names the worker process ("hostname:pid").
	Worker    string     `json:"worker"`
	StartedAt time.Time  `json:"startedAt"`
	EndedAt   *time.Time `json:"endedAt,omitempty"`
	// Outcome is one of the Attempt* constants.
	Outcome string `json:"outcome"`
	// Error is why the attempt failed (secrets redacted), empty otherwise.
	Error string `json:"error,omitempty"`
	// Heartbeat tells that the worker keeps a heartbeat for the attempt while it runs,
	// so that its silence means it died (not in the API).
	Heartbeat bool `json:"heartbeat,omitempty"`
}
