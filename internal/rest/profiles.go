package rest

import (
	"encoding/json"
	"net/http"

	"github.com/ocrinvoice/ocrinvoice/ent"
	"github.com/ocrinvoice/ocrinvoice/internal/apperr"
	"github.com/ocrinvoice/ocrinvoice/internal/jobs"
)

// profileDTO is a supplier profile: the keys that recognise the supplier's documents and
// the rules that find its fields (a JSON value; null before it learned any).
type profileDTO struct {
	ID          string          `json:"_id"`
	DisplayName string          `json:"displayName"`
	TaxID       *string         `json:"taxId"`
	IBAN        *string         `json:"iban"`
	NameKey     *string         `json:"nameKey"`
	Fingerprint *string         `json:"fingerprint"`
	Rules       json.RawMessage `json:"rules"`
	Version     int             `json:"version"`
	JobsLearned int             `json:"jobsLearned"`
	LastJobID   *string         `json:"lastJobId"`
	CreatedBy   *string         `json:"createdBy"`
	CreatedAt   string          `json:"createdAt"`
	UpdatedAt   string          `json:"updatedAt"`
}

func newProfileDTO(p *ent.SupplierProfile) profileDTO {
	d := profileDTO{
		ID:          p.ID,
		DisplayName: p.DisplayName,
		TaxID:       p.TaxID,
		IBAN:        p.Iban,
		NameKey:     nonEmpty(p.NameKey),
		Fingerprint: nonEmpty(p.Fingerprint),
		Rules:       p.Rules,
		Version:     p.Version,
		JobsLearned: p.JobsLearned,
		LastJobID:   nonEmpty(p.LastJobID),
		CreatedBy:   nonEmpty(p.CreatedBy),
		CreatedAt:   timeString(p.CreatedAt),
		UpdatedAt:   timeString(p.UpdatedAt),
	}
	if len(d.Rules) == 0 || !json.Valid(d.Rules) {
		d.Rules = json.RawMessage("null")
	}
	return d
}

// listProfiles answers a page of the caller's supplier profiles, most recently learned
// first. Only limit and offset apply; sort, search and filter are refused.
func (a *api) listProfiles(w http.ResponseWriter, r *http.Request) error {
	p, err := parseListParams(r.URL.Query())
	if err != nil {
		return err
	}
	var details []apperr.Detail
	for name, v := range map[string]string{"sort": p.Sort, "search": p.Search, "filter": p.Filter} {
		if v != "" {
			details = append(details, apperr.Detail{Field: name, Message: "supplier profiles are listed by limit and offset only"})
		}
	}
	if len(details) > 0 {
		return apperr.Invalid("supplier profiles take limit and offset only", details...)
	}
	list, total, err := a.svc.ListSupplierProfiles(r.Context(), jobs.ListSupplierProfilesParams{Limit: p.Limit, Offset: p.Offset})
	if err != nil {
		return err
	}
	out := make([]profileDTO, len(list))
	for i, sp := range list {
		out[i] = newProfileDTO(sp)
	}
	writeList(w, a.log, out, total)
	return nil
}

func (a *api) getProfile(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	p, err := a.svc.GetSupplierProfile(r.Context(), id)
	if err != nil {
		return err
	}
	writeData(w, a.log, http.StatusOK, newProfileDTO(p))
	return nil
}

// deleteProfile deletes a supplier profile and answers it as it was.
func (a *api) deleteProfile(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	p, err := a.svc.GetSupplierProfile(r.Context(), id)
	if err != nil {
		return err
	}
	if err := a.svc.DeleteSupplierProfile(r.Context(), id); err != nil {
		return err
	}
	writeData(w, a.log, http.StatusOK, newProfileDTO(p))
	return nil
}
