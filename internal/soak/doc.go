// Package soak holds the reliability and security campaign of issue 8 as
// tests: faults from Graph, kill -9 of imports and of configuration saves,
// the secret scan, and the load of the scheduler. Every test runs a short
// version (seconds) in `make test`; with BEACON_SOAK=1 (set by `make soak`)
// it runs at full size, scaled by BEACON_SOAK_SCALE. Each test prints its
// figures as lines starting with "FIGURE", which scripts/soak.sh collects.
package soak
