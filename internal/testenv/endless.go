package testenv

import (
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"time"
)

// WriteEndless answers r with a JSON body that starts with prefix and
// never ends for the client (a string that never closes), counting the
// bytes sent into sent: the answer of a proxy's page or a server gone
// wrong that a bounded read must refuse. The gigabyte bound only ends the
// handler if a client read on without limit, and the write deadline if
// one stopped reading without closing the connection.
func WriteEndless(w http.ResponseWriter, r *http.Request, prefix string, sent *atomic.Int64) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, prefix)
	chunk := []byte(strings.Repeat("a", 32<<10))
	rc := http.NewResponseController(w)
	for n := 0; n < 1<<30 && r.Context().Err() == nil; n += len(chunk) {
		_ = rc.SetWriteDeadline(time.Now().Add(30 * time.Second))
		if _, err := w.Write(chunk); err != nil {
			return
		}
		sent.Add(int64(len(chunk)))
	}
}
