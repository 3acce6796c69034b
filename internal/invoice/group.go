package invoice

import (
	"time"

	"github.com/ocrinvoice/ocrinvoice/internal/conditions"
)

// Group phases, in the order a batch normally goes through them.
const (
	GroupPhasePending   = "Pending"
	GroupPhaseRunning   = "Running"
	GroupPhaseComplete  = "Complete"
	GroupPhaseFailed    = "Failed"
	GroupPhaseSuspended = "Suspended"
)

// GroupSpec is the desired state of an OCR job group (a batch), shaped like a Kubernetes
// Job spec. Zero values mean "use the default" as documented per field.
type GroupSpec struct {
	// Parallelism is how many of the group's jobs may be queued or processing at once
	// (0 = no limit).
	Parallelism int `json:"parallelism"`
	// BackoffLimit is how many failed jobs the group tolerates before it is marked
	// failed (0 = none tolerated).
	BackoffLimit int `json:"backoffLimit"`
	// ActiveDeadlineSeconds bounds the group's run time from its start; nil = no bound.
	ActiveDeadlineSeconds *int64 `json:"activeDeadlineSeconds,omitempty"`
	// TTLSecondsAfterFinished deletes the finished group after this many seconds; nil = keep.
	TTLSecondsAfterFinished *int64 `json:"ttlSecondsAfterFinished,omitempty"`
	// Suspend stops the group from starting new jobs while true.
	Suspend bool `json:"suspend"`
	// Template is the template (id or name) of the group's jobs; "" = each job's own.
	Template string `json:"template,omitempty"`
	// Priority of the group's jobs ("" = each job's own).
	Priority string `json:"priority,omitempty"`
}

// GroupStatus is the observed state of a group, written by the reconciler only.
type GroupStatus struct {
	Phase     string `json:"phase"`
	Total     int    `json:"total"`
	Active    int    `json:"active"`
	Succeeded int    `json:"succeeded"`
	Failed    int    `json:"failed"`
	Cancelled int    `json:"cancelled"`
	// Progress is the percentage (0..100) of the group's jobs that have finished.
	Progress       int                    `json:"progress"`
	Conditions     []conditions.Condition `json:"conditions"`
	StartTime      *time.Time             `json:"startTime,omitempty"`
	CompletionTime *time.Time             `json:"completionTime,omitempty"`
}
