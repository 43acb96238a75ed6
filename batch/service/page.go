package service

import (
	"embed"
	"io/fs"
	"net/http"
)

// pageFiles is the operator page, built into the binary: plain HTML, CSS
// and JavaScript, nothing from a CDN.
//
//go:embed page
var pageFiles embed.FS

// page serves the operator page at / and its files; any other path is a
// 404 in the contract's JSON.
func (s *Service) page() http.Handler {
	root, err := fs.Sub(pageFiles, "page")
	if err != nil {
		panic(err) // the embedded tree always has page/
	}
	files := http.FileServerFS(root)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/", "/page.js", "/page.css":
		default:
			s.writeError(w, r, failf(http.StatusNotFound, "there is nothing at %s: the page is at / and the API under /rest/", r.URL.Path))
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			err := failf(http.StatusMethodNotAllowed, "the page is read with GET")
			err.header = http.Header{"Allow": {"GET, HEAD"}}
			s.writeError(w, r, err)
			return
		}
		w.Header().Set("Cache-Control", "no-cache")
		files.ServeHTTP(w, r)
	})
}
