package config

import (
	"strings"
	"testing"
	"time"
)

// TestRetentionDocuments: OCRINVOICE_RETENTION_DOCUMENTS takes days or Go units, 0 or
// empty keeps documents forever, and anything else is refused naming the setting.
func TestRetentionDocuments(t *testing.T) {
	for _, tc := range []struct {
		v    string
		want time.Duration
		bad  bool
	}{
		{v: "", want: 0},
		{v: "0", want: 0},
		{v: "90d", want: 90 * 24 * time.Hour},
		{v: "1.5d", want: 36 * time.Hour},
		{v: "36h", want: 36 * time.Hour},
		{v: "-1d", bad: true},
		{v: "90 days", bad: true},
		{v: "d", bad: true},
		{v: "NaNd", bad: true},
		{v: "500ms", bad: true},
	} {
		t.Run(tc.v, func(t *testing.T) {
			c, err := LoadCommand(CmdWorker, nil, env(map[string]string{"OCRINVOICE_RETENTION_DOCUMENTS": tc.v}))
			if tc.bad {
				if err == nil || !strings.Contains(err.Error(), "OCRINVOICE_RETENTION_DOCUMENTS") {
					t.Fatalf("%q: err %v, want one naming the setting", tc.v, err)
				}
				return
			}
			if err != nil || c.RetentionDocuments != tc.want {
				t.Fatalf("%q: %v %v, want %v", tc.v, c.RetentionDocuments, err, tc.want)
			}
		})
	}
	// The flag means the same.
	c, err := LoadCommand(CmdAll, []string{"--retention-documents", "30d"}, env(nil))
	if err != nil || c.RetentionDocuments != 30*24*time.Hour {
		t.Fatalf("flag: %v %v", c.RetentionDocuments, err)
	}
}
