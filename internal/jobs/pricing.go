package jobs

import "math"

// PriceFactors maps a job priority to the factor its page price is multiplied by. A
// priority it does not name prices at factor 1.
type PriceFactors map[string]float64

// DefaultPriceFactors returns the factors used unless configured: low work is cheaper
// because it waits longest, urgent work costs double because it jumps every queue.
//
//	low 0.8, medium 1, high 1.5, urgent 2
func DefaultPriceFactors() PriceFactors {
	return PriceFactors{"low": 0.8, "medium": 1, "high": 1.5, "urgent": 2}
}

// Factor returns the price factor of a priority (1 for one f does not name).
func (f PriceFactors) Factor(priority string) float64 {
	if v, ok := f[priority]; ok {
		return v
	}
	return 1
}

// Cost is the price of reading pages pages at pricePerPage with the given priority:
// pages x pricePerPage x f.Factor(priority), rounded to 6 decimals. Negative page
// counts or prices cost 0.
func (f PriceFactors) Cost(pages int, pricePerPage float64, priority string) float64 {
	if pages <= 0 || pricePerPage <= 0 {
		return 0
	}
	c := float64(pages) * pricePerPage * f.Factor(priority)
	return math.Round(c*1e6) / 1e6
}

// withDefaults returns DefaultPriceFactors overridden by the finite, non-negative
// factors of f.
func (f PriceFactors) withDefaults() PriceFactors {
	out := DefaultPriceFactors()
	for k, v := range f {
		if v >= 0 && !math.IsInf(v, 0) && !math.IsNaN(v) {
			out[k] = v
		}
	}
	return out
}

// PriceFactors returns a copy of the priority price factors the service uses.
func (s *Service) PriceFactors() PriceFactors {
	out := make(PriceFactors, len(s.priceFactors))
	for k, v := range s.priceFactors {
		out[k] = v
	}
	return out
}

// Cost is the price of pages pages at pricePerPage with the given priority, with the
// service's priority factors (see PriceFactors.Cost).
func (s *Service) Cost(pages int, pricePerPage float64, priority string) float64 {
	return s.priceFactors.Cost(pages, pricePerPage, priority)
}
