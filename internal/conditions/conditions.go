// Package conditions implements Kubernetes condition semantics for the status of
// reconciled objects (job groups): a condition has a CamelCase Type and Reason, a Status
// of True, False or Unknown, a human Message, and a LastTransitionTime that moves only
// when Status changes.
package conditions

import "time"

// Status of a condition.
type Status string

// Condition statuses.
const (
	True    Status = "True"
	False   Status = "False"
	Unknown Status = "Unknown"
)

// Well-known condition types of a job group.
const (
	TypeComplete  = "Complete"
	TypeFailed    = "Failed"
	TypeSuspended = "Suspended"
	TypeProgress  = "Progressing"
)

// Condition is one observation about an object.
type Condition struct {
	Type               string    `json:"type"`
	Status             Status    `json:"status"`
	Reason             string    `json:"reason"`
	Message            string    `json:"message"`
	LastTransitionTime time.Time `json:"lastTransitionTime"`
}

// Find returns the condition of the given type, or nil.
func Find(conds []Condition, typ string) *Condition {
	for i := range conds {
		if conds[i].Type == typ {
			return &conds[i]
		}
	}
	return nil
}

// IsTrue reports whether the condition of the given type exists and is True.
func IsTrue(conds []Condition, typ string) bool {
	c := Find(conds, typ)
	return c != nil && c.Status == True
}

// Set adds or updates c in conds and returns the new slice and whether anything changed.
// LastTransitionTime is set to now when the condition is new or its Status changes, and
// kept otherwise (c.LastTransitionTime is ignored). Reason and Message are updated in
// place. The order of existing conditions is preserved; new ones are appended.
func Set(conds []Condition, c Condition, now time.Time) ([]Condition, bool) {
	if cur := Find(conds, c.Type); cur != nil {
		changed := false
		if cur.Status != c.Status {
			cur.Status = c.Status
			cur.LastTransitionTime = now.UTC()
			changed = true
		}
		if cur.Reason != c.Reason || cur.Message != c.Message {
			cur.Reason, cur.Message = c.Reason, c.Message
			changed = true
		}
		return conds, changed
	}
	c.LastTransitionTime = now.UTC()
	return append(conds, c), true
}

// Remove deletes the condition of the given type and reports whether it existed.
func Remove(conds []Condition, typ string) ([]Condition, bool) {
	for i := range conds {
		if conds[i].Type == typ {
			return append(conds[:i:i], conds[i+1:]...), true
		}
	}
	return conds, false
}
