package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// The standalone simulator prints its endpoints and accounts, serves, and
// stops when its context ends (SIGINT/SIGTERM in main).
func TestRunPrintsEndpointsAndStops(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"--users", "80", "--seed", "2", "--tls"}, pw); pw.Close() }()
	sc := bufio.NewScanner(pr)
	var out []string
	graph := ""
	for sc.Scan() {
		line := sc.Text()
		out = append(out, line)
		if strings.Contains(line, "Graph endpoint:") {
			graph = strings.Fields(strings.SplitN(line, "Graph endpoint:", 2)[1])[0]
		}
		if strings.HasPrefix(line, "Press Ctrl+C") {
			break
		}
	}
	text := strings.Join(out, "\n")
	for _, want := range []string{"80 users", "Token endpoint:", "CA certificate (trust it):", "admin@", "Sim-Admin-2024!",
		"cloudadmin@", "reader@", "user@", "5bb1a5a2-0d97-4335-9448-119f7b27aff9", "Client credentials:"} {
		if !strings.Contains(text, want) {
			t.Errorf("banner lacks %q:\n%s", want, text)
		}
	}
	if !strings.HasPrefix(graph, "https://127.0.0.1:") {
		t.Fatalf("graph endpoint %q", graph)
	}
	go io.Copy(io.Discard, pr)
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("run did not stop after its context ended")
	}
	// Any answer, even a TLS handshake, means it is still listening.
	insecure := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	if _, err := insecure.Get(graph + "/v1.0/users"); err == nil || !strings.Contains(err.Error(), "refused") {
		t.Errorf("still serving after shutdown: %v", err)
	}
}

func TestRunRejectsBadFlags(t *testing.T) {
	for _, args := range [][]string{{"--faults", "boom"}, {"--fault-rate", "2"}, {"--addr", "0.0.0.0:0"}} {
		if err := run(context.Background(), args, io.Discard); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
}
