package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/inventorybeacon/beacon/auth"
	"github.com/inventorybeacon/beacon/service"
	"github.com/inventorybeacon/beacon/storage"
)

func init() {
	Register(Command{
		Name:    "generate",
		Summary: "sign in to Microsoft 365 for a connection and store its refresh token in the keyring",
		Usage:   "NAME [--device-code] [--no-browser] [--timeout D]",
		Run:     runGenerate,
	})
}

// generateKeyring is the keyring the command uses; tests may point it
// elsewhere (a locked keyring) without touching the user's.
var generateKeyring = func() storage.Secrets {
	return storage.NewKeyring(storage.KeyringService, storage.DefaultKeyringTimeout)
}

func runGenerate(ctx context.Context, env *Env, args []string) int {
	c, _ := Lookup("generate")
	fs := NewFlagSet(env, c)
	deviceCode := fs.Bool("device-code", false, "sign in with a code on another device instead of a browser on this one (for servers without a desktop)")
	noBrowser := fs.Bool("no-browser", false, "print the sign-in address but do not start a browser")
	timeout := fs.Duration("timeout", auth.DefaultTimeout, "how long to wait for the sign-in to finish")
	// The flag package stops at the first non-flag; accept flags after
	// NAME too, as people type them.
	var names []string
	for {
		if code, ok := ParseFlags(fs, args); !ok {
			return code
		}
		if fs.NArg() == 0 {
			break
		}
		names = append(names, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(names) != 1 {
		fmt.Fprintln(env.Stderr, "beacon generate: give exactly one connection name (quote a name with spaces)")
		fs.Usage()
		return ExitUsage
	}
	if *timeout <= 0 {
		fmt.Fprintln(env.Stderr, "beacon generate: --timeout must be positive, e.g. 5m")
		return ExitUsage
	}
	name := strings.TrimSpace(names[0])

	store := storage.NewConfigStore(env.ConfigDir)
	cfg, err := store.Load()
	if err != nil {
		fmt.Fprintf(env.Stderr, "beacon generate: %v\n", err)
		return ExitFailed
	}
	var conn *storage.Connection
	for i := range cfg.Connections {
		if strings.EqualFold(cfg.Connections[i].Name, name) {
			conn = &cfg.Connections[i]
		}
	}
	if conn == nil {
		fmt.Fprintf(env.Stderr, "beacon generate: no connection named %q; `beacon list` shows the connections\n", name)
		return ExitFailed
	}
	if conn.AuthFlow == storage.FlowClientCredentials {
		fmt.Fprintf(env.Stderr, "beacon generate: connection %q uses Client Credentials, which signs in with its client secret; there is no token to generate\n", conn.Name)
		return ExitUsage
	}
	secrets := generateKeyring()
	opts := service.SignInOptions{Secrets: secrets, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	lines := newLineReader(env.Stdin)

	wctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	var res *service.SignInResult
	if *deviceCode {
		res, err = generateDeviceCode(wctx, env, *conn, opts)
	} else {
		res, err = generateBrowser(wctx, env, *conn, opts, lines, *noBrowser, *timeout)
	}
	if err != nil {
		fmt.Fprintf(env.Stderr, "beacon generate: %s\n", service.ExplainFailure(*conn, err, "").Guidance)
		return ExitFailed
	}

	// The keyring may be locked; the sign-in is kept in memory while the
	// administrator unlocks it, instead of making them sign in again.
	for {
		_, err := service.StoreSignIn(conn.ID, res.RefreshToken(), res.Info, secrets, store)
		if err == nil {
			break
		}
		fmt.Fprintf(env.Stderr, "beacon generate: %v\nPress Enter to try again, or end the input (Ctrl-D) to give up.\n", err)
		if _, ok := lines.next(ctx); !ok {
			fmt.Fprintln(env.Stderr, "beacon generate: gave up; the sign-in was discarded and the previous token (if any) is unchanged")
			return ExitFailed
		}
	}
	info := res.Info
	fmt.Fprintf(env.Stdout, "Token stored for connection %q: obtained %s for %s", conn.Name, info.ObtainedAt.Local().Format("2006-01-02 15:04"), orUnknown(info.Account))
	if info.TenantID != "" {
		fmt.Fprintf(env.Stdout, " (tenant %s)", info.TenantID)
	}
	fmt.Fprintln(env.Stdout, ".")
	return ExitOK
}

func orUnknown(s string) string {
	if s == "" {
		return "an unknown account"
	}
	return s
}

func generateBrowser(ctx context.Context, env *Env, conn storage.Connection, opts service.SignInOptions, lines *lineReader, noBrowser bool, timeout time.Duration) (*service.SignInResult, error) {
	flow, err := service.StartSignIn(conn, opts)
	if err != nil {
		return nil, err
	}
	defer flow.Close()
	fmt.Fprintf(env.Stdout, "To sign in, open this address in a browser:\n\n  %s\n\n", flow.AuthURL())
	if !noBrowser {
		if err := service.OpenBrowser(flow.AuthURL()); err != nil {
			fmt.Fprintln(env.Stdout, "(No browser could be started here: copy the address above into a browser.)")
		}
	}
	if !flow.NeedsPaste() {
		fmt.Fprintf(env.Stdout, "Waiting up to %s for the sign-in to finish in the browser...\n", timeout)
		return flow.Wait(ctx)
	}
	fmt.Fprintln(env.Stdout, "After you click Accept, the browser shows a blank page. Copy its whole address from the address bar, paste it here and press Enter:")
	for attempt := 0; ; attempt++ {
		line, ok := lines.next(ctx)
		if !ok {
			if ctx.Err() != nil {
				if errors.Is(ctx.Err(), context.DeadlineExceeded) {
					return nil, fmt.Errorf("%w: no address was pasted within %s", service.ErrSignInTimedOut, timeout)
				}
				return nil, service.ErrSignInCancelled
			}
			return nil, errors.New("the input ended before an address was pasted")
		}
		if strings.TrimSpace(line) == "" {
			continue
		}
		res, err := flow.CompleteFromPaste(ctx, line)
		// Only a paste without any code is worth another try; a wrong
		// state or Microsoft's error ends the sign-in.
		if errors.Is(err, service.ErrNoCode) && attempt < 3 {
			fmt.Fprintf(env.Stderr, "%v\nPaste the address again:\n", err)
			continue
		}
		return res, err
	}
}

func generateDeviceCode(ctx context.Context, env *Env, conn storage.Connection, opts service.SignInOptions) (*service.SignInResult, error) {
	d, err := service.StartDeviceCode(ctx, conn, opts)
	if err != nil {
		return nil, err
	}
	if d.Message != "" {
		fmt.Fprintln(env.Stdout, d.Message)
	} else {
		fmt.Fprintf(env.Stdout, "To sign in, open %s on any device and enter the code %s\n", d.VerificationURI, d.UserCode)
	}
	fmt.Fprintln(env.Stdout, "Waiting for the sign-in to finish...")
	return d.Wait(ctx)
}

// lineReader reads stdin lines on its own goroutine so that waiting for a
// line can end with the context (Ctrl-C, time-out).
type lineReader struct {
	lines chan string
}

func newLineReader(r io.Reader) *lineReader {
	lr := &lineReader{lines: make(chan string)}
	go func() {
		defer close(lr.lines)
		if r == nil {
			return
		}
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			lr.lines <- sc.Text()
		}
	}()
	return lr
}

func (lr *lineReader) next(ctx context.Context) (string, bool) {
	select {
	case l, ok := <-lr.lines:
		return l, ok
	case <-ctx.Done():
		return "", false
	}
}
