//go:build unix

package storage

import "os"

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// replaceFile renames tmp over dst; on Unix the rename is atomic even while
// readers have dst open.
func replaceFile(tmp, dst string) error { return os.Rename(tmp, dst) }
