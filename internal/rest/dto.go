package rest

import (
	"time"

	"github.com/ocrinvoice/ocrinvoice/ent"
	"github.com/ocrinvoice/ocrinvoice/internal/conditions"
	"github.com/ocrinvoice/ocrinvoice/internal/contract"
	"github.com/ocrinvoice/ocrinvoice/internal/invoice"
)

// The JSON shapes of the REST API. Every key of the contract is always present, in the
// contract's order; a value that is unknown or unset is JSON null (never omitted, never a
// made-up zero). Timestamps are RFC 3339 in UTC, with fractional seconds when the stored time
// has them.

// jobDTO is an OCR invoice job as the contract shows it. The shape and its conversion live
// in internal/contract, which the worker's webhooks encode too.
type jobDTO = contract.Job

// jobReadOnly are the response fields of a job that a client may send back in a PUT (or POST)
// and that are ignored there: the server owns them. "results" is accepted for clients that
// merged the /results document into their copy.
var jobReadOnly = []string{
	"_id", "status", "progress", "startedAt", "completedAt", "processingTime", "documentInfo",
	"extractedData", "confidence", "validationResults", "cost", "currency", "errorLog",
	"retryCount", "attempts", "createdAt", "updatedAt", "results", "evidence", "corrections", "reviewStatus", "dataVersion",
	"machineData", "supplierProfile",
}

// jobWritable are the input fields of the contract, in its order.
var jobWritable = []string{
	"jobNumber", "documentName", "documentUrl", "documentType", "template", "group", "priority",
	"createdBy", "callbackUrl", "metadata",
}

func newJobDTO(j *ent.OcrInvoiceJob) jobDTO { return contract.NewJob(j) }

func newJobDTOs(js []*ent.OcrInvoiceJob) []jobDTO {
	out := make([]jobDTO, len(js))
	for i, j := range js {
		out[i] = newJobDTO(j)
	}
	return out
}

// templateDTO is an OCR template. spec is the invoice2data-style rule set (invoice.TemplateSpec).
type templateDTO struct {
	ID                   string               `json:"_id"`
	Name                 string               `json:"name"`
	Description          *string              `json:"description"`
	Languages            string               `json:"languages"`
	DPI                  int                  `json:"dpi"`
	PageSegmentationMode int                  `json:"pageSegmentationMode"`
	Spec                 invoice.TemplateSpec `json:"spec"`
	DefaultCurrency      string               `json:"defaultCurrency"`
	PricePerPage         float64              `json:"pricePerPage"`
	Builtin              bool                 `json:"builtin"`
	// CreatedBy is the owner whose jobs may use the template (null: none); Shared makes
	// it usable by every owner.
	CreatedBy *string `json:"createdBy"`
	Shared    bool    `json:"shared"`
	CreatedAt string  `json:"createdAt"`
	UpdatedAt string  `json:"updatedAt"`
}

var templateReadOnly = []string{"_id", "builtin", "createdAt", "updatedAt"}

var templateWritable = []string{
	"name", "description", "languages", "dpi", "pageSegmentationMode", "spec", "defaultCurrency", "pricePerPage",
	"createdBy", "shared",
}

func newTemplateDTO(t *ent.OcrTemplate) templateDTO {
	return templateDTO{
		ID:                   t.ID,
		Name:                 t.Name,
		Description:          nonEmpty(t.Description),
		Languages:            t.Languages,
		DPI:                  t.Dpi,
		PageSegmentationMode: t.PageSegmentationMode,
		Spec:                 t.Spec,
		DefaultCurrency:      t.DefaultCurrency,
		PricePerPage:         t.PricePerPage,
		Builtin:              t.Builtin,
		CreatedBy:            nonEmpty(t.CreatedBy),
		Shared:               t.Shared,
		CreatedAt:            timeString(t.CreatedAt),
		UpdatedAt:            timeString(t.UpdatedAt),
	}
}

// groupDTO is an OCR job group (a batch, shaped like a Kubernetes Job).
type groupDTO struct {
	ID          string              `json:"_id"`
	Name        string              `json:"name"`
	Description *string             `json:"description"`
	Spec        invoice.GroupSpec   `json:"spec"`
	Status      invoice.GroupStatus `json:"status"`
	CreatedBy   *string             `json:"createdBy"`
	CallbackURL *string             `json:"callbackUrl"`
	CreatedAt   string              `json:"createdAt"`
	UpdatedAt   string              `json:"updatedAt"`
}

var groupReadOnly = []string{"_id", "status", "createdAt", "updatedAt"}

var groupWritable = []string{"name", "description", "spec", "createdBy", "callbackUrl"}

func newGroupDTO(g *ent.OcrJobGroup) groupDTO {
	d := groupDTO{
		ID:          g.ID,
		Name:        g.Name,
		Description: nonEmpty(g.Description),
		Spec:        g.Spec,
		Status:      g.Status,
		CreatedBy:   nonEmpty(g.CreatedBy),
		CallbackURL: nonEmpty(g.CallbackURL),
		CreatedAt:   timeString(g.CreatedAt),
		UpdatedAt:   timeString(g.UpdatedAt),
	}
	if d.Status.Conditions == nil {
		d.Status.Conditions = []conditions.Condition{}
	}
	return d
}

func nonEmpty(s string) *string { return contract.NonEmpty(s) }

func timeString(t time.Time) string { return contract.Timestamp(t) }
