package invoice

import "time"

// Review statuses of a job's results: a person has not looked at them yet (unreviewed,
// also after a re-run), has corrected at least one value (corrected), or has approved them
// (approved). The order of a job's life is unreviewed -> corrected -> approved; a job may
// be approved without corrections, and corrected again after its approval.
const (
	ReviewUnreviewed = "unreviewed"
	ReviewCorrected  = "corrected"
	ReviewApproved   = "approved"
)

// ReviewStatuses are the review statuses, in the order of a job's life.
var ReviewStatuses = []string{ReviewUnreviewed, ReviewCorrected, ReviewApproved}

// Correction is one value of a job's extracted data changed by a person: the field path
// (see Fields), the value before and after (as encoding/json decodes it into an any:
// string, float64, bool, or nil for an unknown number or a value that did not exist,
// such as a line added), who made it (By: the API key's owner; KeyID: the key's id, empty
// when authentication is off) and when.
type Correction struct {
	Path  string    `json:"path"`
	Old   any       `json:"old"`
	New   any       `json:"new"`
	By    string    `json:"by"`
	KeyID string    `json:"keyId"`
	At    time.Time `json:"at"`
}
