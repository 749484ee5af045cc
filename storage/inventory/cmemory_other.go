//go:build !linux || !cgo

package inventory

// releaseCMemory: other systems' allocators return memory on their own
// (see cmemory_linux.go).
func releaseCMemory() {}

// SQLiteMemory is not measured on other systems (see cmemory_linux.go).
func SQLiteMemory(reset bool) (used, highwater int64) { return 0, 0 }
