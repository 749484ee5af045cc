package service

// What a failed import says when the stored sign-in no longer works
// (revoked, expired, never made): the advice the window's sign-in report
// gives (ExplainFailure), written once here so that `beacon execute`, the
// import history of a scheduled run and its notification say the same
// (issue 22, item 5).

import (
	"errors"
	"fmt"
	"strings"

	"github.com/inventorybeacon/beacon/auth"
	"github.com/inventorybeacon/beacon/storage"
)

// GenerateCommand is the command that signs conn in again from a shell,
// with the name quoted as a shell needs it when it has spaces.
func GenerateCommand(conn storage.Connection) string {
	return fmt.Sprintf("beacon generate %q", conn.Name)
}

// nameTheCommand puts conn's own name into the advice to run `beacon
// generate NAME` (auth does not know the name), and adds that advice to a
// refused refresh whose guidance only says "Click Generate...": a
// scheduled run or `beacon execute` on a server has no window to click in.
func nameTheCommand(conn storage.Connection, err error, guidance string) string {
	cmd := "`" + GenerateCommand(conn) + "`"
	guidance = strings.ReplaceAll(guidance, "`beacon generate NAME`", cmd)
	if errors.Is(err, auth.ErrReauthRequired) && conn.Name != "" && !strings.Contains(guidance, cmd) {
		guidance += "\nTo sign in again, open the connection and click Generate..., or run " + cmd + "."
	}
	return guidance
}

// ExplainImportError returns err with the guidance of ExplainFailure as
// its text when err is a sign-in failure (Microsoft refused the token
// request, or the stored sign-in is missing or no longer valid); any other
// error is returned as it is. The result still matches err with errors.Is
// and errors.As, and explaining it twice changes nothing.
func ExplainImportError(conn storage.Connection, err error) error {
	if err == nil {
		return nil
	}
	var done *explainedError
	if errors.As(err, &done) {
		return err
	}
	var ae *auth.Error
	if !errors.As(err, &ae) && !errors.Is(err, auth.ErrReauthRequired) {
		return err
	}
	tenant := ""
	if conn.Token != nil {
		tenant = conn.Token.TenantID
	}
	f := ExplainFailure(conn, err, tenant)
	text := f.Guidance
	if f.ConsentURL != "" && !strings.Contains(text, f.ConsentURL) {
		text += "\nAdmin-consent link: " + f.ConsentURL
	}
	return &explainedError{text: text, err: err}
}

// explainedError is an error shown as its guidance.
type explainedError struct {
	text string
	err  error
}

func (e *explainedError) Error() string { return e.text }
func (e *explainedError) Unwrap() error { return e.err }
