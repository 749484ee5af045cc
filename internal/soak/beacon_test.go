//go:build linux

package soak

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/inventorybeacon/beacon/internal/pgtest"
	"github.com/inventorybeacon/beacon/internal/testenv"
	"github.com/inventorybeacon/beacon/m365sim"
	"github.com/inventorybeacon/beacon/storage"
)

// built is a program this test process builds once, when the soak script
// has not built it already (the build cache makes it quick after `make
// build`).
type built struct {
	env, name, pkg string   // $env overrides; go build -o name pkg
	tags           []string // build flags before -o
	once           sync.Once
	dir, path      string
	err            error
}

var (
	beaconBuild = &built{env: "BEACON_SOAK_BIN", name: "beacon", pkg: "./cmd/beacon", tags: []string{"-tags", "migrated_fynedo"}}
	simBuild    = &built{env: "BEACON_SOAK_SIM_BIN", name: "m365sim", pkg: "./cmd/m365sim"}
	proxyBuild  = &built{env: "BEACON_SOAK_PROXY_BIN", name: "faultproxy", pkg: "./cmd/internal/faultproxy"}
	builds      = []*built{beaconBuild, simBuild, proxyBuild}
)

func (b *built) binary(t *testing.T) string {
	t.Helper()
	if p := os.Getenv(b.env); p != "" {
		return p
	}
	b.once.Do(func() {
		if b.dir, b.err = os.MkdirTemp("", "beacon-soak-"+b.name+"-"); b.err != nil {
			return
		}
		b.path = filepath.Join(b.dir, b.name)
		root, _ := filepath.Abs("../..")
		cmd := exec.Command("go", append(append([]string{"build"}, b.tags...), "-o", b.path, b.pkg)...)
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			b.err = fmt.Errorf("%v\n%s", err, out)
		}
	})
	if b.err != nil {
		t.Fatalf("go build %s: %v", b.pkg, b.err)
	}
	return b.path
}

// beaconBinary returns a `beacon` binary: $BEACON_SOAK_BIN when set (make
// soak builds it first), otherwise one built once for this test process.
func beaconBinary(t *testing.T) string { return beaconBuild.binary(t) }

func TestMain(m *testing.M) {
	if op := os.Getenv(keyringHelperEnv); op != "" {
		// A child reaching a nested keyring (this process's session bus
		// is the shared one): see keyringHelper.
		os.Exit(keyringHelper(op))
	}
	code := pgtest.Main(m) // stops the PostgreSQL server, if a test started one
	for _, b := range builds {
		if b.dir != "" {
			os.RemoveAll(b.dir)
		}
	}
	os.Exit(code)
}

// realKeyring returns the session's keyring (scripts/session.sh), or skips
// when there is none outside that session.
func realKeyring(t *testing.T) storage.Secrets {
	t.Helper()
	testenv.Keyring(t)
	return storage.NewKeyring(storage.KeyringService, 10*time.Second)
}

// simTarget is a simulator: in this process (*m365sim.Server) or the
// cmd/m365sim binary (*simProcess).
type simTarget interface {
	TokenEndpoint() string
	GraphEndpoint() string
	ClientCredentialsApp() (clientID, secret string)
}

var _ simTarget = (*m365sim.Server)(nil)

// ccConnection writes a configuration with one Client Credentials
// connection to the simulator, its secret in the keyring.
func ccConnection(t *testing.T, dir string, sim simTarget, keys storage.Secrets, name string) storage.Connection {
	t.Helper()
	clientID, secret := sim.ClientCredentialsApp()
	conn := storage.Connection{ID: storage.NewID(), Name: name, SourceType: storage.SourceMicrosoft365, Cloud: "Custom",
		TokenEndpoint: sim.TokenEndpoint(), ClientID: clientID, AuthFlow: storage.FlowClientCredentials,
		GraphEndpoint: sim.GraphEndpoint(), HasClientSecret: true}
	if err := keys.Set(conn.ID, storage.SecretClientSecret, secret); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = keys.Delete(conn.ID, storage.SecretClientSecret) })
	if err := storage.NewConfigStore(dir).Update(func(c *storage.Config) error {
		c.Connections = append(c.Connections, conn)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return conn
}

// beaconCmd is `beacon --config-dir dir args...` with a private TMPDIR.
func beaconCmd(ctx context.Context, t *testing.T, dir, tmp string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, beaconBinary(t), append([]string{"--config-dir", dir}, args...)...)
	env := []string{"TMPDIR=" + tmp, "TZ=UTC"}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "TMPDIR=") {
			env = append(env, kv)
		}
	}
	cmd.Env = env
	return cmd
}

// schedulerCmd is `beacon scheduler` on a clock 30 times faster than real
// time (an every-minute schedule fires every 2 s), with the environment
// of beaconCmd, or with env for the keyring and bus when env is not nil.
func schedulerCmd(ctx context.Context, t *testing.T, dir, tmp string, env []string) *exec.Cmd {
	cmd := beaconCmd(ctx, t, dir, tmp, "scheduler")
	if env != nil {
		for _, kv := range cmd.Env {
			if strings.HasPrefix(kv, "TMPDIR=") || strings.HasPrefix(kv, "TZ=") {
				env = append(env, kv)
			}
		}
		cmd.Env = env
	}
	cmd.Env = append(cmd.Env, "BEACON_SCHEDULER_CLOCK="+time.Date(2026, 6, 10, 5, 59, 50, 0, time.UTC).Format(time.RFC3339)+"*30")
	return cmd
}
