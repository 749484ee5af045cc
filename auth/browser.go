package auth

import (
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/pkg/browser"
)

func init() {
	// pkg/browser copies the launcher's output to ours by default; a
	// browser's chatter has no place in the CLI's output or the logs.
	browser.Stdout = io.Discard
	browser.Stderr = io.Discard
}

// browserWait bounds how long OpenBrowser waits for the platform opener
// (xdg-open, open, rundll32) to report failure. Some openers only return
// once the browser exits; after this long we take silence as success.
var browserWait = 3 * time.Second

// OpenBrowser starts the user's web browser on rawURL without waiting for
// the browser. $BROWSER is honoured first (a command, or a colon-separated
// list of commands as the convention allows; "%s" is replaced by the URL,
// otherwise the URL is the last argument); then the platform's opener.
//
// Only http and https URLs are opened: the URL ends up as a command
// argument, and a file: or javascript: URL must never reach a browser
// through us. ErrNoBrowser (wrapped) means nothing opened: show the URL.
func OpenBrowser(rawURL string) error {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("refusing to open %q in a browser: only http and https addresses are opened", rawURL)
	}
	if env := strings.TrimSpace(os.Getenv("BROWSER")); env != "" {
		var errs []error
		for _, entry := range strings.Split(env, string(os.PathListSeparator)) {
			if err := startBrowserCommand(entry, u.String()); err != nil {
				errs = append(errs, err)
				continue
			}
			return nil
		}
		// $BROWSER is what the user asked for; falling back silently to
		// another browser would surprise them, but so would no browser at
		// all. Fall back, and say why if that fails too.
		if err := openPlatform(u.String()); err == nil {
			return nil
		}
		return fmt.Errorf("%w ($BROWSER failed: %v)", ErrNoBrowser, errors.Join(errs...))
	}
	if err := openPlatform(u.String()); err != nil {
		return fmt.Errorf("%w (%v)", ErrNoBrowser, err)
	}
	return nil
}

func startBrowserCommand(entry, target string) error {
	fields := strings.Fields(entry)
	if len(fields) == 0 {
		return errors.New("empty $BROWSER entry")
	}
	args := fields[1:]
	substituted := false
	for i, a := range args {
		if strings.Contains(a, "%s") {
			args[i] = strings.ReplaceAll(a, "%s", target)
			substituted = true
		}
	}
	if !substituted {
		args = append(args, target)
	}
	cmd := exec.Command(fields[0], args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = nil, nil, nil
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", fields[0], err)
	}
	// Reap it whenever it ends; the flow never waits for the browser.
	go func() { _ = cmd.Wait() }()
	return nil
}

func openPlatform(target string) error {
	done := make(chan error, 1)
	go func() { done <- browser.OpenURL(target) }()
	select {
	case err := <-done:
		return err
	case <-time.After(browserWait):
		return nil
	}
}
