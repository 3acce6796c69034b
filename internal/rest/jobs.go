package rest

import (
	"mime"
	"net/http"
	"strconv"

	"github.com/ocrinvoice/ocrinvoice/internal/apperr"
	"github.com/ocrinvoice/ocrinvoice/internal/ids"
	"github.com/ocrinvoice/ocrinvoice/internal/jobs"
)

var jobBody = bodySchema{writable: jobWritable, readOnly: jobReadOnly}

// pathID returns the {id} path value, or a 400 naming "id" when it is not 24 lowercase hex
// characters (a well-formed id that does not exist is a 404 from internal/jobs).
func pathID(r *http.Request) (string, error) {
	id := r.PathValue("id")
	if !ids.Valid(id) {
		return "", apperr.Invalid("invalid id "+apperr.Quote(id)+": an id is 24 lowercase hexadecimal characters",
			apperr.Detail{Field: "id", Message: "must be 24 lowercase hexadecimal characters"})
	}
	return id, nil
}

// decodeJobInput reads a job body. Every writable field is decoded with its type checked; the
// values are validated by internal/jobs.
func decodeJobInput(w http.ResponseWriter, r *http.Request) (jobs.JobInput, error) {
	var in jobs.JobInput
	obj, err := readObject(w, r)
	if err != nil {
		return in, err
	}
	d := jobBody.decoder(obj)
	d.field("jobNumber", &in.JobNumber, "a string")
	d.field("documentName", &in.DocumentName, "a string")
	d.field("documentUrl", &in.DocumentURL, "a string (an http or https URL)")
	d.field("documentType", &in.DocumentType, "a string")
	d.field("template", &in.Template, "a string (a template id or name)")
	d.field("group", &in.Group, "a string (a group id) or null")
	_, given := obj["group"]
	in.KeepGroup = !given // a PUT that omits group keeps the job's; "group": null leaves it
	d.field("priority", &in.Priority, "a string")
	d.field("createdBy", &in.CreatedBy, "a string")
	d.field("callbackUrl", &in.CallbackURL, "a string (an http or https URL) or null")
	d.field("metadata", &in.Metadata, "an object")
	return in, d.err()
}

func (a *api) listJobs(w http.ResponseWriter, r *http.Request) error {
	p, err := parseListParams(r.URL.Query())
	if err != nil {
		return err
	}
	where, err := a.svc.JobFilter(p.Filter, p.Search)
	if err != nil {
		return err
	}
	order, err := jobs.JobOrder(p.Sort, p.Order)
	if err != nil {
		return err
	}
	lp := jobs.ListJobsParams{Limit: p.Limit, Offset: p.Offset, Where: where, Order: order}
	lp.Statuses, lp.Counted = jobs.CountedFilter(p.Filter, p.Search)
	if p.After != "" {
		if lp.After, err = a.svc.JobsAfter(r.Context(), p.After, p.Sort, p.Order); err != nil {
			return err
		}
	}
	page, err := a.svc.ListJobPage(r.Context(), lp)
	if err != nil {
		return err
	}
	next := ""
	if page.More && len(page.Jobs) > 0 {
		if next, err = a.svc.JobCursor(r.Context(), p.Sort, p.Order, page.Jobs[len(page.Jobs)-1]); err != nil {
			return err
		}
	}
	if p.Offset > deepOffset {
		w.Header().Set("Warning", deepOffsetWarning)
	}
	writeCursorList(w, a.log, newJobDTOs(page.Jobs), page.Total, next)
	return nil
}

// deepOffset is the largest offset served without a hint: past it the database reads and
// drops offset rows for each page, and the answer carries deepOffsetWarning.
const deepOffset = 10000

// deepOffsetWarning is the Warning header (RFC 9111 style, code 299) of a list read past
// deepOffset.
const deepOffsetWarning = `299 - "offset past 10000 is slow: page with after=<nextCursor> instead"`

func (a *api) createJob(w http.ResponseWriter, r *http.Request) error {
	in, err := decodeJobInput(w, r)
	if err != nil {
		return err
	}
	j, err := a.svc.CreateJob(r.Context(), in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/ocr-invoice-jobs/"+j.ID)
	writeData(w, a.log, http.StatusCreated, newJobDTO(j))
	return nil
}

func (a *api) getJob(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	j, err := a.svc.GetJob(r.Context(), id)
	if err != nil {
		return err
	}
	writeData(w, a.log, http.StatusOK, newJobDTO(j))
	return nil
}

func (a *api) updateJob(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	in, err := decodeJobInput(w, r)
	if err != nil {
		return err
	}
	j, err := a.svc.UpdateJob(r.Context(), id, in)
	if err != nil {
		return err
	}
	writeData(w, a.log, http.StatusOK, newJobDTO(j))
	return nil
}

func (a *api) jobResults(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	res, err := a.svc.JobResults(r.Context(), id)
	if err != nil {
		return err
	}
	writeData(w, a.log, http.StatusOK, res)
	return nil
}

// jobEInvoice answers a completed job's data as an EN 16931 e-invoice: CII unless
// ?syntax=ubl, as an attachment with a file name. 422 when the job is not completed or
// its data lacks what EN 16931 requires (the details name each business term).
func (a *api) jobEInvoice(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	for k := range q {
		if k != "syntax" {
			return apperr.Invalid("unknown query parameter "+apperr.Quote(k)+": the only one is syntax (cii or ubl)",
				apperr.Detail{Field: k, Message: "unknown parameter"})
		}
	}
	if len(q["syntax"]) > 1 {
		return apperr.InvalidField("syntax", "give it once")
	}
	doc, err := a.svc.JobEInvoice(r.Context(), id, q.Get("syntax"))
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", "application/xml; charset=utf-8")
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": doc.FileName}))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Length", strconv.Itoa(len(doc.XML)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(doc.XML)
	}
	return nil
}

func (a *api) cancelJob(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	j, err := a.svc.CancelJob(r.Context(), id)
	if err != nil {
		return err
	}
	writeData(w, a.log, http.StatusOK, newJobDTO(j))
	return nil
}

func (a *api) retryJob(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	j, err := a.svc.RetryJob(r.Context(), id)
	if err != nil {
		return err
	}
	writeData(w, a.log, http.StatusOK, newJobDTO(j))
	return nil
}
