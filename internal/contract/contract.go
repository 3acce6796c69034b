// Package contract holds the JSON shape of an OCR invoice job in the REST contract
// (spec/ocr-invoice-jobs-api.txt) and its conversion from the stored job. The REST API
// (the data of GET /api/v1/ocr-invoice-jobs/{id}) and the worker's webhooks (the body of
// every delivery) both encode it, so the two can never drift apart. It is a leaf: it
// imports ent and internal/invoice only.
package contract

import (
	"time"

	"github.com/ocrinvoice/ocrinvoice/ent"
	"github.com/ocrinvoice/ocrinvoice/internal/invoice"
)

// Job is an OCR invoice job as the contract shows it. Every key is always present, in the
// contract's order; a value that is unknown or unset is JSON null (never omitted, never a
// made-up zero). Timestamps are RFC 3339 in UTC, with fractional seconds when the stored
// time has them. documentUrl and callbackUrl are not in the contract's example response
// but are inputs; they are returned too so that GET-modify-PUT works.
type Job struct {
	ID                string                     `json:"_id"`
	JobNumber         string                     `json:"jobNumber"`
	DocumentName      string                     `json:"documentName"`
	DocumentURL       string                     `json:"documentUrl"`
	DocumentType      *string                    `json:"documentType"`
	Template          string                     `json:"template"`
	Group             *string                    `json:"group"`
	Status            string                     `json:"status"`
	Priority          string                     `json:"priority"`
	Progress          invoice.Progress           `json:"progress"`
	StartedAt         *string                    `json:"startedAt"`
	CompletedAt       *string                    `json:"completedAt"`
	ProcessingTime    *float64                   `json:"processingTime"`
	DocumentInfo      *invoice.DocumentInfo      `json:"documentInfo"`
	ExtractedData     *invoice.ExtractedData     `json:"extractedData"`
	Confidence        *invoice.Confidence        `json:"confidence"`
	ValidationResults *invoice.ValidationResults `json:"validationResults"`
	Cost              float64                    `json:"cost"`
	Currency          string                     `json:"currency"`
	ErrorLog          *string                    `json:"errorLog"`
	RetryCount        int                        `json:"retryCount"`
	Attempts          []Attempt                  `json:"attempts"`
	CreatedBy         *string                    `json:"createdBy"`
	CallbackURL       *string                    `json:"callbackUrl"`
	Metadata          map[string]any             `json:"metadata"`
	CreatedAt         string                     `json:"createdAt"`
	UpdatedAt         string                     `json:"updatedAt"`

	// Additions after the contract's own fields (issue 15): where each value came from,
	// keyed by field path ({} when none was kept), the people's corrections ([] when
	// none), the review status, the version of the results (the ETag and If-Match of a
	// correction) and the data as the machine produced it (null until completed).
	Evidence     map[string]invoice.Evidence `json:"evidence"`
	Corrections  []invoice.Correction        `json:"corrections"`
	ReviewStatus string                      `json:"reviewStatus"`
	DataVersion  int                         `json:"dataVersion"`
	MachineData  *invoice.ExtractedData      `json:"machineData"`
	// SupplierProfile is the supplier profile the extraction used (null: none).
	SupplierProfile *invoice.ProfileUse `json:"supplierProfile"`
}

// Attempt is one run of a job by a worker, oldest first in Job.Attempts (an addition to
// the contract, after retryCount): its number (from 1, across retries), the worker, when
// it started and ended (null while it runs), its outcome (running, completed, failed,
// retry, worker_lost, cancelled, interrupted) and why it failed (null otherwise).
type Attempt struct {
	Number    int     `json:"number"`
	Worker    string  `json:"worker"`
	StartedAt string  `json:"startedAt"`
	EndedAt   *string `json:"endedAt"`
	Outcome   string  `json:"outcome"`
	Error     *string `json:"error"`
}

// NewJob converts a stored job to its contract shape.
func NewJob(j *ent.OcrInvoiceJob) Job {
	d := Job{
		ID:                j.ID,
		JobNumber:         j.JobNumber,
		DocumentName:      j.DocumentName,
		DocumentURL:       j.DocumentURL,
		DocumentType:      NonEmpty(string(j.DocumentType)),
		Template:          j.TemplateID,
		Group:             j.GroupID,
		Status:            string(j.Status),
		Priority:          string(j.Priority),
		Progress:          j.Progress,
		StartedAt:         TimePtr(j.StartedAt),
		CompletedAt:       TimePtr(j.CompletedAt),
		ProcessingTime:    j.ProcessingTime,
		DocumentInfo:      j.DocumentInfo,
		ExtractedData:     j.ExtractedData,
		Confidence:        j.Confidence,
		ValidationResults: j.ValidationResults,
		Cost:              j.Cost,
		Currency:          j.Currency,
		ErrorLog:          NonEmpty(j.ErrorLog),
		RetryCount:        j.RetryCount,
		Attempts:          make([]Attempt, len(j.Attempts)),
		CreatedBy:         NonEmpty(j.CreatedBy),
		CallbackURL:       NonEmpty(j.CallbackURL),
		Metadata:          j.Metadata,
		CreatedAt:         Timestamp(j.CreatedAt),
		UpdatedAt:         Timestamp(j.UpdatedAt),
		Evidence:          j.Evidence,
		Corrections:       j.Corrections,
		ReviewStatus:      string(j.ReviewStatus),
		DataVersion:       j.DataVersion,
		MachineData:       j.MachineData,
	}
	if d.Evidence == nil {
		d.Evidence = map[string]invoice.Evidence{}
	}
	if d.Corrections == nil {
		d.Corrections = []invoice.Correction{}
	}
	if d.ReviewStatus == "" {
		d.ReviewStatus = invoice.ReviewUnreviewed
	}
	if d.MachineData == nil && d.ExtractedData != nil && len(d.Corrections) == 0 {
		// Completed before machine_data existed and never corrected: the data is the machine's.
		d.MachineData = d.ExtractedData
	}
	for i, a := range j.Attempts {
		d.Attempts[i] = Attempt{Number: a.Number, Worker: a.Worker, StartedAt: Timestamp(a.StartedAt),
			EndedAt: TimePtr(a.EndedAt), Outcome: a.Outcome, Error: NonEmpty(a.Error)}
	}
	if d.Group != nil && *d.Group == "" {
		d.Group = nil
	}
	if d.Metadata == nil {
		d.Metadata = map[string]any{}
	}
	if j.SupplierProfile != nil {
		use := *j.SupplierProfile
		if use.Fields == nil {
			use.Fields = []string{}
		}
		d.SupplierProfile = &use
	}
	return d
}

// NonEmpty returns nil for "" (JSON null), else a pointer to s.
func NonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// Timestamp formats t as the contract does: RFC 3339 in UTC, fractional seconds when set.
func Timestamp(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// TimePtr is Timestamp for an optional time: nil stays nil (JSON null).
func TimePtr(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := Timestamp(*t)
	return &s
}
