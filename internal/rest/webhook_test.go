package rest

import (
	"net/http"
	"testing"

	"github.com/ocrinvoice/ocrinvoice/ent"
	"github.com/ocrinvoice/ocrinvoice/internal/database/databasetest"
)

// TestCallbackURL: jobs and groups accept a callbackUrl on POST and PUT, return it (null
// when none), and a PUT without it clears it (PUT semantics). Bad values are in
// TestBadInput.
func TestCallbackURL(t *testing.T) {
	databasetest.Each(t, func(t *testing.T, c *ent.Client) {
		e := newEnv(t, c, nil)
		const hook = "https://hooks.example.com/ocr?token=abc"
		j := e.createJob("HOOK-1", map[string]any{"callbackUrl": hook})
		id := j["_id"].(string)
		if j["callbackUrl"] != hook {
			t.Errorf("created job callbackUrl = %v, want %q", j["callbackUrl"], hook)
		}
		if g := e.do("GET", "/api/v1/ocr-invoice-jobs/"+id, nil).must(t, http.StatusOK).data(); g["callbackUrl"] != hook {
			t.Errorf("GET callbackUrl = %v", g["callbackUrl"])
		}
		u := e.do("PUT", "/api/v1/ocr-invoice-jobs/"+id, e.jobBodyFor("HOOK-1", map[string]any{"callbackUrl": "http://hooks.example.com/2"})).
			must(t, http.StatusOK).data()
		if u["callbackUrl"] != "http://hooks.example.com/2" {
			t.Errorf("PUT callbackUrl = %v", u["callbackUrl"])
		}
		u = e.do("PUT", "/api/v1/ocr-invoice-jobs/"+id, e.jobBodyFor("HOOK-1", map[string]any{"callbackUrl": nil})).must(t, http.StatusOK).data()
		if v, ok := u["callbackUrl"]; !ok || v != nil {
			t.Errorf("PUT with callbackUrl null: callbackUrl = %v (present %v), want null", v, ok)
		}
		if other := e.createJob("HOOK-2", nil); other["callbackUrl"] != nil {
			t.Errorf("job without callbackUrl returns %v, want null", other["callbackUrl"])
		}

		g := e.do("POST", "/api/v1/ocr-job-groups", map[string]any{"name": "hooked", "callbackUrl": hook}).must(t, http.StatusCreated).data()
		if g["callbackUrl"] != hook {
			t.Errorf("group callbackUrl = %v", g["callbackUrl"])
		}
		gid := g["_id"].(string)
		g = e.do("PUT", "/api/v1/ocr-job-groups/"+gid, map[string]any{"name": "hooked"}).must(t, http.StatusOK).data()
		if v, ok := g["callbackUrl"]; !ok || v != nil {
			t.Errorf("group PUT without callbackUrl: %v (present %v), want null", v, ok)
		}
	})
}
