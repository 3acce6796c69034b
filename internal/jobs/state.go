package jobs

import (
	"fmt"
	"slices"

	"github.com/ocrinvoice/ocrinvoice/ent/ocrinvoicejob"
)

// op names an operation of the service that changes a job's status; the table below
// says which moves each may make. The names are those of the FailedPrecondition
// messages ("cannot retry a job that is completed").
type op string

const (
	opEnqueue  op = "enqueue"            // the task goes on the queue: created -> queued (-> created when that fails)
	opStart    op = "start"              // a task starts its run
	opProgress op = "report progress of" // a run reports progress
	opComplete op = "complete"           // a run stores its results
	opFail     op = "fail"               // a run failed: for good, or to be retried by asynq
	opLose     op = "requeue"            // the run's worker stopped heart-beating (LoseRun)
	opCancel   op = "cancel"             // the API (or the group's runner) cancels the job
	opRetry    op = "retry"              // the API runs a failed or cancelled job again
	opUpdate   op = "update"             // a PUT that re-runs the job or moves its task
)

// edge is one move of the state machine and the operations that may make it.
type edge struct {
	from, to ocrinvoicejob.Status
	by       []op
}

// transitions is the job state machine, the one table every status change of the
// service is checked against (allows) and conditioned on (sourcesOf):
//
//	created    -> queued | processing | cancelled
//	queued     -> processing | cancelled | created (a PUT that changes the priority: its task
//	              moves; or the enqueue that marked it queued failed)
//	processing -> processing | completed | failed | cancelled | queued (a retryable failure, or a lost worker)
//	failed     -> created -> queued (retry, or a PUT that changes the document)
//	cancelled  -> created -> queued (retry, or a PUT that changes the document)
//	completed  -> created -> queued (a PUT that changes the document)
//
// A retry or re-run passes through "created" so that a job whose enqueue fails (Redis
// down) is left in the same state as a new job, for the reconciler to pick up.
//
// processing -> processing is a real transition: a task delivered again while its job
// is processing (its worker died or shut down mid-run, and asynq redelivered the task)
// starts the run afresh (StartRun: startedAt reset, the interrupted attempt closed, a
// new one opened); and a run's progress writes keep the job processing, allowed exactly
// while it is.
var transitions = []edge{
	{ocrinvoicejob.StatusCreated, ocrinvoicejob.StatusQueued, []op{opEnqueue}},
	{ocrinvoicejob.StatusCreated, ocrinvoicejob.StatusProcessing, []op{opStart}},
	{ocrinvoicejob.StatusCreated, ocrinvoicejob.StatusCancelled, []op{opCancel}},
	{ocrinvoicejob.StatusQueued, ocrinvoicejob.StatusProcessing, []op{opStart}},
	{ocrinvoicejob.StatusQueued, ocrinvoicejob.StatusCancelled, []op{opCancel}},
	{ocrinvoicejob.StatusQueued, ocrinvoicejob.StatusCreated, []op{opUpdate, opEnqueue}},
	{ocrinvoicejob.StatusProcessing, ocrinvoicejob.StatusProcessing, []op{opStart, opProgress}},
	{ocrinvoicejob.StatusProcessing, ocrinvoicejob.StatusCompleted, []op{opComplete}},
	{ocrinvoicejob.StatusProcessing, ocrinvoicejob.StatusFailed, []op{opFail, opLose}},
	{ocrinvoicejob.StatusProcessing, ocrinvoicejob.StatusCancelled, []op{opCancel}},
	{ocrinvoicejob.StatusProcessing, ocrinvoicejob.StatusQueued, []op{opFail, opLose}},
	{ocrinvoicejob.StatusFailed, ocrinvoicejob.StatusCreated, []op{opRetry, opUpdate}},
	{ocrinvoicejob.StatusCancelled, ocrinvoicejob.StatusCreated, []op{opRetry, opUpdate}},
	{ocrinvoicejob.StatusCompleted, ocrinvoicejob.StatusCreated, []op{opUpdate}},
}

// CanTransition reports whether the state machine allows from -> to.
func CanTransition(from, to ocrinvoicejob.Status) bool {
	return slices.ContainsFunc(transitions, func(e edge) bool { return e.from == from && e.to == to })
}

// allows reports whether operation o may move a job from -> to.
func allows(o op, from, to ocrinvoicejob.Status) bool {
	return slices.ContainsFunc(transitions, func(e edge) bool {
		return e.from == from && e.to == to && slices.Contains(e.by, o)
	})
}

// sourcesOf returns every status from which operation o may move a job to to, in the
// order of Statuses: the WHERE of the conditional UPDATE that makes the move.
func sourcesOf(o op, to ocrinvoicejob.Status) []ocrinvoicejob.Status {
	var out []ocrinvoicejob.Status
	for _, from := range Statuses {
		if allows(o, ocrinvoicejob.Status(from), to) {
			out = append(out, ocrinvoicejob.Status(from))
		}
	}
	return out
}

// mustAllow panics unless the table lets o move a job from -> to: for the moves whose
// source the code names itself (a programming error, which the tests of every pair
// catch).
func mustAllow(o op, from, to ocrinvoicejob.Status) ocrinvoicejob.Status {
	if !allows(o, from, to) {
		panic(fmt.Sprintf("jobs: the state machine does not let %s move a job from %s to %s", o, from, to))
	}
	return from
}

// holdsRun reports whether a job in status st still belongs to its run: the run may
// write progress and end it (complete, fail) only from such a status (processing).
func holdsRun(st ocrinvoicejob.Status) bool {
	return allows(opProgress, st, ocrinvoicejob.StatusProcessing) && allows(opComplete, st, ocrinvoicejob.StatusCompleted)
}

// IsRunning reports whether a job in status st belongs to a run (it is processing): a
// run's writes, or a cancel, move it on.
func IsRunning(st ocrinvoicejob.Status) bool { return holdsRun(st) }

// IsTerminal reports whether a job in status st is finished (completed, failed or
// cancelled).
func IsTerminal(st ocrinvoicejob.Status) bool {
	return st == ocrinvoicejob.StatusCompleted || st == ocrinvoicejob.StatusFailed || st == ocrinvoicejob.StatusCancelled
}
