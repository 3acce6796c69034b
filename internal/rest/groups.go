package rest

import (
	"net/http"

	"github.com/ocrinvoice/ocrinvoice/ent"

	"github.com/ocrinvoice/ocrinvoice/internal/jobs"
)

var groupBody = bodySchema{writable: groupWritable, readOnly: groupReadOnly}

// groupCreateBody also accepts documents: POST may create the group's jobs.
var groupCreateBody = bodySchema{writable: append(groupWritable[:len(groupWritable):len(groupWritable)], "documents"), readOnly: groupReadOnly}

// maxGroupBodyBytes bounds the body of POST /ocr-job-groups: room for
// jobs.MaxGroupDocuments documents with long URLs and some metadata.
const maxGroupBodyBytes = 32 << 20

// documentDTO is one entry of a group's documents in a POST body.
type documentDTO struct {
	DocumentURL  string         `json:"documentUrl"`
	DocumentName string         `json:"documentName"`
	JobNumber    string         `json:"jobNumber"`
	Metadata     map[string]any `json:"metadata"`
}

func decodeGroupInput(w http.ResponseWriter, r *http.Request, create bool) (jobs.GroupInput, error) {
	var in jobs.GroupInput
	schema, limit := groupBody, int64(maxBodyBytes)
	if create {
		schema, limit = groupCreateBody, maxGroupBodyBytes
	}
	obj, err := readObjectMax(w, r, limit)
	if err != nil {
		return in, err
	}
	d := schema.decoder(obj)
	d.field("name", &in.Name, "a string")
	d.field("description", &in.Description, "a string")
	d.field("spec", &in.Spec, "an object")
	d.field("createdBy", &in.CreatedBy, "a string")
	d.field("callbackUrl", &in.CallbackURL, "a string (an http or https URL) or null")
	if create {
		var docs []documentDTO
		if d.field("documents", &docs, "an array of {documentUrl, documentName, jobNumber?, metadata?}") {
			in.Documents = make([]jobs.GroupDocument, len(docs))
			for i, doc := range docs {
				in.Documents[i] = jobs.GroupDocument{DocumentURL: doc.DocumentURL, DocumentName: doc.DocumentName, JobNumber: doc.JobNumber, Metadata: doc.Metadata}
			}
		}
	}
	return in, d.err()
}

func (a *api) listGroups(w http.ResponseWriter, r *http.Request) error {
	p, err := parseListParams(r.URL.Query())
	if err != nil {
		return err
	}
	where, err := a.svc.GroupFilter(p.Filter, p.Search)
	if err != nil {
		return err
	}
	order, err := jobs.GroupOrder(p.Sort, p.Order)
	if err != nil {
		return err
	}
	list, total, err := a.svc.ListGroups(r.Context(), jobs.ListGroupsParams{Limit: p.Limit, Offset: p.Offset, Where: where, Order: order})
	if err != nil {
		return err
	}
	out := make([]groupDTO, len(list))
	for i, g := range list {
		out[i] = newGroupDTO(g)
	}
	writeList(w, a.log, out, total)
	return nil
}

func (a *api) createGroup(w http.ResponseWriter, r *http.Request) error {
	in, err := decodeGroupInput(w, r, true)
	if err != nil {
		return err
	}
	g, err := a.svc.CreateGroup(r.Context(), in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/ocr-job-groups/"+g.ID)
	writeData(w, a.log, http.StatusCreated, newGroupDTO(g))
	return nil
}

func (a *api) getGroup(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	g, err := a.svc.GetGroup(r.Context(), id)
	if err != nil {
		return err
	}
	writeData(w, a.log, http.StatusOK, newGroupDTO(g))
	return nil
}

func (a *api) updateGroup(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	in, err := decodeGroupInput(w, r, false)
	if err != nil {
		return err
	}
	g, err := a.svc.UpdateGroup(r.Context(), id, in)
	if err != nil {
		return err
	}
	writeData(w, a.log, http.StatusOK, newGroupDTO(g))
	return nil
}

// groupAction serves POST /ocr-job-groups/{id}/suspend|resume|cancel|retry-failed: no
// body, the group as it is after the change (its status follows once the runner has
// reconciled it).
func groupAction(do func(svc *jobs.Service, r *http.Request, id string) (*ent.OcrJobGroup, error)) handler {
	return func(a *api, w http.ResponseWriter, r *http.Request) error {
		id, err := pathID(r)
		if err != nil {
			return err
		}
		g, err := do(a.svc, r, id)
		if err != nil {
			return err
		}
		writeData(w, a.log, http.StatusOK, newGroupDTO(g))
		return nil
	}
}

var (
	suspendGroup = groupAction(func(svc *jobs.Service, r *http.Request, id string) (*ent.OcrJobGroup, error) {
		return svc.SuspendGroup(r.Context(), id)
	})
	resumeGroup = groupAction(func(svc *jobs.Service, r *http.Request, id string) (*ent.OcrJobGroup, error) {
		return svc.ResumeGroup(r.Context(), id)
	})
	cancelGroup = groupAction(func(svc *jobs.Service, r *http.Request, id string) (*ent.OcrJobGroup, error) {
		g, _, err := svc.CancelGroup(r.Context(), id)
		return g, err
	})
	retryFailedGroup = groupAction(func(svc *jobs.Service, r *http.Request, id string) (*ent.OcrJobGroup, error) {
		g, _, err := svc.RetryFailedGroup(r.Context(), id)
		return g, err
	})
)
