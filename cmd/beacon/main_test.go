package main

import (
	"bytes"
	"errors"
	"flag"
	"strings"
	"testing"
)

func TestParseOptions(t *testing.T) {
	var stderr bytes.Buffer
	o, err := parseOptions([]string{"--config-dir", "/tmp/x", "execute", "Contoso", "--format", "csv"}, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	if o.configDir != "/tmp/x" || strings.Join(o.args, " ") != "execute Contoso --format csv" {
		t.Fatalf("got %+v", o)
	}
	if _, err := parseOptions([]string{"--help"}, &stderr); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("--help: %v", err)
	}
	if !strings.Contains(stderr.String(), "Usage: beacon") {
		t.Fatalf("--help printed %q", stderr.String())
	}
	if _, err := parseOptions([]string{"--no-such-flag"}, &stderr); err == nil {
		t.Fatal("an unknown flag was accepted")
	}
}
