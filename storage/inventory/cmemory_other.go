//go:build !linux || !cgo

package inventory

// releaseCMemory: other systems' allocators return memory on their own
// (see cmemory_linux.go).
func releaseCMemory() {}
