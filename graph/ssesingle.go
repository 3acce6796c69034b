package graph

import (
	"net/http"
)

// streamTokenHeader is the header with which graphql-sse's single connection mode names
// the stream it reserved (it may also send the token as the query parameter "token").
const streamTokenHeader = "X-GraphQL-Event-Stream-Token"

// singleConnectionUnsupported is what a client of graphql-sse's single connection mode
// is told: only the distinct connections mode is served.
const singleConnectionUnsupported = "GraphQL over SSE is served in the distinct connections mode only " +
	"(one POST with Accept: text/event-stream per operation; graphql-sse's singleConnection: false, its default); " +
	"the single connection mode (a PUT reserving a stream, then a GET and POSTs with its token) is not supported"

// refuseSingleConnection answers the requests of graphql-sse's single connection mode
// with a clear error: the reservation (PUT) with 405 and Allow, a GET or POST carrying a
// stream token with 400, both with code NOT_SUPPORTED. Without it a PUT would get
// gqlgen's "transport not supported" and a tokened GET a complaint about its missing
// query.
func refuseSingleConnection(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodPut:
			w.Header().Set("Allow", "GET, POST, OPTIONS")
			writeError(w, r, http.StatusMethodNotAllowed, "NOT_SUPPORTED", singleConnectionUnsupported)
		case r.Header.Get(streamTokenHeader) != "" || (r.Method == http.MethodGet && r.URL.Query().Has("token")):
			writeError(w, r, http.StatusBadRequest, "NOT_SUPPORTED", singleConnectionUnsupported)
		default:
			next.ServeHTTP(w, r)
		}
	})
}
