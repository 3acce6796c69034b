// Package playground serves the GraphQL playground: GraphiQL with its React, style sheet
// and graphql-ws client embedded in the binary (no CDN, no web font from the internet),
// each loaded with its Subresource Integrity hash under a policy (CSP) that allows only
// this origin.
//
// The files in dist/ are the prebuilt files of the npm packages pinned by
// tools/playground/package-lock.json, copied by `make playground`; static/ holds the
// page's own script and style sheet. The page asks for an API key before its first
// request and keeps it in sessionStorage (see static/playground.js).
package playground

import (
	"bytes"
	"crypto/sha512"
	"embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"regexp"
	"strings"
	"time"
)

//go:embed dist/*.js dist/*.css static/*.js static/*.css
var files embed.FS

// AssetPrefix is the path under which the page's scripts and style sheets are served.
const AssetPrefix = "/playground/assets/"

// CSP is the Content-Security-Policy of the page, without connect-src, which names the
// request's host (see ConnectSrc): scripts and style sheets from this origin only (each
// also pinned by the integrity attribute of its tag), no inline script or style,
// images and the fonts GraphiQL's style sheet carries as data: URLs.
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src data:" +
	"; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

var hostPort = regexp.MustCompile(`^[A-Za-z0-9.-]+(:[0-9]{1,5})?$|^\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?$`)

// ConnectSrc is the connect-src directive for a page served to host: this origin, for
// the fetches and the subscription WebSocket. 'self' covers ws: and wss: of this host
// in CSP Level 3; older browsers need them named, which is done only when host is a
// plain host[:port].
func ConnectSrc(host string) string {
	d := "connect-src 'self'"
	if hostPort.MatchString(host) {
		d += " ws://" + host + " wss://" + host
	}
	return d
}

type asset struct {
	name  string // served at AssetPrefix+name
	body  []byte
	sri   string // sha384-...
	ctype string
}

// Handler serves the page (at any path it is mounted on; GET /playground) and its
// assets (GET AssetPrefix+name). endpoint is the GraphQL path, e.g. "/graphql"; the page
// derives the WebSocket URL of subscriptions from it.
type Handler struct {
	page   []byte
	assets map[string]asset
	mod    time.Time
}

// The order the page loads its scripts in: React before GraphiQL, which uses it.
var scripts = []string{"react.production.min.js", "react-dom.production.min.js", "graphql-ws.min.js", "graphiql.min.js", "playground.js"}
var styles = []string{"graphiql.min.css", "playground.css"}

var page = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>ocrinvoice GraphQL playground</title>
<link rel="icon" href="data:,">
{{range .Styles}}<link rel="stylesheet" href="{{.URL}}" integrity="{{.SRI}}">
{{end}}</head>
<body>
<header class="bar">
<span class="title">ocrinvoice GraphQL playground</span>
<span class="state" id="key-state" role="status"></span>
<button type="button" id="change-key" hidden>Change API key</button>
</header>
<form id="key-form" hidden>
<h1>API key</h1>
<p class="hint">Every request of the playground sends this key (Authorization: Bearer). It is kept in this tab only (sessionStorage) and forgotten when the tab closes. Leave it empty when the server runs without authentication.</p>
<label for="api-key">API key</label>
<input id="api-key" name="api-key" type="password" autocomplete="off" spellcheck="false">
<button type="submit">Use this key</button>
</form>
<div id="graphiql" data-endpoint="{{.Endpoint}}" hidden></div>
{{range .Scripts}}<script src="{{.URL}}" integrity="{{.SRI}}"></script>
{{end}}</body>
</html>
`))

// New builds the handler for the GraphQL endpoint path endpoint.
func New(endpoint string) (*Handler, error) {
	if !strings.HasPrefix(endpoint, "/") {
		return nil, fmt.Errorf("playground: endpoint %q is not an absolute path", endpoint)
	}
	h := &Handler{assets: map[string]asset{}, mod: time.Now()}
	err := fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := files.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha512.Sum384(body)
		ctype := "text/javascript; charset=utf-8"
		if path.Ext(p) == ".css" {
			ctype = "text/css; charset=utf-8"
		}
		name := path.Base(p)
		h.assets[name] = asset{name: name, body: body, sri: "sha384-" + base64.StdEncoding.EncodeToString(sum[:]), ctype: ctype}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("playground: read the embedded assets: %w", err)
	}
	type tag struct{ URL, SRI string }
	list := func(names []string) ([]tag, error) {
		var out []tag
		for _, n := range names {
			a, ok := h.assets[n]
			if !ok {
				return nil, fmt.Errorf("playground: asset %s is not embedded (run make playground)", n)
			}
			out = append(out, tag{AssetPrefix + n, a.sri})
		}
		return out, nil
	}
	ss, err := list(scripts)
	if err != nil {
		return nil, err
	}
	st, err := list(styles)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := page.Execute(&b, map[string]any{"Scripts": ss, "Styles": st, "Endpoint": endpoint}); err != nil {
		return nil, fmt.Errorf("playground: render the page: %w", err)
	}
	h.page = b.Bytes()
	return h, nil
}

// Page serves the HTML page under CSP plus ConnectSrc.
func (h *Handler) Page() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", CSP+"; "+ConnectSrc(r.Host))
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		http.ServeContent(w, r, "playground.html", h.mod, bytes.NewReader(h.page))
	})
}

// Assets serves the scripts and style sheets at AssetPrefix+name (a route pattern
// "GET /playground/assets/{name}"); an unknown name is 404. Their ETag is their SRI
// hash, so a browser revalidates them cheaply.
func (h *Handler) Assets() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a, ok := h.assets[strings.TrimPrefix(r.URL.Path, AssetPrefix)]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", a.ctype)
		w.Header().Set("ETag", `"`+a.sri+`"`)
		w.Header().Set("Cache-Control", "no-cache")
		http.ServeContent(w, r, a.name, h.mod, bytes.NewReader(a.body))
	})
}

// SRI returns the integrity hash of the asset name, and whether it exists.
func (h *Handler) SRI(name string) (string, bool) {
	a, ok := h.assets[name]
	return a.sri, ok
}
