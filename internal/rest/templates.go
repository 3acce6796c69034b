package rest

import (
	"net/http"
	"strings"

	"github.com/ocrinvoice/ocrinvoice/internal/apperr"
	"github.com/ocrinvoice/ocrinvoice/internal/jobs"
)

var templateBody = bodySchema{writable: templateWritable, readOnly: templateReadOnly}

// templateRef returns the {id} path value of a template route: a template id or, as `template`
// in a job body, a template name (e.g. "generic").
func templateRef(r *http.Request) (string, error) {
	ref := r.PathValue("id")
	if strings.TrimSpace(ref) == "" || len(ref) > jobs.MaxNameLen {
		return "", apperr.Invalid("invalid id "+apperr.Quote(ref)+": give a template id or name",
			apperr.Detail{Field: "id", Message: "must be a template id or name"})
	}
	return ref, nil
}

func decodeTemplateInput(w http.ResponseWriter, r *http.Request) (jobs.TemplateInput, error) {
	var in jobs.TemplateInput
	obj, err := readObject(w, r)
	if err != nil {
		return in, err
	}
	d := templateBody.decoder(obj)
	d.field("name", &in.Name, "a string")
	d.field("description", &in.Description, "a string")
	d.field("languages", &in.Languages, "a string")
	d.field("dpi", &in.DPI, "an integer")
	d.field("pageSegmentationMode", &in.PageSegmentationMode, "an integer")
	d.field("spec", &in.Spec, "an object")
	d.field("defaultCurrency", &in.DefaultCurrency, "a string")
	d.field("pricePerPage", &in.PricePerPage, "a number")
	d.field("createdBy", &in.CreatedBy, "a string")
	d.field("shared", &in.Shared, "a boolean")
	return in, d.err()
}

func (a *api) listTemplates(w http.ResponseWriter, r *http.Request) error {
	p, err := parseListParams(r.URL.Query())
	if err != nil {
		return err
	}
	where, err := a.svc.TemplateFilter(p.Filter, p.Search)
	if err != nil {
		return err
	}
	order, err := jobs.TemplateOrder(p.Sort, p.Order)
	if err != nil {
		return err
	}
	list, total, err := a.svc.ListTemplates(r.Context(), jobs.ListTemplatesParams{Limit: p.Limit, Offset: p.Offset, Where: where, Order: order})
	if err != nil {
		return err
	}
	out := make([]templateDTO, len(list))
	for i, t := range list {
		out[i] = newTemplateDTO(t)
	}
	writeList(w, a.log, out, total)
	return nil
}

func (a *api) createTemplate(w http.ResponseWriter, r *http.Request) error {
	in, err := decodeTemplateInput(w, r)
	if err != nil {
		return err
	}
	t, err := a.svc.CreateTemplate(r.Context(), in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/ocr-templates/"+t.ID)
	writeData(w, a.log, http.StatusCreated, newTemplateDTO(t))
	return nil
}

func (a *api) getTemplate(w http.ResponseWriter, r *http.Request) error {
	ref, err := templateRef(r)
	if err != nil {
		return err
	}
	t, err := a.svc.GetTemplate(r.Context(), ref)
	if err != nil {
		return err
	}
	writeData(w, a.log, http.StatusOK, newTemplateDTO(t))
	return nil
}

func (a *api) updateTemplate(w http.ResponseWriter, r *http.Request) error {
	ref, err := templateRef(r)
	if err != nil {
		return err
	}
	in, err := decodeTemplateInput(w, r)
	if err != nil {
		return err
	}
	t, err := a.svc.UpdateTemplate(r.Context(), ref, in)
	if err != nil {
		return err
	}
	writeData(w, a.log, http.StatusOK, newTemplateDTO(t))
	return nil
}
