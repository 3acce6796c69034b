package conditions

import (
	"testing"
	"time"
)

func TestSet(t *testing.T) {
	t0 := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	t1 := t0.Add(time.Minute)
	base := []Condition{{Type: TypeComplete, Status: False, Reason: "Running", Message: "1 of 2", LastTransitionTime: t0}}
	tests := []struct {
		name        string
		in          Condition
		wantChanged bool
		wantTime    time.Time
		wantLen     int
	}{
		{"same status new message keeps time", Condition{Type: TypeComplete, Status: False, Reason: "Running", Message: "2 of 3"}, true, t0, 1},
		{"identical is no change", Condition{Type: TypeComplete, Status: False, Reason: "Running", Message: "1 of 2"}, false, t0, 1},
		{"status flip moves time", Condition{Type: TypeComplete, Status: True, Reason: "AllSucceeded"}, true, t1, 1},
		{"new type appended", Condition{Type: TypeFailed, Status: False, Reason: "NoFailures"}, true, t1, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conds := append([]Condition(nil), base...)
			got, changed := Set(conds, tt.in, t1)
			if changed != tt.wantChanged {
				t.Errorf("changed = %v, want %v", changed, tt.wantChanged)
			}
			if len(got) != tt.wantLen {
				t.Fatalf("len = %d, want %d", len(got), tt.wantLen)
			}
			c := Find(got, tt.in.Type)
			if c == nil || !c.LastTransitionTime.Equal(tt.wantTime) {
				t.Errorf("condition = %+v, want LastTransitionTime %v", c, tt.wantTime)
			}
			if c.Status != tt.in.Status || c.Message != tt.in.Message {
				t.Errorf("condition = %+v, want status %s message %q", c, tt.in.Status, tt.in.Message)
			}
		})
	}
}

func TestRemoveAndIsTrue(t *testing.T) {
	conds := []Condition{{Type: TypeComplete, Status: True}, {Type: TypeFailed, Status: False}}
	if !IsTrue(conds, TypeComplete) || IsTrue(conds, TypeFailed) || IsTrue(conds, TypeSuspended) {
		t.Fatal("IsTrue wrong")
	}
	out, ok := Remove(conds, TypeComplete)
	if !ok || len(out) != 1 || out[0].Type != TypeFailed {
		t.Fatalf("Remove = %+v, %v", out, ok)
	}
	if _, ok := Remove(out, "Nope"); ok {
		t.Fatal("Remove of a missing type reported true")
	}
}
