package rest

import (
	"net/http"

	"github.com/ocrinvoice/ocrinvoice/internal/jobs"
)

var groupBody = bodySchema{writable: groupWritable, readOnly: groupReadOnly}

func decodeGroupInput(w http.ResponseWriter, r *http.Request) (jobs.GroupInput, error) {
	var in jobs.GroupInput
	obj, err := readObject(w, r)
	if err != nil {
		return in, err
	}
	d := groupBody.decoder(obj)
	d.field("name", &in.Name, "a string")
	d.field("description", &in.Description, "a string")
	d.field("spec", &in.Spec, "an object")
	d.field("createdBy", &in.CreatedBy, "a string")
	d.field("callbackUrl", &in.CallbackURL, "a string (an http or https URL) or null")
	return in, d.err()
}

func (a *api) listGroups(w http.ResponseWriter, r *http.Request) {
	p, err := parseListParams(r.URL.Query())
	if err != nil {
		writeError(w, r, a.log, err)
		return
	}
	where, err := jobs.ParseGroupFilter(p.Filter)
	if err != nil {
		writeError(w, r, a.log, err)
		return
	}
	if p.Search != "" {
		where = append(where, jobs.SearchGroups(p.Search))
	}
	order, err := jobs.GroupOrder(p.Sort, p.Order)
	if err != nil {
		writeError(w, r, a.log, err)
		return
	}
	list, total, err := a.svc.ListGroups(r.Context(), jobs.ListGroupsParams{Limit: p.Limit, Offset: p.Offset, Where: where, Order: order})
	if err != nil {
		writeError(w, r, a.log, err)
		return
	}
	out := make([]groupDTO, len(list))
	for i, g := range list {
		out[i] = newGroupDTO(g)
	}
	writeList(w, a.log, out, total)
}

func (a *api) createGroup(w http.ResponseWriter, r *http.Request) {
	in, err := decodeGroupInput(w, r)
	if err != nil {
		writeError(w, r, a.log, err)
		return
	}
	g, err := a.svc.CreateGroup(r.Context(), in)
	if err != nil {
		writeError(w, r, a.log, err)
		return
	}
	w.Header().Set("Location", "/api/v1/ocr-job-groups/"+g.ID)
	writeData(w, a.log, http.StatusCreated, newGroupDTO(g))
}

func (a *api) getGroup(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		writeError(w, r, a.log, err)
		return
	}
	g, err := a.svc.GetGroup(r.Context(), id)
	if err != nil {
		writeError(w, r, a.log, err)
		return
	}
	writeData(w, a.log, http.StatusOK, newGroupDTO(g))
}

func (a *api) updateGroup(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		writeError(w, r, a.log, err)
		return
	}
	in, err := decodeGroupInput(w, r)
	if err != nil {
		writeError(w, r, a.log, err)
		return
	}
	g, err := a.svc.UpdateGroup(r.Context(), id, in)
	if err != nil {
		writeError(w, r, a.log, err)
		return
	}
	writeData(w, a.log, http.StatusOK, newGroupDTO(g))
}
