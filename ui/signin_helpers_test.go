package ui

import (
	"net"
	"net/http"
	"strconv"
	"testing"
	"time"
)

type urlGetter struct{}

func (urlGetter) get(u string) (*http.Response, error) {
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(u)
	if err == nil {
		resp.Body.Close()
	}
	return resp, err
}

func listenAny(t *testing.T) (net.Listener, string) {
	t.Helper()
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return l, strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}
