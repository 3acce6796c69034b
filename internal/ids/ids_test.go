package ids

import (
	"sort"
	"sync"
	"testing"
	"time"
)

func TestValid(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want bool
	}{
		{"new id", New(), true},
		{"contract example", "60f7b1b3e4b0e8b3f8b3f8b3", true},
		{"empty", "", false},
		{"too short", "60f7b1b3e4b0e8b3f8b3f8b", false},
		{"too long", "60f7b1b3e4b0e8b3f8b3f8b3a", false},
		{"uppercase", "60F7B1B3E4B0E8B3F8B3F8B3", false},
		{"not hex", "60f7b1b3e4b0e8b3f8b3f8bz", false},
		{"unicode", "60f7b1b3e4b0e8b3f8b3f8é", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Valid(tt.in); got != tt.want {
				t.Errorf("Valid(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestNewIsUniqueAndOrdered(t *testing.T) {
	const n = 20000
	var (
		mu   sync.Mutex
		seen = make(map[string]bool, n)
		wg   sync.WaitGroup
	)
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < n/4; i++ {
				id := New()
				mu.Lock()
				if seen[id] {
					t.Errorf("duplicate id %s", id)
				}
				seen[id] = true
				mu.Unlock()
			}
		}()
	}
	wg.Wait()

	// Ids made in later seconds sort after ids made earlier.
	base := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	var got []string
	for i := 0; i < 10; i++ {
		got = append(got, newAt(base.Add(time.Duration(i)*time.Second)))
	}
	if !sort.StringsAreSorted(got) {
		t.Errorf("ids of increasing times are not sorted: %v", got)
	}
	if tm := Time(got[3]); !tm.Equal(base.Add(3 * time.Second)) {
		t.Errorf("Time() = %v, want %v", tm, base.Add(3*time.Second))
	}
	if tm := Time("nope"); !tm.IsZero() {
		t.Errorf("Time(invalid) = %v, want zero", tm)
	}
}

func BenchmarkNew(b *testing.B) {
	for b.Loop() {
		_ = New()
	}
}
