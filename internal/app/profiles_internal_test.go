package app

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/ocrinvoice/ocrinvoice/internal/invoice"
	"github.com/ocrinvoice/ocrinvoice/internal/jobs"
)

// page is a document type of the test, as worker/layout's Document is of the real one.
type page struct {
	Words []string `json:"words"`
}

func decodePage(b []byte) (*page, error) {
	var p page
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// learnPage learns the supplier's tax id and the first word of the page as its rule.
func learnPage(ld *page, truth, _ invoice.ExtractedData, prev []byte, _ *invoice.ProfileUse) (invoice.SupplierKeys, []byte, error) {
	if len(ld.Words) == 0 {
		return invoice.SupplierKeys{}, nil, errors.New("empty page")
	}
	rules, err := json.Marshal(map[string]any{"label": ld.Words[0], "prev": json.RawMessage(append([]byte(nil), orNull(prev)...))})
	return invoice.SupplierKeys{TaxID: truth.Invoice.Supplier.TaxID}, rules, err
}

func orNull(b []byte) []byte {
	if len(b) == 0 {
		return []byte("null")
	}
	return b
}

// TestLearnerOf: the adapter decodes the stored layout and hands the learner the job's
// truth and the previous rules; a layout that does not decode is an error naming it.
func TestLearnerOf(t *testing.T) {
	l := learnerOf(decodePage, learnPage)
	truth := invoice.ExtractedData{Invoice: invoice.Invoice{Supplier: invoice.Supplier{TaxID: "DE9"}}}
	keys, rules, err := l(context.Background(), jobs.LearnInput{Layout: []byte(`{"words":["Invoice No"]}`), Truth: truth, Prev: []byte(`{"label":"Nr"}`)})
	if err != nil || keys.TaxID != "DE9" || string(rules) != `{"label":"Invoice No","prev":{"label":"Nr"}}` {
		t.Fatalf("learn: %+v %s %v", keys, rules, err)
	}
	if _, _, err := l(context.Background(), jobs.LearnInput{Layout: []byte("\x1f\x8b garbage")}); err == nil || !strings.Contains(err.Error(), "layout") {
		t.Errorf("corrupt layout: %v, want an error naming the layout", err)
	}
	if _, _, err := l(context.Background(), jobs.LearnInput{Layout: []byte(`{"words":[]}`)}); err == nil || !strings.Contains(err.Error(), "empty page") {
		t.Errorf("learner error: %v, want it passed on", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := l(ctx, jobs.LearnInput{Layout: []byte(`{"words":["x"]}`)}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}
