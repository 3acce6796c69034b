package jobs

import "math"

// Priority factors multiply the page price: low work is cheaper because it waits
// longest, urgent work costs double because it jumps every queue.
//
//	low 0.8, medium 1, high 1.5, urgent 2 (unknown priorities price as medium)
var priorityFactors = map[string]float64{
	"low":    0.8,
	"medium": 1,
	"high":   1.5,
	"urgent": 2,
}

// PriorityFactor returns the price factor of a priority (1 for unknown ones).
func PriorityFactor(priority string) float64 {
	if f, ok := priorityFactors[priority]; ok {
		return f
	}
	return 1
}

// Cost is the price of reading pages pages at pricePerPage with the given priority:
// pages x pricePerPage x PriorityFactor(priority), rounded to 6 decimals. Negative
// page counts or prices cost 0.
func Cost(pages int, pricePerPage float64, priority string) float64 {
	if pages <= 0 || pricePerPage <= 0 {
		return 0
	}
	c := float64(pages) * pricePerPage * PriorityFactor(priority)
	return math.Round(c*1e6) / 1e6
}
