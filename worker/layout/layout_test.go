package layout

import (
	"math"
	"testing"
)

func TestClamp01(t *testing.T) {
	for in, want := range map[float64]float64{-0.5: 0, 0: 0, 0.25: 0.25, 1: 1, 1.5: 1, math.Inf(1): 1, math.Inf(-1): 0} {
		if got := Clamp01(in); got != want {
			t.Errorf("Clamp01(%v) = %v, want %v", in, got, want)
		}
	}
	if got := Clamp01(math.NaN()); !math.IsNaN(got) {
		t.Errorf("Clamp01(NaN) = %v, want NaN", got)
	}
}
