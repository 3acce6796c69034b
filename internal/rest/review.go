package rest

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/ocrinvoice/ocrinvoice/ent"
	"github.com/ocrinvoice/ocrinvoice/internal/apperr"
	"github.com/ocrinvoice/ocrinvoice/internal/jobs"
)

// correctJob applies a JSON Merge Patch (RFC 7396) on the extractedData shape to a
// completed job: Content-Type application/merge-patch+json (or application/json), the
// version the client read as If-Match: "<dataVersion>" or ?version=N (optional). The
// answer is the job, with its new version as the ETag.
func (a *api) correctJob(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	version, err := ifVersion(r)
	if err != nil {
		return err
	}
	_, patch, err := readObjectBytes(w, r, jobs.MaxPatchBytes)
	if err != nil {
		return err
	}
	j, err := a.svc.CorrectJob(r.Context(), id, jobs.CorrectInput{Patch: patch, IfVersion: version})
	if err != nil {
		return err
	}
	writeVersioned(w, a, j)
	return nil
}

// approveJob approves a completed job's data; If-Match or ?version as for correctJob.
func (a *api) approveJob(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	version, err := ifVersion(r)
	if err != nil {
		return err
	}
	j, err := a.svc.ApproveJob(r.Context(), id, version)
	if err != nil {
		return err
	}
	writeVersioned(w, a, j)
	return nil
}

// writeVersioned answers job j with its data version as the ETag.
func writeVersioned(w http.ResponseWriter, a *api, j *ent.OcrInvoiceJob) {
	w.Header().Set("ETag", strconv.Quote(strconv.Itoa(j.DataVersion)))
	writeData(w, a.log, http.StatusOK, newJobDTO(j))
}

// ifVersion reads the data version a review names: the If-Match header ("<n>", or *
// for any) or the version query parameter; nil when neither is given. Both given must
// agree. Anything else (another parameter, a version that is not a non-negative whole
// number, several entity tags) is a 400 naming it.
func ifVersion(r *http.Request) (*int, error) {
	q := r.URL.Query()
	for k := range q {
		if k != "version" {
			return nil, apperr.Invalid("unknown query parameter "+apperr.Quote(k)+": the only one is version",
				apperr.Detail{Field: k, Message: "unknown parameter"})
		}
	}
	var fromQuery, fromHeader *int
	if vs, ok := q["version"]; ok {
		if len(vs) != 1 {
			return nil, apperr.InvalidField("version", "give it once")
		}
		n, err := strconv.Atoi(vs[0])
		if err != nil || n < 0 {
			return nil, apperr.InvalidField("version", "must be a non-negative whole number (the job's dataVersion)")
		}
		fromQuery = &n
	}
	if hs := r.Header.Values("If-Match"); len(hs) > 0 {
		tag := strings.TrimSpace(strings.Join(hs, ","))
		if tag != "*" {
			s, err := strconv.Unquote(tag)
			n, nerr := strconv.Atoi(s)
			if err != nil || !strings.HasPrefix(tag, `"`) || nerr != nil || n < 0 {
				return nil, apperr.InvalidField("If-Match", `must be one entity tag "<dataVersion>" as the ETag gave it, or *`)
			}
			fromHeader = &n
		}
	}
	if fromQuery != nil && fromHeader != nil && *fromQuery != *fromHeader {
		return nil, apperr.Invalid("If-Match and version name different versions",
			apperr.Detail{Field: "version", Message: "differs from If-Match"})
	}
	if fromHeader != nil {
		return fromHeader, nil
	}
	return fromQuery, nil
}
