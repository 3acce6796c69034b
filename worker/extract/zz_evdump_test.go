package extract

import (
	"fmt"
	"os"
	"sort"
	"testing"
	"time"
)

func TestEvDump(t *testing.T) {
	b, _ := os.ReadFile(os.Getenv("EVF"))
	res, _ := Extract(FromText(string(b)), Options{Now: time.Now()})
	var keys []string
	for k := range res.Evidence {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		e := res.Evidence[k]
		fmt.Printf("%-32s p%d %v %q %s %.2f\n", k, e.Page, e.Box, e.Text, e.Source, e.Confidence)
	}
}
